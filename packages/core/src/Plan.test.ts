/**
 * How planning fails, as its callers see it: every product's problems and the
 * cross-product ones gathered into ONE ValidationError (same message and hint
 * whatever product found them), while a datasets.json template that does not
 * render stops the plan as a ConfigError, never folded into the problems.
 * (Inside, products fail with the private PlanProblems error; these tests pin
 * what `make` turns it into.)
 */
import { BunContext } from "@effect/platform-bun"
import { describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as DatasetConfig from "./DatasetConfig.ts"
import * as JobInfo from "./JobInfo.ts"
import * as Plan from "./Plan.ts"

/** Planning reads and checks a whole job: seconds on a loaded machine. */
const T = 60_000

const EXAMPLES = path.resolve(import.meta.dir, "..", "..", "..", "examples")
const AOI_DATASET = "AOI_volcano_etna/AOI_volcano_etna.dataset.json"
const ITEM = "stac_catalog_20240115_etna/etna-scenes/items/etna-scene-002/etna-scene-002.json"

const mixedJob = (): string => {
  const dir = path.join(fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "plan-"))), "mixed-job")
  fs.cpSync(path.join(EXAMPLES, "mixed-job"), dir, { recursive: true })
  fs.rmSync(path.join(dir, "_datasets.json"), { force: true })
  return dir
}

const editJson = (file: string, f: (json: Record<string, any>) => void) => {
  const json = JSON.parse(fs.readFileSync(file, "utf8"))
  f(json)
  fs.writeFileSync(file, JSON.stringify(json, null, 2))
}

const plan = (dir: string, datasetsFile = path.join(EXAMPLES, "datasets.json")) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const datasets = yield* DatasetConfig.load(datasetsFile, {})
      const job = yield* JobInfo.read(dir)
      return yield* Plan.make({ jobDir: dir, job, datasets, stac: true, hostname: "test", now: new Date() })
    }).pipe(Effect.either, Effect.provide(BunContext.layer))
  )

/** A STAC item with a null geometry (pgstac refuses it) and a classic product without a version. */
const breakTwoProducts = (dir: string) => {
  editJson(path.join(dir, ITEM), (item) => {
    item.geometry = null
    delete item.bbox
  })
  editJson(path.join(dir, AOI_DATASET), (dataset) => {
    delete dataset.version
  })
}

describe("Plan.make: how it fails", () => {
  test("the clean example job plans", async () => {
    const outcome = await plan(mixedJob())
    expect(Either.isRight(outcome)).toBe(true)
  }, T)

  test("problems of a STAC product and of a classic product come back together, as one ValidationError", async () => {
    const dir = mixedJob()
    breakTwoProducts(dir)
    const outcome = await plan(dir)
    if (Either.isRight(outcome)) throw new Error("expected the plan to fail")
    const error = outcome.left
    expect(error._tag).toBe("ValidationError")
    if (error._tag !== "ValidationError") return
    expect(error.problems.map((p) => [p.file, p.path])).toEqual([
      [path.join(dir, ITEM), "$.geometry"],
      [path.join(dir, AOI_DATASET), "$.version"]
    ])
    expect(error.message).toBe(`the job in ${dir} is invalid (2 problems); nothing was published`)
    expect(error.hint).toBe("fix the files named above and run the ingest again")
  }, T)

  test("a publish template that does not render is a ConfigError, even when another product has problems", async () => {
    const dir = mixedJob()
    breakTwoProducts(dir)
    // The classic product is fine again; its entry's location names a variable nothing defines.
    editJson(path.join(dir, AOI_DATASET), (dataset) => {
      dataset.version = "v1.0"
    })
    const datasets = path.join(path.dirname(dir), "datasets.json")
    const config = JSON.parse(fs.readFileSync(path.join(EXAMPLES, "datasets.json"), "utf8"))
    const aoi = config.datasets.find((d: { ipath: string }) => d.ipath === "hysds::data/area_of_interest")
    aoi.publish.location = `${aoi.publish.location}/{no_such_variable}`
    fs.writeFileSync(datasets, JSON.stringify(config, null, 2))

    const outcome = await plan(dir, datasets)
    if (Either.isRight(outcome)) throw new Error("expected the plan to fail")
    expect(outcome.left._tag).toBe("ConfigError")
    expect(outcome.left.message).toContain("no_such_variable")
  }, T)
})

