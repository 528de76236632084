import { describe, expect, test } from "bun:test"
import * as PyJson from "./PyJson.ts"
import * as Seeded from "./Seeded.fixture.ts"

describe("PyJson", () => {
  test("floats as Python's repr (values checked against python3 -c 'json.dumps(...)')", () => {
    const cases: Array<[number, string]> = [
      [1, "1.0"], [1e16, "1e+16"], [1e15, "1000000000000000.0"], [0.0001, "0.0001"], [0.00001, "1e-05"],
      [1.5e20, "1.5e+20"], [-0, "-0.0"], [1e-7, "1e-07"], [123456789.123, "123456789.123"], [5e-324, "5e-324"],
      [1.7976931348623157e308, "1.7976931348623157e+308"], [42.5, "42.5"], [-3.25e-10, "-3.25e-10"]
    ]
    for (const [x, repr] of cases) expect(PyJson.floatRepr(x)).toBe(repr)
  })
  test("numbers keep what Python reads: 1.0 a float, 1e2 a float, big integers exact", () => {
    const v = PyJson.parse('{"a": 1.0, "b": 1, "c": 1e2, "d": 12345678901234567890, "e": -0}')
    expect(PyJson.dump(v)).toBe('{\n  "a": 1.0,\n  "b": 1,\n  "c": 100.0,\n  "d": 12345678901234567890,\n  "e": 0\n}')
    expect(PyJson.plain(v)).toEqual({ a: 1, b: 1, c: 100, d: 12345678901234567000, e: -0 })
  })
  test("json.dump(indent=2, sort_keys=True): layout, empty containers, ASCII-only strings", () => {
    const text = PyJson.dump({ b: "é\u2028\x7f\x01😀/\"\\", a: [], c: {}, d: [{}], e: null, f: true })
    // The text python3 prints for the same value.
    expect(text).toBe(
      '{\n  "a": [],\n  "b": "\\u00e9\\u2028\\u007f\\u0001\\ud83d\\ude00/\\"\\\\",\n  "c": {},\n  "d": [\n    {}\n  ],\n  "e": null,\n  "f": true\n}'
    )
    expect(PyJson.dump([])).toBe("[]")
  })
  test("keys sorted by code point, as Python compares str", () => {
    expect(Object.keys(JSON.parse(PyJson.dump({ "\u{1F600}": 1, "\uFF5E": 2, b: 3, B: 4 })))).toEqual(["B", "b", "\uFF5E", "\u{1F600}"])
  })
  test("strings: every ASCII character as json.dumps writes it, alone and amid plain text", () => {
    const named: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" }
    for (let c = 0; c < 0x80; c++) {
      const ch = String.fromCharCode(c)
      const escaped = named[ch] ?? (c < 0x20 || c === 0x7f ? `\\u${c.toString(16).padStart(4, "0")}` : ch)
      expect(PyJson.stringText(ch)).toBe(`"${escaped}"`)
      expect(PyJson.stringText(`id-${ch}-1`)).toBe(`"id-${escaped}-1"`)
    }
    expect(PyJson.stringText("")).toBe('""')
  })
  test("code point order agrees with comparing code point lists, surrogates anywhere", () => {
    const alphabet = ["a", "b", "Z", "~", "\uFF5E", "\uE000", "\u{1F600}", "\u{10000}", "\u00e9"]
    const random = Seeded.seeded(7)
    // The generator's state itself, an integer (exact: the state over a power of two, times it).
    const next = () => random() * 2147483648
    const word = () => Array.from({ length: next() % 5 }, () => alphabet[next() % alphabet.length]).join("")
    const points = (s: string) => Array.from(s, (c) => c.codePointAt(0)!)
    const reference = (a: string, b: string) => {
      const x = points(a)
      const y = points(b)
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!
      return x.length - y.length
    }
    for (let i = 0; i < 3000; i++) {
      const a = word()
      const b = i % 3 === 0 ? a + word() : word()
      expect(Math.sign(PyJson.compareCodePoints(a, b))).toBe(Math.sign(reference(a, b)))
      expect(Math.sign(PyJson.compareCodePoints(b, a))).toBe(Math.sign(reference(b, a)))
    }
  })
  test("a margin indents every line after the first, as the value nested that deep", () => {
    const value = { id: "x", links: [{ href: "a\nb", rel: "self" }], n: 1.5 }
    expect(PyJson.dump(value, "  ")).toBe(PyJson.dump(value).replaceAll("\n", "\n  "))
    expect(PyJson.dump([value], "")).toBe(PyJson.dump([value]))
  })
})
