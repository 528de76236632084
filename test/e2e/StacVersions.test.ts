/**
 * End-to-end: older STAC and extension fields, through the real CLI on the
 * embedded default. The example mixed job's catalog is rewritten as a job would
 * have written it in STAC 0.9.0 or 1.0.0-rc.2: it is migrated to 1.1.0,
 * published, and each migrated document gets a warning. Extension fields of a
 * 1.1.0 catalog are checked offline: valid ones publish, a wrong
 * `eo:cloud_cover` or `proj:epsg` type is refused at planning with the file and
 * JSON path and nothing is published, an unknown extension is a warning.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import {
  EMPTY_SUMMARY,
  EXIT,
  TIMEOUT,
  type CliResult,
  type Sandbox,
  cli,
  describeRun,
  ingest,
  parseJson,
  sandbox,
  snapshot,
  storeDir,
  summary
} from "../support/State.ts"

const CATALOG = "stac_catalog_20240115_etna"
const SCENES = `${CATALOG}/etna-scenes`
const ITEMS = [1, 2, 3].map((n) => `${SCENES}/items/etna-scene-00${n}/etna-scene-00${n}.json`)
const DOCUMENTS = [`${CATALOG}/catalog.json`, `${SCENES}/collection.json`, ...ITEMS]
const ext = (name: string, version: string) => `https://stac-extensions.github.io/${name}/${version}/schema.json`

const editJson = (file: string, edit: (json: any) => void) => {
  const json = JSON.parse(readFileSync(file, "utf8"))
  edit(json)
  writeFileSync(file, JSON.stringify(json, null, 2))
}

const expectRun = (r: CliResult, code: number) => {
  if (r.exitCode !== code) throw new Error(`expected exit ${code}\n${describeRun(r)}`)
}

const sandboxes: Array<Sandbox> = []
afterAll(() => {
  for (const sb of sandboxes) sb.cleanup()
})

/** A copy of mixed-job with its catalog's documents edited by `edit(json, relPath)`. */
const job = (edit: (json: any, rel: string) => void) => {
  const sb = sandbox("stac-versions")
  sandboxes.push(sb)
  const dir = sb.copyExample("mixed-job", "job")
  for (const rel of DOCUMENTS) editJson(path.join(dir, rel), (j) => edit(j, rel))
  return { sb, dir }
}

/** What a 0.9.0 writer emitted: no `type` on catalogs and collections, short extension ids, `eo:gsd`. */
const as09 = (j: any) => {
  j.stac_version = "0.9.0"
  if (j.type !== "Feature") delete j.type
  else {
    j.stac_extensions = ["eo"]
    j.properties["eo:gsd"] = 10
    j.properties["eo:cloud_cover"] = 5
  }
}

/** The published copy of the catalog file `rel` (its store path ends with the same path below the catalog dir). */
const publishedJson = (stateDir: string, files: ReadonlyArray<readonly [string, string]>, rel: string): any => {
  const tail = rel.slice(CATALOG.length)
  const found = files.find(([p]) => p.includes(CATALOG) && p.endsWith(tail))
  if (found === undefined) throw new Error(`${rel} was not published`)
  return JSON.parse(readFileSync(path.join(storeDir(stateDir), ...found[0].split("/")), "utf8"))
}

describe("older STAC is migrated to 1.1.0 and published", () => {
  test(
    "a 0.9.0 catalog: published as 1.1.0, one warning per document in --json",
    async () => {
      const { sb, dir } = job(as09)
      const r = await ingest(dir, sb.stateDir, ["--json"])
      expectRun(r, EXIT.ok)
      const out = parseJson(r)
      expect(out.ok).toBe(true)
      expect(out.totals.items).toBe(3)
      const warnings: Array<{ file: string; path: string; message: string }> = out.warnings
      expect(warnings.map((w) => [path.relative(dir, w.file), w.path])).toEqual(DOCUMENTS.map((d) => [d, "$.stac_version"]))
      for (const w of warnings) expect(w.message).toContain("migrated from STAC 0.9.0 to 1.1.0")
      expect(warnings[0]!.message).toContain('type "Catalog" added')
      expect(warnings[2]!.message).toContain("eo:gsd → gsd")

      const state = await snapshot(sb.stateDir)
      expect(state.collections.map((c) => [c.id, c.type, c.stac_version])).toEqual([["etna-scenes", "Collection", "1.1.0"]])
      const items = state.items["etna-scenes"]!
      expect(items.map((i) => i.stac_version)).toEqual(["1.1.0", "1.1.0", "1.1.0"])
      expect(items.map((i: any) => [i.properties.gsd, i.properties["eo:gsd"], i.stac_extensions])).toEqual(
        Array(3).fill([10, undefined, [ext("eo", "v1.0.0")]])
      )
      // The static files are published migrated too, and the job's own files are left as written.
      const root = publishedJson(sb.stateDir, state.files, `${CATALOG}/catalog.json`)
      expect([root.type, root.stac_version]).toEqual(["Catalog", "1.1.0"])
      expect(JSON.parse(readFileSync(path.join(dir, CATALOG, "catalog.json"), "utf8")).stac_version).toBe("0.9.0")
    },
    TIMEOUT
  )

  test(
    "a 1.0.0-rc.2 catalog: published as 1.1.0, the warnings in the summary",
    async () => {
      const { sb, dir } = job((j) => (j.stac_version = "1.0.0-rc.2"))
      const r = await ingest(dir, sb.stateDir)
      expectRun(r, EXIT.ok)
      expect(r.stdout).toContain("5 warnings:")
      for (const d of DOCUMENTS) expect(r.stdout).toContain(`warning ${path.join(dir, d)} $.stac_version: migrated from STAC 1.0.0-rc.2 to 1.1.0`)
      const state = await snapshot(sb.stateDir)
      expect(state.items["etna-scenes"]!.map((i) => i.stac_version)).toEqual(["1.1.0", "1.1.0", "1.1.0"])
      expect(state.collections[0]!.stac_version).toBe("1.1.0")
    },
    TIMEOUT
  )

  test(
    "a 0.8.0 document is refused naming the file and the version; nothing is published",
    async () => {
      const { sb, dir } = job((j, rel) => rel === ITEMS[1] && (j.stac_version = "0.8.0"))
      const r = await ingest(dir, sb.stateDir)
      expectRun(r, EXIT.validation)
      expect(r.stderr).toContain(path.join(dir, ITEMS[1]!))
      expect(r.stderr).toContain('$.stac_version: stac_version "0.8.0" is older than 0.9.0')
      expect(summary(await snapshot(sb.stateDir))).toEqual(EMPTY_SUMMARY)
    },
    TIMEOUT
  )
})

