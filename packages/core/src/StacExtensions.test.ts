import { describe, expect, test } from "bun:test"
import * as StacExtensions from "./StacExtensions.ts"

const url = (name: string, version: string) => `https://stac-extensions.github.io/${name}/${version}/schema.json`

const item = (extensions: ReadonlyArray<string>, properties: Record<string, unknown>, asset: Record<string, unknown> = {}) => ({
  type: "Feature",
  stac_version: "1.1.0",
  stac_extensions: extensions,
  id: "i",
  properties: { datetime: "2024-01-01T00:00:00Z", ...properties },
  assets: { data: { href: "data.tif", ...asset } }
})

/** One valid use of every field group of each checked extension. */
const VALID: ReadonlyArray<readonly [string, string, Record<string, unknown>, Record<string, unknown>?]> = [
  ["eo", "v1.0.0", { "eo:cloud_cover": 12.5, "eo:bands": [{ name: "B1", common_name: "blue", center_wavelength: 0.48 }] }],
  ["eo", "v1.1.0", { "eo:cloud_cover": 0, "eo:snow_cover": 100, "eo:bands": [{ name: "B1", solar_illumination: 1900 }] }],
  ["eo", "v2.0.0", { "eo:cloud_cover": 3, bands: [{ name: "B1", "eo:common_name": "red", "eo:center_wavelength": 0.66 }] }],
  ["sar", "v1.0.0", { "sar:instrument_mode": "IW", "sar:frequency_band": "C", "sar:polarizations": ["VV", "VH"], "sar:product_type": "GRD", "sar:observation_direction": "right", "sar:looks_range": 5 }],
  ["projection", "v1.0.0", { "proj:epsg": 32633, "proj:shape": [100, 200], "proj:transform": [10, 0, 0, 0, -10, 0], "proj:bbox": [0, 0, 1000, 2000], "proj:centroid": { lat: 45, lon: 10 } }],
  ["projection", "v1.1.0", { "proj:epsg": null, "proj:wkt2": "PROJCS[...]" }],
  ["projection", "v2.0.0", { "proj:code": "EPSG:32633", "proj:geometry": { type: "Point", coordinates: [500000, 4000000] } }],
  ["sat", "v1.0.0", { "sat:orbit_state": "ascending", "sat:relative_orbit": 117, "sat:absolute_orbit": 30000, "sat:anx_datetime": "2024-01-01T00:00:00Z" }],
  ["file", "v2.1.0", {}, { "file:size": 1024, "file:checksum": "1220abcdef", "file:byte_order": "little-endian", "file:local_path": "data.tif" }],
  ["file", "v1.0.0", {}, { "file:size": 0, "file:data_type": "uint16", "file:bits_per_sample": 12 }],
  ["view", "v1.0.0", { "view:off_nadir": 5, "view:incidence_angle": 30, "view:azimuth": 359, "view:sun_azimuth": 120, "view:sun_elevation": -10 }],
  ["raster", "v1.1.0", {}, { "raster:bands": [{ nodata: "nan", data_type: "float32", sampling: "area", statistics: { minimum: 0, maximum: 1, valid_percent: 99 } }] }],
  ["raster", "v2.0.0", {}, { bands: [{ "raster:sampling": "point", "raster:bits_per_sample": 16, "raster:scale": 0.1 }] }]
]

describe("StacExtensions.check", () => {
  for (const [name, version, properties, asset] of VALID) {
    test(`${name} ${version}: valid fields pass`, () => {
      expect(StacExtensions.check(item([url(name, version)], properties, asset))).toEqual({ issues: [], warnings: [] })
    })
  }

  test("a wrong type is an issue with the JSON path of the field and the extension version", () => {
    const r = StacExtensions.check(item([url("eo", "v1.1.0"), url("projection", "v1.1.0")], { "eo:cloud_cover": "12", "proj:epsg": 326.5 }))
    expect(r.issues.map((i) => i.path)).toEqual(['$.properties["eo:cloud_cover"]', '$.properties["proj:epsg"]'])
    expect(r.issues[0]!.message).toContain("eo:cloud_cover (eo v1.1.0)")
    expect(r.issues[0]!.message).toContain("Expected number")
    expect(r.issues[1]!.message).toContain("proj:epsg (projection v1.1.0)")
  })

  test("ranges, allowed values and nested band fields are checked", () => {
    const r = StacExtensions.check(
      item(
        [url("eo", "v1.0.0"), url("sar", "v1.0.0"), url("view", "v1.0.0"), url("raster", "v1.1.0"), url("file", "v2.1.0")],
        { "eo:cloud_cover": 101, "sar:polarizations": ["VV", "XX"], "view:off_nadir": -1, "eo:bands": [{ name: 7 }] },
        { "raster:bands": [{ data_type: "float128" }], "file:size": -1 }
      )
    )
    expect(r.issues.map((i) => i.path)).toEqual([
      '$.properties["eo:cloud_cover"]',
      '$.properties["sar:polarizations"][1]',
      '$.properties["view:off_nadir"]',
      '$.properties["eo:bands"][0].name',
      '$.assets.data["raster:bands"][0].data_type',
      '$.assets.data["file:size"]'
    ])
  })

  test("STAC 1.1 band objects carry extension fields", () => {
    const r = StacExtensions.check(item([url("eo", "v2.0.0")], { bands: [{ name: "B1", "eo:center_wavelength": "0.66" }] }))
    expect(r.issues.map((i) => i.path)).toEqual(['$.properties.bands[0]["eo:center_wavelength"]'])
  })

  test("fields of a version are those of that version: proj:code is v2's, proj:epsg v1's", () => {
    expect(StacExtensions.check(item([url("projection", "v2.0.0")], { "proj:code": 4326 })).issues).toHaveLength(1)
    expect(StacExtensions.check(item([url("projection", "v1.0.0")], { "proj:code": 4326 })).issues).toHaveLength(0)
  })

  test("collection assets and item_assets are checked", () => {
    const r = StacExtensions.check({
      type: "Collection",
      stac_extensions: [url("file", "v2.1.0")],
      assets: { a: { href: "a", "file:size": "big" } },
      item_assets: { b: { "file:byte_order": "middle" } }
    })
    expect(r.issues.map((i) => i.path)).toEqual(['$.assets.a["file:size"]', '$.item_assets.b["file:byte_order"]'])
  })

  test("an unknown extension, or an unknown version of a known one, is a warning and its fields are not checked", () => {
    const r = StacExtensions.check(
      item([url("scientific", "v1.0.0"), url("eo", "v9.0.0"), "https://example.com/my-ext.json"], { "eo:cloud_cover": "lots" })
    )
    expect(r.issues).toEqual([])
    expect(r.warnings.map((w) => w.path)).toEqual(["$.stac_extensions[0]", "$.stac_extensions[1]", "$.stac_extensions[2]"])
    expect(r.warnings[0]!.message).toContain("is not one hysds-stac checks")
    expect(r.warnings[1]!.message).toContain("version v9.0.0 of the eo extension")
  })

  test("undeclared extension fields are not checked (as STAC validators do)", () => {
    expect(StacExtensions.check(item([], { "eo:cloud_cover": "x" }))).toEqual({ issues: [], warnings: [] })
  })
})
