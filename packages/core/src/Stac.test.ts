import { describe, expect, test } from "bun:test"
import { Either, ParseResult, Schema } from "effect"
import * as Stac from "./Stac.ts"

const item = (over: Record<string, unknown> = {}, properties: Record<string, unknown> = {}) => ({
  type: "Feature",
  stac_version: "1.1.0",
  id: "item-1",
  geometry: { type: "Point", coordinates: [10, 20] },
  bbox: [10, 20, 10, 20],
  properties: { datetime: "2024-05-01T12:00:00Z", ...properties },
  links: [{ rel: "self", href: "https://example.com/item-1.json" }],
  assets: { data: { href: "./data.tif", roles: ["data"] } },
  ...over
})

const collection = (over: Record<string, unknown> = {}) => ({
  type: "Collection",
  stac_version: "1.0.0",
  id: "coll",
  description: "a collection",
  license: "CC-BY-4.0",
  extent: {
    spatial: { bbox: [[-180, -90, 180, 90]] },
    temporal: { interval: [["2024-01-01T00:00:00Z", null]] }
  },
  links: [],
  ...over
})

const issues = (json: unknown): ReadonlyArray<Stac.Issue> => {
  const r = Stac.decode(json)
  return Either.isLeft(r) ? r.left : []
}

describe("Stac.decode", () => {
  test("accepts a 1.1.0 item and a 1.0.0 collection and catalog", () => {
    expect(issues(item())).toEqual([])
    expect(issues(collection())).toEqual([])
    expect(issues({ type: "Catalog", stac_version: "1.0.0", id: "root", description: "d", links: [] })).toEqual([])
  })

  test("preserves unknown fields at every level", () => {
    const input = item(
      { "proj:epsg": 4326, links: [{ rel: "via", href: "x.html", "x-extra": [1] }] },
      { "eo:cloud_cover": 3, nested: { a: 1 } }
    )
    const r = Stac.decode(input)
    expect(Either.isRight(r)).toBe(true)
    const decoded = Either.getOrThrow(r) as Record<string, unknown>
    expect(decoded["proj:epsg"]).toBe(4326)
    expect(decoded["properties"]).toEqual({ datetime: "2024-05-01T12:00:00Z", "eo:cloud_cover": 3, nested: { a: 1 } })
    expect(decoded["links"]).toEqual([{ rel: "via", href: "x.html", "x-extra": [1] }])
  })

  test("rejects unsupported stac_version with its path", () => {
    expect(issues(item({ stac_version: "0.9.0" }))).toEqual([
      { path: "$.stac_version", message: 'unsupported stac_version "0.9.0" (supported: 1.0.0, 1.1.0)' }
    ])
  })

  test("null datetime needs start_datetime and end_datetime", () => {
    expect(issues(item({}, { datetime: null, start_datetime: "2024-01-01T00:00:00Z" }))).toEqual([
      { path: "$.properties.datetime", message: "is null, so start_datetime and end_datetime are required (missing: end_datetime)" }
    ])
    expect(
      issues(item({}, { datetime: null, start_datetime: "2024-01-01T00:00:00Z", end_datetime: "2024-01-02T00:00:00Z" }))
    ).toEqual([])
  })

  test("bbox is required with a geometry but not with a null geometry", () => {
    const { bbox: _bbox, ...noBbox } = item()
    expect(issues(noBbox)).toEqual([{ path: "$.bbox", message: "is required when geometry is not null" }])
    expect(issues({ ...noBbox, geometry: null })).toEqual([])
  })

  test("reports every issue at once, with JSON paths", () => {
    const { bbox: _bbox, ...noBbox } = item(
      {
        stac_version: "2.0.0",
        links: [{ rel: "child" }],
        assets: { "my data": { title: "no href" } }
      },
      { datetime: "yesterday" }
    )
    const paths = issues(noBbox).map((i) => i.path)
    expect(paths).toEqual([
      "$.stac_version",
      "$.links[0].href",
      "$.properties.datetime",
      '$.assets["my data"].href',
      "$.bbox"
    ])
    expect(issues(noBbox).find((i) => i.path === "$.properties.datetime")?.message).toContain("RFC 3339")
  })

  test("checks geometry and collection extent", () => {
    expect(issues(item({ geometry: { type: "Point", coordinates: [1] } }))).toEqual([
      { path: "$.geometry.coordinates", message: "Expected an array of at least 2 item(s), actual [1]" }
    ])
    const bad = collection({ license: undefined, extent: { spatial: { bbox: [] }, temporal: { interval: [] } } })
    expect(issues(bad).map((i) => i.path)).toEqual(["$.license", "$.extent.spatial.bbox", "$.extent.temporal.interval"])
  })

  test("dispatches on type and rejects unknown ones", () => {
    expect(issues([])).toEqual([{ path: "$", message: "expected a JSON object" }])
    expect(issues({ type: "FeatureCollection" })[0]?.path).toBe("$.type")
    expect(issues({ id: "x" })[0]?.message).toContain("is missing")
    expect(issues({ type: "Catalog", stac_version: "1.1.0", id: "c", links: [] })).toEqual([
      { path: "$.description", message: "required field is missing" }
    ])
  })
})

