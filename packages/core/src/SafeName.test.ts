import { describe, expect, test } from "bun:test"
import * as SafeName from "./SafeName.ts"

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
