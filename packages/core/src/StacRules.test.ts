/**
 * Issue 8 item 9: what a STAC registry refuses (reserved characters in ids, a
 * null geometry) and coordinates out of WGS84 ranges are found while PLANNING,
 * each as a problem with its file and JSON path, so nothing is claimed or
 * copied for a job the registry or GRQ would refuse half-way through.
 */
import { BunContext } from "@effect/platform-bun"
import { describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as DatasetConfig from "./DatasetConfig.ts"
import type { Problem } from "./Errors.ts"
import * as JobInfo from "./JobInfo.ts"
import * as Plan from "./Plan.ts"
import * as Stac from "./Stac.ts"
import { PGSTAC_RULES, type StacRules } from "./StacRegistry.ts"
import * as StacTree from "./StacTree.ts"
import * as Validate from "./Validate.ts"

const EXAMPLES = path.resolve(import.meta.dir, "..", "..", "..", "examples")
const CATALOG = "stac_catalog_20240115_etna"
const ITEM = `${CATALOG}/etna-scenes/items/etna-scene-002/etna-scene-002.json`
const COLLECTION = `${CATALOG}/etna-scenes/collection.json`
const AOI = "AOI_volcano_etna/AOI_volcano_etna.dataset.json"

const mixedJob = (): string => {
  const dir = path.join(fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "stac-rules-"))), "mixed-job")
  fs.cpSync(path.join(EXAMPLES, "mixed-job"), dir, { recursive: true })
  fs.rmSync(path.join(dir, "_datasets.json"), { force: true })
  return dir
}

const edit = (dir: string, rel: string, f: (json: Record<string, any>) => void) => {
  const file = path.join(dir, rel)
  const json = JSON.parse(fs.readFileSync(file, "utf8"))
  f(json)
  fs.writeFileSync(file, JSON.stringify(json, null, 2))
  return file
}

const problemsOf = <A, E>(effect: Effect.Effect<A, E, any>): Promise<ReadonlyArray<Problem>> =>
  Effect.runPromise(
    effect.pipe(
      Effect.either,
      Effect.map((e) => {
        if (Either.isRight(e)) return []
        const left = e.left as { problems?: ReadonlyArray<Problem> }
        if (!Array.isArray(left.problems)) throw new Error(`expected a ValidationError, got ${JSON.stringify(e.left)}`)
        return left.problems
      }),
      Effect.provide(BunContext.layer)
    ) as unknown as Effect.Effect<ReadonlyArray<Problem>, never, never>
  )

const plan = (dir: string, rules?: StacRules) =>
  Effect.gen(function* () {
    const datasets = yield* DatasetConfig.load(path.join(EXAMPLES, "datasets.json"), {})
    const job = yield* JobInfo.read(dir)
    return yield* Plan.make({ jobDir: dir, job, datasets, stac: true, hostname: "test", now: new Date(), ...(rules ? { rules } : {}) })
  })

const item = (geometry: unknown, bbox?: unknown) => ({
  type: "Feature",
  stac_version: "1.1.0",
  id: "i",
  geometry,
  ...(bbox === undefined ? {} : { bbox }),
  properties: { datetime: "2024-01-01T00:00:00Z" },
  assets: {},
  links: []
})
const issues = (json: unknown) => {
  const d = Stac.decode(json)
  return Either.isLeft(d) ? d.left : []
}
const square = (lon: number, lat: number) => [
  [lon, lat],
  [lon + 1, lat],
  [lon + 1, lat + 1],
  [lon, lat + 1],
  [lon, lat]
]