describe("Stac.classifyHref", () => {
  test("tells remote URLs, local machine references and relative paths apart", () => {
    expect(Stac.classifyHref("https://x/y")).toEqual({ _tag: "Url", scheme: "https" })
    expect(Stac.classifyHref("S3://bucket/key")).toEqual({ _tag: "Url", scheme: "s3" })
    expect(Stac.classifyHref("file:///etc/passwd")._tag).toBe("FileUrl")
    expect(Stac.classifyHref("/etc/passwd")._tag).toBe("AbsolutePath")
    expect(Stac.classifyHref("C:\\data\\x.tif")._tag).toBe("AbsolutePath")
    expect(Stac.classifyHref("./a%20b.tif")).toEqual({ _tag: "Relative", path: "./a b.tif" })
    expect(Stac.classifyHref("100%.tif")).toEqual({ _tag: "Relative", path: "100%.tif" })
  })

  test("jsonPath uses brackets for odd keys", () => {
    expect(Stac.jsonPath(["links", 2, "href"])).toBe("$.links[2].href")
    expect(Stac.jsonPath(["assets", "a b", "href"])).toBe('$.assets["a b"].href')
  })
})

describe("Stac.decode of a catalog or collection with many links", () => {
  // Its links are checked apart from the schema when each is plainly valid: the verdict,
  // the issues' places and the value must be the schema's over the whole document.
  const options = { errors: "all", onExcessProperty: "preserve" } as const
  const schemaOf = (json: Record<string, unknown>): Either.Either<unknown, ParseResult.ParseError> =>
    json["type"] === "Catalog" ? Schema.decodeUnknownEither(Stac.Catalog, options)(json) : Schema.decodeUnknownEither(Stac.Collection, options)(json)
  const schemaPaths = (json: Record<string, unknown>) => {
    const r = schemaOf(json)
    return Either.isLeft(r) ? ParseResult.ArrayFormatter.formatErrorSync(r.left).map((i) => Stac.jsonPath(i.path)) : []
  }
  const links = Array.from({ length: 5 }, (_, i) => ({ rel: "item", href: `./items/${i}.json`, type: "application/geo+json" }))
  const catalog = { type: "Catalog", stac_version: "1.1.0", id: "cat", description: "a catalog", links }
  const mutants: ReadonlyArray<Record<string, unknown>> = [
    collection({ links }),
    catalog,
    collection({ links, description: undefined, license: 7 }),
    collection({ links, id: "", stac_extensions: [1] }),
    { ...catalog, description: 3 },
    // Not plainly valid: the whole document is the schema's.
    collection({ links: links.map((l, i) => (i === 2 ? { ...l, href: "" } : l)) }),
    { ...catalog, links: [...links, { rel: "child", href: "./c.json", title: 5 }], description: undefined },
    collection({ links: "none" })
  ].map((j) => JSON.parse(JSON.stringify(j)) as Record<string, unknown>)

  test("gives the schema's issues, at the schema's paths, and its value", () => {
    let invalid = 0
    for (const json of mutants) {
      const decoded = Stac.decode(json)
      const expected = schemaPaths(json)
      expect({ json, paths: Either.isLeft(decoded) ? decoded.left.map((i) => i.path) : [] }).toEqual({ json, paths: expected })
      if (expected.length > 0) invalid++
      else expect(Either.getOrThrow(decoded) as unknown).toEqual(Either.getOrThrow(schemaOf(json)))
    }
    // Two valid, six invalid (three through a bad link): the test sees both verdicts.
    expect(invalid).toBe(6)
  })
})