/** Item n's fields for every checked extension, valid. */
const allExtensions = (j: any, rel: string) => {
  if (j.type !== "Feature") return
  j.stac_extensions = [
    ext("eo", "v1.1.0"),
    ext("sar", "v1.0.0"),
    ext("projection", "v1.2.0"),
    ext("sat", "v1.0.0"),
    ext("file", "v2.1.0"),
    ext("view", "v1.0.0"),
    ext("raster", "v1.1.0")
  ]
  Object.assign(j.properties, {
    "eo:cloud_cover": 12.5,
    "eo:bands": [{ name: "B1", common_name: "red", center_wavelength: 0.66 }],
    "sar:instrument_mode": "IW",
    "sar:frequency_band": "C",
    "sar:polarizations": ["VV", "VH"],
    "sar:product_type": "SLC",
    "proj:epsg": 32633,
    "proj:shape": [512, 512],
    "sat:orbit_state": "descending",
    "sat:relative_orbit": 124,
    "view:incidence_angle": 33.5
  })
  Object.assign(j.assets.data, {
    "file:size": 8,
    "file:checksum": "1220" + "ab".repeat(32),
    "raster:bands": [{ data_type: "float32", nodata: "nan", statistics: { valid_percent: 98 } }]
  })
  void rel
}

describe("extension fields are checked before publishing", () => {
  test(
    "a 1.1.0 catalog with every checked extension valid publishes; an unknown extension is a warning",
    async () => {
      const { sb, dir } = job((j, rel) => {
        allExtensions(j, rel)
        if (rel === ITEMS[0]) j.stac_extensions.push(ext("scientific", "v1.0.0"))
      })
      const r = await ingest(dir, sb.stateDir, ["--json"])
      expectRun(r, EXIT.ok)
      const out = parseJson(r)
      expect(out.warnings.map((w: any) => [path.relative(dir, w.file), w.path])).toEqual([[ITEMS[0], "$.stac_extensions[7]"]])
      expect(out.warnings[0].message).toContain(`extension ${ext("scientific", "v1.0.0")} is not one hysds-stac checks`)
      const items = (await snapshot(sb.stateDir)).items["etna-scenes"]!
      expect(items.map((i: any) => i.properties["eo:cloud_cover"])).toEqual([12.5, 12.5, 12.5])
    },
    TIMEOUT
  )

  test(
    "a wrong eo:cloud_cover or proj:epsg type is refused with the file and JSON path; nothing is published",
    async () => {
      const { sb, dir } = job((j, rel) => {
        allExtensions(j, rel)
        if (rel === ITEMS[0]) j.properties["eo:cloud_cover"] = "12.5"
        if (rel === ITEMS[2]) j.properties["proj:epsg"] = "EPSG:32633"
      })
      const wrong = [
        { file: path.join(dir, ITEMS[0]!), path: '$.properties["eo:cloud_cover"]', message: /eo:cloud_cover \(eo v1\.1\.0\): Expected number, actual "12\.5"/ },
        { file: path.join(dir, ITEMS[2]!), path: '$.properties["proj:epsg"]', message: /proj:epsg \(projection v1\.2\.0\): Expected .*number.*, actual "EPSG:32633"/ }
      ]

      const v = await cli(["validate", dir, "--json"])
      expectRun(v, EXIT.validation)
      const problems: Array<{ file: string; path: string; message: string }> = parseJson(v).error.problems
      expect(problems.map((p) => [p.file, p.path])).toEqual(wrong.map((w) => [w.file, w.path]))
      problems.forEach((p, i) => expect(p.message).toMatch(wrong[i]!.message))

      const r = await ingest(dir, sb.stateDir)
      expectRun(r, EXIT.validation)
      for (const w of wrong) expect(r.stderr).toContain(`${w.file}`)
      for (const w of wrong) expect(r.stderr).toContain(w.path)
      expect(summary(await snapshot(sb.stateDir))).toEqual(EMPTY_SUMMARY)
    },
    TIMEOUT
  )
})