describe("coordinate ranges", () => {
  test("a valid geometry and bbox of every kind pass", () => {
    for (const g of [
      { type: "Point", coordinates: [180, -90] },
      { type: "LineString", coordinates: [[-180, 90], [0, 0, 1200]] },
      { type: "Polygon", coordinates: [square(10, 10)] },
      { type: "MultiPolygon", coordinates: [[square(10, 10)], [square(-20, -20)]] },
      { type: "GeometryCollection", geometries: [{ type: "Point", coordinates: [1, 2] }] }
    ]) {
      expect(issues(item(g, [-180, -90, 180, 90]))).toEqual([])
    }
    // West greater than east crosses the antimeridian: allowed.
    expect(issues(item({ type: "Point", coordinates: [179.5, 0] }, [179, -1, -179, 1]))).toEqual([])
  })

  test("a latitude of 91 names the position's JSON path", () => {
    expect(issues(item({ type: "Point", coordinates: [10, 91] }, [10, 0, 10, 0]))).toEqual([
      { path: "$.geometry.coordinates", message: expect.stringContaining("latitude 91 is outside [-90, 90]") }
    ])
    const ring = square(10, 10)
    ring[3] = [10, -95]
    expect(issues(item({ type: "Polygon", coordinates: [ring] }, [10, 10, 11, 11]))).toEqual([
      { path: "$.geometry.coordinates[0][3]", message: expect.stringContaining("latitude -95") }
    ])
  })

  test("only the first bad position of a geometry is reported", () => {
    const swapped = square(10, 100)
    const found = issues(item({ type: "MultiPolygon", coordinates: [[square(0, 0)], [swapped]] }, [0, 0, 11, 11]))
    expect(found).toEqual([{ path: "$.geometry.coordinates[1][0][0]", message: expect.stringContaining("latitude 100") }])
  })

  test("longitude out of range, a non-finite number and a one-number position", () => {
    expect(issues(item({ type: "LineString", coordinates: [[0, 0], [200, 0]] }, [0, 0, 1, 1]))[0]).toEqual({
      path: "$.geometry.coordinates[1]",
      message: expect.stringContaining("longitude 200 is outside [-180, 180]")
    })
    // JSON.parse turns 1e999 into Infinity.
    const infinite = JSON.parse('{"type":"Point","coordinates":[1e999, 0]}')
    expect(issues(item(infinite, [0, 0, 0, 0]))[0]?.path).toBe("$.geometry.coordinates")
    expect(issues(item(infinite, [0, 0, 0, 0]))[0]?.message).toContain("not a finite number")
    expect(issues(item({ type: "Point", coordinates: [1] }, [0, 0, 0, 0])).map((i) => i.path)).toContain("$.geometry.coordinates")
  })

  test("inside a GeometryCollection", () => {
    const g = { type: "GeometryCollection", geometries: [{ type: "Point", coordinates: [1, 2] }, { type: "MultiPoint", coordinates: [[1, 2], [-181, 2]] }] }
    expect(issues(item(g, [0, 0, 1, 1]))).toEqual([
      { path: "$.geometry.geometries[1].coordinates[1]", message: expect.stringContaining("longitude -181") }
    ])
  })

  test("bbox: ranges, south <= north, 6 numbers", () => {
    const point = { type: "Point", coordinates: [0, 0] }
    expect(issues(item(point, [0, 0, 0, 91]))).toEqual([{ path: "$.bbox[3]", message: expect.stringContaining("latitude 91") }])
    expect(issues(item(point, [-190, 0, 0, 1]))).toEqual([{ path: "$.bbox[0]", message: expect.stringContaining("longitude -190") }])
    expect(issues(item(point, [0, 5, 1, 1]))).toEqual([{ path: "$.bbox", message: "south 5 is greater than north 1" }])
    expect(issues(item(point, [0, 0, -10, 1, 95, 10]))).toEqual([{ path: "$.bbox[4]", message: expect.stringContaining("latitude 95") }])
    expect(issues(item(point, [0, 0, -10, 1, 1, 10]))).toEqual([])
  })

  test("a collection's extent bbox", async () => {
    const collection = JSON.parse(fs.readFileSync(path.join(EXAMPLES, "mixed-job", COLLECTION), "utf8"))
    expect(issues(collection)).toEqual([])
    collection.extent.spatial.bbox.push([0, -91, 1, 1])
    expect(issues(collection)).toEqual([
      { path: `$.extent.spatial.bbox[${collection.extent.spatial.bbox.length - 1}][1]`, message: expect.stringContaining("latitude -91") }
    ])
  })

  test("a geometry nested deeper than any GeoJSON type is refused, not walked", () => {
    let deep: unknown = [0, 0]
    for (let i = 0; i < 20_000; i++) deep = [deep]
    const found = Stac.geometryIssues({ type: "Polygon", coordinates: deep }, ["location"])
    expect(found).toHaveLength(1)
    expect(found[0]!.message).toContain("nested deeper")
  })
})

