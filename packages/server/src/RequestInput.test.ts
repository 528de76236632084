import { describe, expect, test } from "bun:test"
import * as RequestInput from "./RequestInput.ts"

describe("escape: request input as it may be echoed and logged", () => {
  test("plain text is unchanged", () => {
    expect(RequestInput.escape("/v1/ingests/abc-123")).toBe("/v1/ingests/abc-123")
    expect(RequestInput.escape("/jobs/été/日本")).toBe("/jobs/été/日本")
  })
  test("control characters are escaped, and so is the backslash that introduces an escape", () => {
    expect(RequestInput.escape("a\nb\rc\td")).toBe("a\\nb\\rc\\td")
    expect(RequestInput.escape("\u001b[31mred\u0000\u007f")).toBe("\\x1b[31mred\\x00\\x7f")
    expect(RequestInput.escape("\u0085\u2028\u202e")).toBe("\\u0085\\u2028\\u202e")
    expect(RequestInput.escape("C:\\n")).toBe("C:\\\\n")
  })
  test("bounded: a long input is cut, saying how much was left out", () => {
    const out = RequestInput.escape("x".repeat(10_000), 100)
    expect(out.length).toBeLessThan(140)
    expect(out).toStartWith("x".repeat(100))
    expect(out).toContain("9900 more")
  })
  test("never redacted: a secret-looking input comes back as is", () => {
    expect(RequestInput.escape("/password=hunter22")).toBe("/password=hunter22")
  })
})

describe("Verbatim", () => {
  test("holds the escaped text", () => {
    const v = RequestInput.verbatim("a\nb")
    expect(v).toBeInstanceOf(RequestInput.Verbatim)
    expect(v.text).toBe("a\\nb")
    expect(JSON.stringify({ v })).toBe('{"v":"a\\\\nb"}')
  })
})
