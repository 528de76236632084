import { describe, expect, test } from "bun:test"
import * as Interned from "./Interned.ts"

describe("Interned.detached", () => {
  // Whether the characters are shared is the engine's affair and not observable here; what must hold is the value.
  test("keeps every path as it is, whatever its slashes and characters", () => {
    const long = "/tmp/job/catalog/items/é 🙂/x.json"
    for (const s of ["", "/", "a", "a/", "/a", "a//b", "items/é 🙂/x.json", long.slice(17), "\ud800/x"]) expect(Interned.detached(s)).toBe(s)
  })
})
