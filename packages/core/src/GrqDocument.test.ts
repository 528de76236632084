import { describe, expect, test } from "bun:test"
import * as GrqDocument from "./GrqDocument.ts"

const entry = { ipath: "hysds::data/area_of_interest", dataset: "area_of_interest", type: "area_of_interest", level: "l0" }
const now = new Date("2026-01-02T03:04:05.000Z")

describe("GrqDocument.classic", () => {
  const record = GrqDocument.classic({
    id: "AOI_x",
    entry,
    datasetJson: {
      version: "v2.0",
      label: "AOI x",
      starttime: "2020-01-01T00:00:00Z",
      endtime: "2020-01-11T00:00:00Z",
      location: { type: "Polygon", coordinates: [[[0, 0], [10, 0], [10, 4], [0, 4], [0, 0]]] },
      dataset_type: "overridden"
    },
    met: { quality: 3 },
    urls: ["https://x/AOI_x"],
    browseUrls: ["https://b/AOI_x"],
    images: [{ img: "https://b/AOI_x/a.browse.png", small_img: "https://b/AOI_x/a.browse_small.png", tooltip: "a" }],
    prov: { wasGeneratedBy: "task" },
    now
  })
  test("index name from version and dataset, lower-cased", () => {
    expect(record.index).toBe("grq_v2.0_area_of_interest")
    expect(GrqDocument.indexName({ ...entry, indexSuffix: "Custom" }, "v1")).toBe("grq_custom")
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
      prov: { wasGeneratedBy: "task" }
    })
  })
  test("GRQ additions: @timestamp, center, temporal_span", () => {
    expect(record.doc["@timestamp"]).toBe("2026-01-02T03:04:05.000Z")
    expect(record.doc.center).toEqual({ type: "Point", coordinates: [5, 2] })
    expect(record.doc.temporal_span).toBe(10)
  })
})

describe("GrqDocument.stacItem", () => {
  const item = {
    type: "Feature",
    id: "scene-1",
    geometry: { type: "Point", coordinates: [1, 2] },
    properties: { datetime: null, start_datetime: "2024-01-01T00:00:00+00:00", end_datetime: "2024-01-03T12:00:00-02:00" },
    assets: { thumb: { href: "https://d/c/scene-1/thumb.png", roles: ["thumbnail"] }, data: { href: "https://d/c/scene-1/x.tif" } }
  }
  const r = GrqDocument.stacItem({ item, collection: "coll", entry, version: "stac_catalog", urls: ["https://d/c/scene-1"], prov: undefined, now })
  test("core fields never missing, version set", () => {
    expect(r.id).toBe("scene-1")
    expect(r.doc).toMatchObject({ id: "scene-1", version: "stac_catalog", system_version: "stac_catalog", dataset: "area_of_interest", stac_collection: "coll", stac_item_id: "scene-1", location: item.geometry, prov: {} })
  })
  test("timestamps normalized to UTC Z, never +00:00Z", () => {
    expect(r.doc.starttime).toBe("2024-01-01T00:00:00.000Z")
    expect(r.doc.endtime).toBe("2024-01-03T14:00:00.000Z")
    expect(r.doc.creation_timestamp).toBe("2026-01-02T03:04:05.000Z")
    expect(JSON.stringify(r.doc)).not.toContain("+00:00Z")
  })
  test("thumbnails become images and metadata keeps properties and assets", () => {
    expect(r.doc.images).toEqual([{ img: "https://d/c/scene-1/thumb.png", small_img: "https://d/c/scene-1/thumb.png", tooltip: "thumb" }])
    expect((r.doc.metadata as { assets: unknown }).assets).toEqual(item.assets)
  })
})
