import { expect, test } from "bun:test"
import { Visits } from "./Visits.ts"

test("a document is found again by its real path, whether the index numbers it or not", () => {
  // The index numbers only paths under /job; its slots are far apart, as entries of a large tree are.
  const slots = new Map([["/job/a.json", 5], ["/job/b.json", 70000]])
  const visits = new Visits<string>({ slot: (real) => slots.get(real) ?? -1 })
  visits.set("/job/b.json", "B")
  visits.set("/job/a.json", "A")
  visits.set("/elsewhere/c.json", "C")
  expect(["/job/a.json", "/job/b.json", "/elsewhere/c.json", "/job/none.json", "/elsewhere/none.json"].map((p) => visits.get(p))).toEqual(["A", "B", "C", undefined, undefined])
  visits.set("/job/a.json", "A2")
  expect(visits.get("/job/a.json")).toBe("A2")
})
