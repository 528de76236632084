import { describe, expect, test } from "bun:test"
import * as SafeName from "./SafeName.ts"
import * as Seeded from "./Seeded.fixture.ts"

describe("SafeName.problem", () => {
  test.each(["pct%.tif", "bad%zz.tif", "a%2Fb.tif", "%41.tif", "caf\u00e9.tif", "cafe\u0301.tif", "\u{1F6F0}\uFE0F.tif", "with space.tif", "q?.tif", "h#.tif", "..a", "a..", "x".repeat(255)])(
    "publishes %p",
    (name) => expect(SafeName.problem(name)).toBeUndefined()
  )
  test.each([
    ["new\nline", "newline"],
    ["cr\r", "carriage return"],
    ["tab\t", "tab"],
    ["del\x7f", "DEL"],
    ["c1\u0085", "U+0085"],
    ["..", '".."'],
    [".", '"."'],
    ["..%2F..%2Ftmp%2Fvictim.txt", "climbing"],
    ["%2e%2e", "climbing"],
    ["%2E%2E", "climbing"],
    ["%zz/%2e%2e%5Cx".slice(4), "climbing"],
    ["..%252F..%252Fx", "climbing"],
    ["..\\x", '".."'],
    ["lone\ud800", "surrogate"],
    ["bad\ufffd", "UTF-8"],
    ["x".repeat(256), "256 bytes"],
    ["", "empty"]
  ])("refuses %p", (name, why) => expect(SafeName.problem(name)).toContain(why))
  test("names of letters, digits, '.', '_' and '-' publish, but for '.' and '..' themselves", () => {
    const chars = ["a", "Z", "0", ".", "_", "-"]
    const names = chars.flatMap((a) => ["", ...chars].flatMap((b) => ["", ...chars].map((c) => a + b + c)))
    for (const name of names) {
      if (name === "." || name === "..") expect(SafeName.problem(name)).toBe(`"${name}" is a "." or ".." path segment`)
      else expect(SafeName.problem(name)).toBeUndefined()
    }
  })
})

describe("SafeName.byteLength", () => {
  test("counts the bytes TextEncoder writes, surrogate pairs and lone surrogates included", () => {
    const encoder = new TextEncoder()
    for (const s of ["", "a.tif", "é", "€uro", "😀", "a😀b", "\ud800", "x\udc00y", "\ud83d", "日本語/ファイル.tif"]) {
      expect(SafeName.byteLength(s)).toBe(encoder.encode(s).length)
    }
  })
})

describe("SafeName.pathProblem", () => {
  // What it must answer: the first segment's problem, segment by segment.
  const bySegment = (relPath: string) => relPath.split("/").map(SafeName.problem).find((p) => p !== undefined)

  test("answers as its segments do, for plain paths and for every near miss", () => {
    const cases = [
      "a", "a/b", "a/b/c.json", "items/x-1/x-1.json", ".", "..", "./a", "a/.", "a/../b", ".a/..b", "a..", "...", "a//b", "/a", "a/",
      "", "x".repeat(255), `${"x".repeat(256)}`, `a/${"x".repeat(255)}`, `a/${"x".repeat(256)}/b`, "a/%2e%2e/b", "a b/c", "a/caf\u00e9", "a/\u0001"
    ]
    for (const c of cases) expect([c, SafeName.pathProblem(c)]).toEqual([c, bySegment(c)])
  })

  test("answers as its segments do on 5,000 arbitrary paths", () => {
    const next = Seeded.seeded(12345)
    const pieces = ["a", "b", ".", "..", "/", "-", "_", "%2e", "%", " ", "\u00e9", "\u0000", "x".repeat(120)]
    for (let i = 0; i < 5000; i++) {
      const path = Seeded.joined(next, pieces, 1, 8)
      expect([path, SafeName.pathProblem(path)]).toEqual([path, bySegment(path)])
    }
  })
})
