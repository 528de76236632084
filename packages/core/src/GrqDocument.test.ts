import { describe, expect, test } from "bun:test"
import * as GrqDocument from "./GrqDocument.ts"
import * as PyJson from "./PyJson.ts"

const entry = { ipath: "hysds::data/area_of_interest", dataset: "area_of_interest", type: "area_of_interest", level: "l0" }
const now = new Date("2026-01-02T03:04:05.678Z")

describe("GrqDocument.classic", () => {
  const built = GrqDocument.classic({
    id: "AOI_x",
    entry,
    datasetJson: {
      version: "v2.0",
      label: "AOI x",
      starttime: "2020-01-01T00:00:00Z",
      endtime: "2020-01-11T13:00:00Z",
      location: { type: "Polygon", coordinates: [[[0, 0], [10, 0], [10, 4], [0, 4], [0, 0]]] },
      dataset_type: "overridden"
    },
    met: { quality: 3 },
    urls: ["https://x/AOI_x"],
    browseUrls: ["https://b/AOI_x"],
    images: [{ img: "a.browse.png", small_img: "a.browse_small.png", tooltip: "a" }],
    prov: { wasGeneratedBy: "task" },
    now
  })
  const record = built.record
  test("index name from version and dataset, lower-cased; index.suffix wins", () => {
    expect(record.index).toBe("grq_v2.0_area_of_interest")
    expect(GrqDocument.indexName({ ...entry, index: { suffix: "Custom" } }, "v1")).toBe("grq_custom")
    expect(GrqDocument.indexName({ ...entry, index: { aliases: ["x"] } }, "V1")).toBe("grq_v1_area_of_interest")
  })
  test("fixed fields, then dataset.json merged over them", () => {
    expect(record.doc).toMatchObject({
      id: "AOI_x",
      objectid: "AOI_x",
      metadata: { quality: 3 },
      dataset: "area_of_interest",
      ipath: "hysds::data/area_of_interest",
      system_version: "v2.0",
      version: "v2.0",
      dataset_level: "l0",
      dataset_type: "overridden",
      label: "AOI x",
      prov: { wasGeneratedBy: "task" },
      browse_urls: ["https://b/AOI_x"],
      images: [{ img: "a.browse.png", small_img: "a.browse_small.png", tooltip: "a" }],
      grq_index_result: { index: null }
    })
  })
  test("GRQ additions: @timestamp with microseconds, lower-cased type, centroid center, temporal_span", () => {
    expect(record.doc["@timestamp"]).toBe("2026-01-02T03:04:05.678000Z")
    expect(record.doc.location).toEqual({ type: "polygon", coordinates: [[[0, 0], [10, 0], [10, 4], [0, 4], [0, 0]]] })
    expect(record.doc.center).toEqual({ type: "point", coordinates: [5, 2] })
    // 10 days 13 hours: grq2 counts a remainder of 12 h or more as a day.
    expect(record.doc.temporal_span).toBe(11)
  })
  test("the _datasets.json form: no @timestamp, no center, location as given", () => {
    expect(built.update["@timestamp"]).toBeUndefined()
    expect(built.update.center).toBeUndefined()
    expect((built.update.location as { type: string }).type).toBe("Polygon")
    expect(built.update.grq_index_result).toEqual({ index: null })
    expect("index" in built.update).toBe(false)
  })
  test("an entry's index object: in the update and grq_index_result, not in the stored doc; aliases on the record", () => {
    const index = { suffix: "S1-IFG_v2", aliases: ["grq", "ifg_latest"] }
    const b = GrqDocument.classic({
      id: "P",
      entry: { ...entry, index },
      datasetJson: { version: "v2" },
      met: {},
      urls: [],
      browseUrls: [],
      images: [],
      prov: undefined,
      now
    })
    expect(b.record.index).toBe("grq_s1-ifg_v2")
    expect(b.record.aliases).toEqual(["grq", "ifg_latest"])
    expect(b.update.index).toEqual(index)
    expect(b.update.grq_index_result).toEqual({ index })
    expect("index" in b.record.doc).toBe(false)
    expect(b.record.doc.grq_index_result).toEqual({ index })
    expect(b.record.doc.center).toBeUndefined()
    expect(b.record.doc.temporal_span).toBeUndefined()
  })
  test("a center given in dataset.json is kept (even null), as grq2 keeps it", () => {
    const b = GrqDocument.classic({
      id: "P",
      entry,
      datasetJson: { version: "v2", location: { type: "point", coordinates: [1, 2] }, center: null },
      met: {},
      urls: [],
      browseUrls: [],
      images: [],
      prov: {},
      now
    })
    expect(b.record.doc.center).toBeNull()
    expect(b.record.doc.location).toEqual({ type: "point", coordinates: [1, 2] })
  })
  test("PyNumbers in the update, plain numbers in the stored doc", () => {
    const parsed = PyJson.parse('{"version": "v1", "ratio": 1.0, "n": 2}') as Record<string, unknown> & { version: string }
    const b = GrqDocument.classic({ id: "P", entry, datasetJson: parsed, met: {}, urls: [], browseUrls: [], images: [], prov: {}, now })
    expect(b.record.doc.ratio).toBe(1)
    expect(PyJson.dump(b.update)).toContain('"ratio": 1.0,')
    expect(PyJson.dump(b.update)).toContain('"n": 2,')
  })
})

