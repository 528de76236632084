import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import * as Stac from "./Stac.ts"
import * as StacMigrate from "./StacMigrate.ts"

const migrated = (json: Record<string, unknown>) => {
  const r = StacMigrate.migrate(json)
  if (Either.isLeft(r)) throw new Error(`expected a migration, got: ${r.left.message}`)
  return r.right
}

const refusal = (json: Record<string, unknown>) => {
  const r = StacMigrate.migrate(json)
  if (Either.isRight(r)) throw new Error("expected a refusal")
  return r.left
}

/** A STAC 0.9.0 item as such writers emitted it: short extension ids, eo:gsd, asset bands by index, checksum. */
const item09 = () => ({
  stac_version: "0.9.0",
  stac_extensions: ["eo", "proj", "checksum"],
  type: "Feature",
  id: "scene-1",
  collection: "scenes",
  geometry: { type: "Point", coordinates: [10, 20] },
  bbox: [10, 20, 10, 20],
  properties: {
    datetime: "2020-01-01T00:00:00Z",
    "eo:gsd": 30,
    "eo:cloud_cover": 12.5,
    "proj:epsg": 32633,
    "eo:bands": [
      { name: "B1", common_name: "blue" },
      { name: "B2", common_name: "green" }
    ]
  },
  links: [{ rel: "collection", href: "../collection.json" }],
  assets: { data: { href: "data.tif", "eo:bands": [1], "checksum:multihash": "1220abcd" } }
})

describe("StacMigrate.migrate", () => {
  test("a 1.1.0 document is returned as is, not copied", () => {
    const json = { stac_version: "1.1.0", type: "Catalog", id: "c", description: "d", links: [] }
    const m = migrated(json)
    expect(m.json).toBe(json)
    expect(m.from).toBeUndefined()
  })

  test("1.0.0 only changes the version; eo:bands (deprecated, not removed, in 1.1) is kept", () => {
    const json = { ...item09(), stac_version: "1.0.0", stac_extensions: ["https://stac-extensions.github.io/eo/v1.0.0/schema.json"] }
    const m = migrated(json)
    expect(m.from).toBe("1.0.0")
    expect(m.json).toEqual({ ...json, stac_version: "1.1.0" })
    expect(json.stac_version).toBe("1.0.0") // the input is not modified
  })

  test("0.9.0 item: extension ids become schema URLs, eo:gsd → gsd, asset band indices → bands, checksum → file", () => {
    const input = item09()
    const m = migrated(input)
    expect(m.from).toBe("0.9.0")
    const out = m.json as any
    expect(out.stac_version).toBe("1.1.0")
    expect(out.stac_extensions).toEqual([
      "https://stac-extensions.github.io/eo/v1.0.0/schema.json",
      "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
      "https://stac-extensions.github.io/file/v2.1.0/schema.json"
    ])
    expect(out.properties.gsd).toBe(30)
    expect(out.properties["eo:gsd"]).toBeUndefined()
    expect(out.assets.data["eo:bands"]).toEqual([{ name: "B2", common_name: "green" }])
    expect(out.assets.data["file:checksum"]).toBe("1220abcd")
    expect(out.assets.data["checksum:multihash"]).toBeUndefined()
    expect(StacMigrate.describe(m)).toContain("eo:gsd → gsd")
    expect(Either.isRight(Stac.decode(out))).toBe(true)
    expect(input.properties["eo:gsd"]).toBe(30) // the input is not modified
  })

  test("0.9.0 catalog and collection get their type; commons is dropped; summary ranges are renamed", () => {
    const cat = migrated({ stac_version: "0.9.0", id: "root", description: "d", links: [] })
    expect(cat.json["type"]).toBe("Catalog")
    const coll = migrated({
      stac_version: "0.9.0",
      stac_extensions: ["commons"],
      id: "scenes",
      description: "d",
      license: "proprietary",
      extent: { spatial: { bbox: [[0, 0, 1, 1]] }, temporal: { interval: [["2020-01-01T00:00:00Z", null]] } },
      summaries: { "eo:cloud_cover": { min: 0, max: 40 } },
      links: []
    })
    expect(coll.json["type"]).toBe("Collection")
    expect(coll.json["stac_extensions"]).toEqual([])
    expect(coll.json["summaries"]).toEqual({ "eo:cloud_cover": { minimum: 0, maximum: 40 } })
    expect(Either.isRight(Stac.decode(cat.json))).toBe(true)
    expect(Either.isRight(Stac.decode(coll.json))).toBe(true)
  })

  test("1.0.0-rc.x and 1.0.0-beta.x are migrated; their beta schema URLs become the extension's own", () => {
    const rc = migrated({ stac_version: "1.0.0-rc.2", type: "Catalog", id: "c", description: "d", links: [] })
    expect(rc.from).toBe("1.0.0-rc.2")
    expect(rc.json["stac_version"]).toBe("1.1.0")
    const beta = migrated({
      stac_version: "1.0.0-beta.2",
      stac_extensions: ["https://schemas.stacspec.org/v1.0.0-beta.2/extensions/eo/json-schema/schema.json"],
      type: "Catalog",
      id: "c",
      description: "d",
      links: []
    })
    expect(beta.json["stac_extensions"]).toEqual(["https://stac-extensions.github.io/eo/v1.0.0/schema.json"])
  })

  test("versions older than 0.9.0 are refused, naming the version", () => {
    const r = refusal({ stac_version: "0.8.1", type: "Feature", id: "x" })
    expect(r.path).toBe("$.stac_version")
    expect(r.message).toContain('"0.8.1" is older than 0.9.0')
  })

  test("unknown versions are refused with what is accepted", () => {
    for (const v of ["2.0.0", "1.2.0", "1.0.0-alpha.1", "latest"]) {
      expect(refusal({ stac_version: v }).message).toContain(`unsupported stac_version ${JSON.stringify(v)}`)
    }
  })

  test("a missing or non-string version is left to the schema", () => {
    expect(migrated({ id: "x" }).from).toBeUndefined()
    expect(migrated({ stac_version: 1 }).from).toBeUndefined()
  })
})