describe("registry id rules", () => {
  test("pgstac's reserved characters are each refused; ordinary ids are not", () => {
    for (const c of ":/?#[]@!$&'()*+,;=") {
      expect(Stac.idProblem(`a${c}b`, PGSTAC_RULES)).toContain(`'${c}'`)
    }
    for (const id of ["etna-scene-001", "a.b", "a b", "100%", "é_ü~"]) expect(Stac.idProblem(id, PGSTAC_RULES)).toBeUndefined()
    expect(Stac.idProblem("abcdef", { forbiddenIdChars: "", maxIdLength: 5, geometryRequired: false })).toContain("at most 5")
  })
})

describe("planning refuses what the registry would", () => {
  const cases: ReadonlyArray<readonly [string, (dir: string) => string, string, string]> = [
    ["an item id with '/'", (d) => edit(d, ITEM, (j) => (j.id = "etna/scene-002")), "$.id", "'/'"],
    ["an item id with '#'", (d) => edit(d, ITEM, (j) => (j.id = "etna#2")), "$.id", "'#'"],
    ["an item id with '?'", (d) => edit(d, ITEM, (j) => (j.id = "etna?2")), "$.id", "'?'"],
    [
      "a collection id with ':'",
      (d) => {
        for (const rel of ["etna-scene-001", "etna-scene-002", "etna-scene-003"]) {
          edit(d, `${CATALOG}/etna-scenes/items/${rel}/${rel}.json`, (j) => (j.collection = "etna:scenes"))
        }
        return edit(d, COLLECTION, (j) => (j.id = "etna:scenes"))
      },
      "$.id",
      "':'"
    ],
    ["a null geometry", (d) => edit(d, ITEM, (j) => ((j.geometry = null), delete j.bbox)), "$.geometry", "geometry"],
    ["a latitude of 91", (d) => edit(d, ITEM, (j) => (j.geometry.coordinates[0][2][1] = 91)), "$.geometry.coordinates[0][2]", "latitude 91"],
    [
      "a dataset.json location with longitude 200",
      (d) => edit(d, AOI, (j) => (j.location.coordinates[0][1][0] = 200)),
      "$.location.coordinates[0][1]",
      "longitude 200"
    ]
  ]
  for (const [name, spoil, jsonPath, words] of cases) {
    test(`${name}: a problem with file and JSON path, from plan and from validate`, async () => {
      const dir = mixedJob()
      const file = spoil(dir)
      const expected = expect.arrayContaining([{ file, path: jsonPath, message: expect.stringContaining(words) }])
      expect(await problemsOf(plan(dir))).toEqual(expected)
      expect(await problemsOf(Validate.validate(dir))).toEqual(expected)
      expect(await problemsOf(Validate.validate(dir, await Effect.runPromise(DatasetConfig.load(path.join(EXAMPLES, "datasets.json"), {}).pipe(Effect.provide(BunContext.layer)))))).toEqual(expected)
    })
  }

  test("the rules come from the caller: a registry that allows '/' and null geometry plans such a job", async () => {
    const dir = mixedJob()
    edit(dir, ITEM, (j) => ((j.id = "etna/scene-002"), (j.geometry = null), delete j.bbox))
    expect(await problemsOf(plan(dir))).toHaveLength(2)
    expect(await problemsOf(plan(dir, { forbiddenIdChars: "#", geometryRequired: false }))).toEqual([])
    expect(await problemsOf(StacTree.readTree(path.join(dir, CATALOG, "catalog.json"), { forbiddenIdChars: "", geometryRequired: false }))).toEqual([])
  })

  test("the clean example plans without problems", async () => {
    expect(await problemsOf(plan(mixedJob()))).toEqual([])
  })
})