describe("GrqDocument.images", () => {
  const names = ["x.h5", "b.browse.png", "a.browse.png", "a.browse_small.png", "c_browse.png", ".hidden.browse.png", "b.browse.png.txt"]
  test("one record per *browse.png, by name; small_img null without its *browse_small.png; basenames", () => {
    expect(GrqDocument.images(names)).toEqual([
      { img: "a.browse.png", small_img: "a.browse_small.png", tooltip: "a" },
      { img: "b.browse.png", small_img: null, tooltip: "b" },
      { img: "c_browse.png", small_img: null, tooltip: "" }
    ])
  })
  test("ordered by sort_order: the first pattern an image matches, unmatched last", () => {
    const order = [/^c/, /^b/].map((r) => (n: string) => r.test(n))
    expect(GrqDocument.images(names, order).map((i) => i.img)).toEqual(["c_browse.png", "b.browse.png", "a.browse.png"])
  })
})

describe("GrqDocument.utc and timestamp", () => {
  test("sub-second digits kept as given, offsets moved to UTC", () => {
    expect(GrqDocument.utc("2024-01-01T00:00:00.123456Z")).toBe("2024-01-01T00:00:00.123456Z")
    expect(GrqDocument.utc("2024-01-01T01:30:00.5+01:30")).toBe("2024-01-01T00:00:00.5Z")
    expect(GrqDocument.utc("2024-01-01T00:00:00+00:00")).toBe("2024-01-01T00:00:00Z")
    expect(GrqDocument.utc("2024-12-31T23:00:00-02:00")).toBe("2025-01-01T01:00:00Z")
    expect(GrqDocument.utc("2024-13-01T00:00:00Z")).toBeUndefined()
    expect(GrqDocument.utc("not a date")).toBeUndefined()
    expect(GrqDocument.utc(null)).toBeUndefined()
  })
  test("@timestamp has six fraction digits", () => {
    expect(GrqDocument.timestamp(new Date("2024-01-01T00:00:00Z"))).toBe("2024-01-01T00:00:00.000000Z")
  })
  test("temporal_span as grq2: absolute, remainder >= 12 h rounds up, offsets taken in UTC", () => {
    expect(GrqDocument.temporalSpan("2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z")).toBe(1)
    expect(GrqDocument.temporalSpan("2024-01-01T00:00:00Z", "2024-01-01T11:59:59Z")).toBe(0)
    expect(GrqDocument.temporalSpan("2024-01-01T00:00:00Z", "2024-01-01T12:00:00Z")).toBe(1)
    expect(GrqDocument.temporalSpan("2024-01-01", "2024/01/03 00:00:00")).toBe(2)
    expect(GrqDocument.temporalSpan("2024-01-01T00:00:00+02:00", "2024-01-01T22:00:00Z")).toBe(1)
    expect(GrqDocument.temporalSpan("x", "2024-01-01")).toBeUndefined()
  })
})

describe("GrqDocument.stacItem", () => {
  const item = {
    type: "Feature",
    id: "scene-1",
    geometry: { type: "Point", coordinates: [1, 2] },
    properties: { datetime: null, start_datetime: "2024-01-01T00:00:00.123456+00:00", end_datetime: "2024-01-03T12:00:00-02:00" },
    assets: { thumb: { href: "https://d/c/scene-1/thumb.png", roles: ["thumbnail"] }, data: { href: "https://d/c/scene-1/x.tif" } }
  }
  const r = GrqDocument.stacItem({ item, collection: "coll", entry, version: "stac_catalog", urls: ["https://d/c/scene-1"], prov: undefined, now }).record
  test("core fields never missing, version set", () => {
    expect(r.id).toBe("scene-1")
    expect(r.doc).toMatchObject({ id: "scene-1", version: "stac_catalog", system_version: "stac_catalog", dataset: "area_of_interest", stac_collection: "coll", stac_item_id: "scene-1", location: { type: "point", coordinates: [1, 2] }, prov: {}, grq_index_result: { index: null } })
    expect(r.doc.center).toEqual({ type: "point", coordinates: [1, 2] })
  })
  test("timestamps normalized to UTC Z keeping sub-second digits, never +00:00Z", () => {
    expect(r.doc.starttime).toBe("2024-01-01T00:00:00.123456Z")
    expect(r.doc.endtime).toBe("2024-01-03T14:00:00Z")
    expect(r.doc.creation_timestamp).toBe("2026-01-02T03:04:05.678000Z")
    expect(JSON.stringify(r.doc)).not.toContain("+00:00Z")
  })
  test("thumbnails become images as HySDS records them: file names, their directory in browse_urls", () => {
    expect(r.doc.images).toEqual([{ img: "thumb.png", small_img: "thumb.png", tooltip: "thumb" }])
    expect(r.doc.browse_urls).toEqual(["https://d/c/scene-1"])
    expect((r.doc.metadata as { assets: unknown }).assets).toEqual(item.assets)
  })
  test("no thumbnail: images and browse_urls empty", () => {
    const b = GrqDocument.stacItem({ item: { ...item, assets: {} }, collection: "coll", entry, version: "v", urls: ["u"], prov: {}, now })
    expect(b.record.doc.images).toEqual([])
    expect(b.record.doc.browse_urls).toEqual([])
  })
})
