import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import * as DynamicMapping from "./DynamicMapping.ts"

/** Parses docs in order into one mapping, as successive bulk requests would. */
const feed = (docs: ReadonlyArray<Record<string, unknown>>, options: Partial<DynamicMapping.Options> = {}) => {
  const mapping = new Map<string, DynamicMapping.FieldType>()
  const results: Array<string | null> = []
  docs.forEach((doc, i) => {
    const r = DynamicMapping.parse(mapping, `doc${i}`, doc, { ...DynamicMapping.defaults, ...options })
    if (Either.isRight(r)) {
      for (const [k, v] of r.right) mapping.set(k, v)
      results.push(null)
    } else results.push(r.left)
  })
  return { mapping, results }
}

describe("DynamicMapping", () => {
  test("first document fixes object vs value", () => {
    const { results } = feed([{ metadata: { quality: { score: 1 } } }, { metadata: { quality: "good" } }])
    expect(results[1]).toBe(
      "mapper_parsing_exception: object mapping for [metadata.quality] tried to parse field [quality] as object, but found a concrete value"
    )
    const reverse = feed([{ metadata: { quality: 3 } }, { metadata: { quality: { score: 1 } } }])
    expect(reverse.results[1]).toContain("failed to parse field [metadata.quality] of type [long] in document with id 'doc1'")
  })

  test("types of first values: long, float, boolean, text, date", () => {
    const { mapping } = feed([{ a: 1, b: 1.5, c: true, d: "word", e: "2020-01-02T03:04:05Z", f: "2020/01/02" }])
    expect(Object.fromEntries(mapping)).toEqual({ a: "long", b: "float", c: "boolean", d: "text", e: "date", f: "date" })
  })

  test("coercion as ES: text takes anything concrete, numbers take numeric strings", () => {
    const { results } = feed([
      { t: "x", n: 1, b: false, d: "2021-05-01" },
      { t: 12, n: "42", b: "true", d: 1_600_000_000_000 },
      { t: true, n: 2.5, b: "", d: "2021-05-01T10:00" }
    ])
    expect(results).toEqual([null, null, null])
  })

  test("values a mapped type cannot parse are rejected", () => {
    expect(feed([{ n: 1 }, { n: "abc" }]).results[1]).toContain("of type [long]")
    expect(feed([{ n: 1 }, { n: true }]).results[1]).toContain("of type [long]")
    expect(feed([{ b: true }, { b: 1 }]).results[1]).toContain("of type [boolean]")
    expect(feed([{ d: "2020-01-01" }, { d: "N/A" }]).results[1]).toContain("of type [date]")
  })

  test("date detection can be turned off", () => {
    const { results, mapping } = feed([{ d: "2020-01-01" }, { d: "N/A" }], { dateDetection: false })
    expect(results).toEqual([null, null])
    expect(mapping.get("d")).toBe("text")
  })

  test("strings that only resemble dates stay text", () => {
    expect(feed([{ a: "2020" }, { b: "2020-13-01" }, { c: "v2020-01-01" }]).mapping.get("b")).toBe("text")
    expect(feed([{ a: "2020" }]).mapping.get("a")).toBe("text")
  })

  test("arrays are flattened and each element must fit; null and [] set nothing", () => {
    expect(feed([{ a: [1, 2, 3] }, { a: 4 }]).results).toEqual([null, null])
    expect(feed([{ a: [1, { x: 1 }] }]).results[0]).toContain("[a]")
    const { mapping, results } = feed([{ a: null, b: [] }, { a: { x: 1 }, b: "s" }])
    expect(results).toEqual([null, null])
    expect(mapping.get("a")).toBe("object")
    expect(mapping.get("b")).toBe("text")
  })

  test("GeoJSON locations of different shapes fit one mapping", () => {
    const point = { type: "Point", coordinates: [1, 2] }
    const polygon = { type: "Polygon", coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] }
    expect(feed([{ location: point }, { location: polygon }]).results).toEqual([null, null])
  })

  test("dotted keys are object paths", () => {
    const { results, mapping } = feed([{ "metadata.a.b": 1 }, { metadata: { a: 2 } }])
    expect(mapping.get("metadata.a")).toBe("object")
    expect(mapping.get("metadata.a.b")).toBe("long")
    expect(results[1]).toContain("object mapping for [metadata.a]")
    expect(feed([{ a: 1 }, { "a.b": 1 }]).results[1]).toContain("Existing mapping for [a] must be of type object")
    expect(feed([{ "a..b": 1 }]).results[0]).toContain("ambiguous")
  })

  test("metadata.context is not parsed (GRQ maps it enabled: false)", () => {
    expect(feed([{ metadata: { context: { a: 1 } } }, { metadata: { context: { a: { deep: true } } } }]).results).toEqual([
      null,
      null
    ])
    expect(feed([{ metadata: { context: "text" } }, { metadata: { context: [1, { x: 2 }] } }]).results).toEqual([
      null,
      null
    ])
  })

  test("metadata fields and empty names are refused", () => {
    expect(feed([{ _id: "x" }]).results[0]).toContain("[_id] is a metadata field")
    expect(feed([{ nested: { _id: "fine below the top" } }]).results[0]).toBeNull()
    expect(feed([{ "": 1 }]).results[0]).toContain("empty string")
  })

  test("total fields limit counts objects, fields, and keyword sub-fields of strings", () => {
    const { results, mapping } = feed([{ a: 1, b: "x" }, { c: { d: 1 } }], { totalFieldsLimit: 4 })
    expect(results[0]).toBeNull()
    expect(DynamicMapping.totalFields(mapping)).toBe(3)
    expect(results[1]).toBe("illegal_argument_exception: Limit of total fields [4] has been exceeded while adding new fields [2]")
  })

  test("a rejected document adds nothing (its updates are returned only on success)", () => {
    const mapping = new Map<string, DynamicMapping.FieldType>([["q", "long"]])
    const r = DynamicMapping.parse(mapping, "x", { fresh: 1, q: "no" })
    expect(Either.isLeft(r)).toBe(true)
    expect(mapping.has("fresh")).toBe(false)
  })
})