describe("Plan.make: two collections of one catalog sharing item ids", () => {
  const CATALOG = "stac_catalog_20240115_etna"
  /** A second collection, `etna-other`, holding items with the ids of `etna-scenes`' items. */
  const twoCollections = (version?: string) => {
    const dir = mixedJob()
    const root = path.join(dir, CATALOG)
    fs.cpSync(path.join(root, "etna-scenes"), path.join(root, "etna-other"), { recursive: true })
    editJson(path.join(root, "etna-other", "collection.json"), (c) => void (c.id = "etna-other"))
    for (const n of ["001", "002", "003"]) {
      editJson(path.join(root, "etna-other", "items", `etna-scene-${n}`, `etna-scene-${n}.json`), (item) => {
        item.collection = "etna-other"
        if (version !== undefined) item.properties.version = version
      })
    }
    editJson(path.join(root, "catalog.json"), (c) => c.links.push({ rel: "child", href: "./etna-other/collection.json", type: "application/json" }))
    return dir
  }

  test("refused, with the reason, when their GRQ documents would land in one index", async () => {
    const outcome = await plan(twoCollections())
    expect(Either.isLeft(outcome)).toBe(true)
    const problems = Either.isLeft(outcome) && outcome.left._tag === "ValidationError" ? outcome.left.problems : []
    expect(problems).toHaveLength(3)
    expect(problems[0]!.message).toContain("GRQ document etna-scene-001 of collection etna-other of")
    expect(problems[0]!.message).toContain("where collection etna-scenes of")
    expect(problems[0]!.message).toContain("GRQ keeps one document per id in an index")
  }, T)

  test("allowed when their documents land in different indexes", async () => {
    const outcome = await plan(twoCollections("v2"))
    if (Either.isLeft(outcome)) throw new Error(JSON.stringify(outcome.left))
    // The plan keeps no STAC document: the documents as the publish makes them from the item files.
    const published = await Effect.runPromise(Effect.forEach(outcome.right.products, (p) => Plan.published(p)).pipe(Effect.provide(BunContext.layer)))
    const docs = published.flatMap((p) => p.documents).filter((d) => d.id === "etna-scene-001")
    expect(docs).toHaveLength(2)
    expect(new Set(docs.map((d) => d.index)).size).toBe(2)
  }, T)
})

describe("Plan.make: items outside their collection's extent are warnings, not errors", () => {
  const ITEM1 = "stac_catalog_20240115_etna/etna-scenes/items/etna-scene-001/etna-scene-001.json"
  const COLLECTION = "stac_catalog_20240115_etna/etna-scenes/collection.json"

  test("a datetime after the interval and a bbox past its east edge: planned, two warnings naming file and field", async () => {
    const dir = mixedJob()
    editJson(path.join(dir, ITEM1), (item) => {
      item.properties.datetime = "2024-02-01T00:00:00Z"
      item.bbox = [15.0, 37.5, 15.6, 38.0]
      item.geometry = { type: "Polygon", coordinates: [[[15.0, 37.5], [15.6, 37.5], [15.6, 38.0], [15.0, 38.0], [15.0, 37.5]]] }
    })
    const outcome = await plan(dir)
    if (Either.isLeft(outcome)) throw new Error(JSON.stringify(outcome.left))
    const warnings = outcome.right.warnings
    expect(warnings.map((w) => [path.relative(dir, w.file), w.path])).toEqual([
      [ITEM1, "$.properties.datetime"],
      [ITEM1, "$.bbox"]
    ])
    expect(warnings[0]!.message).toContain("outside the temporal extent of its collection etna-scenes (2024-01-15T00:00:00Z .. 2024-01-18T00:00:00Z)")
    expect(warnings[1]!.message).toContain("is not inside the spatial extent of its collection etna-scenes [14.8, 37.5, 15.4, 38]")
  }, T)

  test("inside the extent, an open-ended interval, and an extent across the antimeridian: no warning", async () => {
    const dir = mixedJob()
    expect(Either.getOrThrow(await plan(dir)).warnings).toEqual([])
    editJson(path.join(dir, COLLECTION), (c) => {
      c.extent.temporal.interval = [["2024-01-15T00:00:00Z", null]]
      c.extent.spatial.bbox = [[170, 37, 16, 39]]
    })
    editJson(path.join(dir, ITEM1), (item) => void (item.properties.datetime = "2030-01-01T00:00:00Z"))
    expect(Either.getOrThrow(await plan(dir)).warnings).toEqual([])
  }, T)
})

describe("the files of a STAC product", () => {
  test("head files first, then each item's assets after it in item order; an asset two items name goes with the first", async () => {
    const dir = mixedJob()
    const catalog = path.join(dir, "stac_catalog_20240115_etna")
    const items = path.join(catalog, "etna-scenes", "items")
    // Item 3 also names item 1's data file; a README and a loose file belong to no item.
    editJson(path.join(items, "etna-scene-003", "etna-scene-003.json"), (item) => {
      item.assets.shared = { href: "../etna-scene-001/data.tif", roles: ["data"] }
    })
    fs.writeFileSync(path.join(catalog, "README.txt"), "about")
    fs.writeFileSync(path.join(items, "etna-scene-002", "notes.txt"), "not an asset")
    const planned = await plan(dir)
    if (Either.isLeft(planned)) throw new Error(JSON.stringify(planned.left))
    const product = planned.right.products.find((p) => p.stac !== undefined)!
    const stac = product.stac!
    const rel = (f: Plan.PlannedFile) => f.url.slice(f.url.indexOf("stac_catalog_20240115_etna/") + "stac_catalog_20240115_etna/".length)
    const scene = (n: number, name: string) => `etna-scenes/items/etna-scene-00${n}/${name}`
    expect(product.files.slice(0, stac.headFiles).map(rel)).toEqual(["README.txt", scene(2, "notes.txt")])
    expect(stac.items.map((i) => i.id)).toEqual(["etna-scene-001", "etna-scene-002", "etna-scene-003"])
    const owned = stac.items.map((_, i) => product.files.slice(i === 0 ? stac.headFiles : stac.assetsEnd[i - 1]!, stac.assetsEnd[i]!).map(rel))
    expect(owned).toEqual([
      [scene(1, "data.tif"), scene(1, "thumb.png")],
      [scene(2, "data.tif"), scene(2, "thumb.png")],
      [scene(3, "data.tif"), scene(3, "thumb.png")]
    ])
    expect(stac.assetsEnd[2]).toBe(product.files.length)
  }, T)
})
