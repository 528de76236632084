import { describe, expect, test } from "bun:test"
import * as JsonBytes from "./JsonBytes.ts"
import * as Seeded from "./Seeded.fixture.ts"

/** What the printer must match, byte for byte. */
const viaString = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v, null, 2) + "\n")

const same = (v: unknown) => expect(Buffer.from(JsonBytes.pretty(v)).equals(Buffer.from(viaString(v)))).toBe(true)

/** Every code unit class the UTF-8 encoding and JSON's escapes treat apart. */
const awkward = [
  "",
  "plain ascii",
  '"quoted" and \\back\\slashed/',
  "\b\f\n\r\t",
  Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join(""),
  "\x7f\x80\xff",
  "\u07ff\u0800\uffff\u2028\u2029",
  "é ü 漢字 🙂 𝄞",
  "\ud800", // lone high at the end
  "a\udc00b", // lone low
  "\ud800\ud800\udc00", // high, then a pair
  "\udbff\udfff",
  "\udc00\ud800" // low before high: two lone ones
]

const arbitrary = (next: () => number, depth: number): unknown => {
  const r = next()
  if (depth > 4 || r < 0.35) {
    const k = Math.floor(next() * 8)
    if (k === 0) return null
    if (k === 1) return next() < 0.5
    if (k === 2) return (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20)
    if (k === 3) return Math.floor(next() * 1e6)
    return Array.from({ length: Math.floor(next() * 12) }, () => String.fromCharCode(Math.floor(next() ** 3 * 0x10000))).join("")
  }
  const n = Math.floor(next() * 5)
  if (r < 0.65) return Array.from({ length: n }, () => arbitrary(next, depth + 1))
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [next() < 0.2 ? String(i) : (arbitrary(next, 9) as string | number | boolean | null) + "", arbitrary(next, depth + 1)]))
}

describe("JsonBytes.pretty", () => {
  test("prints every kind of string as JSON.stringify does, in UTF-8", () => {
    for (const s of awkward) same(s)
    same({ [awkward.join("")]: awkward })
  })

  test("prints numbers, literals and empty containers as JSON.stringify does", () => {
    same([0, -0, 1, -1.5, 0.1, 1e21, 1e-7, 123456789012345680000, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, NaN, Infinity, -Infinity])
    same([true, false, null, [], {}, [[]], [{}], { a: [] }, { a: {} }])
    same({ nested: { deeper: { deepest: [1, [2, [3, { four: 4 }]]] } } })
  })

  test("leaves out what JSON leaves out, and prints null where an array cannot", () => {
    const f = () => 1
    same({ a: undefined, b: f, c: Symbol("s"), d: 1 })
    same({ a: undefined })
    same([undefined, f, Symbol("s"), 1])
    same({ [Symbol("key")]: 1, e: 2 })
  })

  test("orders keys as JSON does (integer-like first) and calls toJSON with the key", () => {
    same({ b: 1, 2: "two", a: 2, 1: "one", "-1": 3, "01": 4 })
    const seen: Array<string> = []
    const v = { at: new Date(0), custom: { toJSON: (k: string) => (seen.push(k), { k }) }, list: [{ toJSON: (k: string) => k }] }
    same(v)
    seen.length = 0
    JsonBytes.pretty(v)
    // Called with its key; once per pass (the count, then the write).
    expect(seen).toEqual(["custom", "custom"])
  })

  test("unboxes Number, String and Boolean objects", () => {
    same([new Number(3), new String("s"), new Boolean(false), { n: new Number(NaN) }])
  })

  test("matches JSON.stringify on 2,000 arbitrary values", () => {
    const next = Seeded.seeded(42)
    for (let i = 0; i < 2000; i++) same(arbitrary(next, 0))
  })

  test("matches on a collection shaped like a large catalog's", () => {
    const links = Array.from({ length: 5000 }, (_, i) => ({ rel: "item", href: `s3://bucket/prefix/item-${i}/item-${i}.json`, type: "application/json" }))
    same({ type: "Collection", id: "c", stac_version: "1.0.0", description: "d", extent: { spatial: { bbox: [[-180, -90, 180, 90]] }, temporal: { interval: [["2020-01-01T00:00:00Z", null]] } }, links })
  })

  test("throws where JSON.stringify throws, and for a value it prints nothing for", () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => JsonBytes.pretty(cyclic)).toThrow(TypeError)
    expect(() => JsonBytes.pretty({ n: 1n })).toThrow(TypeError)
    expect(() => JsonBytes.pretty(undefined)).toThrow(TypeError)
    // Shared, not cyclic: printed twice.
    const shared = { x: 1 }
    same({ a: shared, b: [shared, shared] })
  })
})