describe("Stac.isPlainValidItem (decode's fast path)", () => {
  const schemaAccepts = (json: unknown) => Either.isRight(Schema.decodeUnknownEither(Stac.Item, { errors: "all", onExcessProperty: "preserve" })(json))
  const values: ReadonlyArray<unknown> = [undefined, null, "", "x", 0, 1.5, true, [], [1], [1, 2], [1, 2, 3, 4], [1, 2, 3, 4, 5, 6], ["a"], {}, { href: "" }, "2024-05-01T12:00:00Z", "2024-13-45T12:00:00Z"]
  /** Every field the schema declares, each set to every value above (or removed). */
  const mutants = (): Array<Record<string, unknown>> => {
    const out: Array<Record<string, unknown>> = []
    const paths: ReadonlyArray<ReadonlyArray<string | number>> = [
      ["type"], ["stac_version"], ["stac_extensions"], ["id"], ["links"], ["links", 0], ["links", 0, "href"], ["links", 0, "rel"], ["links", 0, "type"], ["links", 0, "title"],
      ["geometry"], ["geometry", "type"], ["geometry", "coordinates"], ["geometry", "coordinates", 0], ["bbox"], ["bbox", 0],
      ["properties"], ["properties", "datetime"], ["properties", "start_datetime"], ["properties", "end_datetime"],
      ["assets"], ["assets", "data"], ["assets", "data", "href"], ["assets", "data", "type"], ["assets", "data", "title"], ["assets", "data", "description"], ["assets", "data", "roles"], ["assets", "data", "roles", 0],
      ["collection"]
    ]
    for (const p of paths) {
      for (const v of values) {
        const json = structuredClone(item({ collection: "c" })) as Record<string, unknown>
        let at: Record<string | number, unknown> = json
        for (const k of p.slice(0, -1)) at = at[k] as Record<string | number, unknown>
        if (v === undefined) delete at[p[p.length - 1]!]
        else at[p[p.length - 1]!] = v
        out.push(json)
      }
    }
    const polygon = { type: "Polygon", coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] }
    for (const geometry of [polygon, { ...polygon, coordinates: [[[0, 0], [1, 0], [0, 0]]] }, { type: "MultiPolygon", coordinates: [polygon.coordinates] }, { type: "LineString", coordinates: [[0, 0]] }, { type: "GeometryCollection", geometries: [] }]) {
      out.push(item({ geometry }))
    }
    out.push(item({}, { datetime: null, start_datetime: "2024-01-01T00:00:00Z", end_datetime: "2024-02-01T00:00:00Z" }))
    out.push(item({}, { datetime: null, start_datetime: "2024-01-01T00:00:00Z" }))
    out.push(item({ geometry: null, bbox: undefined }))
    return out
  }

  test("says valid only for items the Item schema accepts, and decode gives the schema's verdict", () => {
    let fast = 0
    let accepted = 0
    for (const json of mutants()) {
      if (schemaAccepts(json)) accepted++
      if (Stac.isPlainValidItem(json)) {
        fast++
        expect({ json, accepted: schemaAccepts(json) }).toEqual({ json, accepted: true })
      }
      // In range everywhere, so decode accepts exactly what the schema accepts.
      expect({ json, decoded: Either.isRight(Stac.decode(json)) }).toEqual({ json, decoded: schemaAccepts(json) })
    }
    // The fast path is taken for every accepted item but the GeometryCollection one (so this test can fail).
    expect(accepted).toBeGreaterThan(50)
    expect(fast).toBe(accepted - 1)
  }, 60_000) // some 500 Schema decodes: room for a loaded machine
})
