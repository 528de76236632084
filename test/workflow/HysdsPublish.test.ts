/**
 * What an ingest leaves at its publish locations, as HySDS's
 * `dataset_ingest_bulk.py` leaves it (issue 10, scope 2): the job's
 * `_context.json` in each classic product as `<id>.context.json` with `prov`
 * from it, only `*browse_small.png` at the browse location, and HySDS's
 * `_publish.context.json` there from the claim on, left after success as
 * HySDS 3.3 leaves it, with HySDS's rules when an ingest meets one.
 */
import { describe, expect, test } from "bun:test"
import { type Progress as ProgressPort, Progress } from "@hysds-stac/core"
import { Cause, Effect, Exit, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { copyJob, type Fault, ingest, options, snapshot, tempDir } from "./Harness.ts"

const T = 30_000
const AOI = "AOI_volcano_etna"
const IFG = "S1-IFG_RM_20240115T103000_20240116T103000_etna"
/** Where the embedded store keeps the example's AOI product and its browse images. */
const aoiDir = (state: string) => path.join(state, "store/s3/hysds-products/products/area_of_interest/v1.0", AOI)
const aoiBrowseDir = (state: string) => path.join(state, "store/s3/hysds-browse/browse/area_of_interest/v1.0", AOI)
const ifgDir = (state: string) => path.join(state, "store/s3/hysds-products/products/S1-IFG/2024/01/15", IFG)

/** `_publish.context.json` exactly as HySDS's json.dump(indent=2, sort_keys=True) writes it. */
const hysdsContext = (payloadId: string | null, taskId = "task-earlier", payloadHash = "0ld") =>
  `{\n  "payload_hash": ${JSON.stringify(payloadHash)},\n  "payload_id": ${JSON.stringify(payloadId)},\n  "task_id": ${JSON.stringify(taskId)}\n}`

/** The example job's own: its _job.json has payload_task_id "payload-task-1", payload_hash "9f2c6a1e", task_id "task-mixed-job". */
const OURS = hysdsContext("payload-task-1", "task-mixed-job", "9f2c6a1e")

const listTree = (dir: string): Array<string> =>
  fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true, encoding: "utf8" }) as Array<string>).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort() : []

const run = (state: string, job: string, overrides: Parameters<typeof options>[1] = {}, faults: ReadonlyArray<Fault> = [], progress?: Layer.Layer<ProgressPort.Progress>) =>
  Effect.runPromiseExit(ingest(state, options(job, overrides), faults, progress).effect)

const failure = (exit: Exit.Exit<unknown, unknown>) => {
  if (Exit.isSuccess(exit)) throw new Error("the ingest succeeded")
  const f = Cause.failureOption(exit.cause)
  if (f._tag === "None") throw new Error(Cause.pretty(exit.cause))
  return f.value as { _tag: string; error: { _tag: string; message: string } }
}

/** An orphan of an earlier HySDS attempt at the AOI location: a publish context and a partial file. */
const plantOrphan = (state: string, context: string) => {
  fs.mkdirSync(aoiDir(state), { recursive: true })
  fs.writeFileSync(path.join(aoiDir(state), "_publish.context.json"), context)
  fs.writeFileSync(path.join(aoiDir(state), `${AOI}.h5`), "partial upload of an earlier attempt")
}

describe("published files, as HySDS publishes them", () => {
  test("each classic product gets the job's _context.json as <id>.context.json, and prov comes from it", async () => {
    const state = tempDir("state")
    const job = copyJob("mixed-job")
    expect(Exit.isSuccess(await run(state, job))).toBe(true)
    const context = fs.readFileSync(path.join(job, "_context.json"))
    expect(fs.readFileSync(path.join(aoiDir(state), `${AOI}.context.json`))).toEqual(context)
    expect(fs.readFileSync(path.join(ifgDir(state), `${IFG}.context.json`))).toEqual(context)
    // The job dir itself is not modified.
    expect(fs.existsSync(path.join(job, AOI, `${AOI}.context.json`))).toBe(false)
    const docs = (await snapshot(state)).documents as Array<{ id: string; doc: { prov: unknown } }>
    const prov = (JSON.parse(context.toString()) as { _prov: unknown })._prov
    expect(docs.find((d) => d.id === AOI)?.doc.prov).toEqual(prov)
    expect(docs.find((d) => d.id === IFG)?.doc.prov).toEqual(prov)
  }, T)

  test("a product's own <id>.context.json is replaced by the job's; without a _context.json it is published as is and gives prov", async () => {
    const state = tempDir("state")
    const job = copyJob("mixed-job")
    const own = JSON.stringify({ _prov: { wasGeneratedBy: "the product's own" } })
    fs.writeFileSync(path.join(job, AOI, `${AOI}.context.json`), own)
    expect(Exit.isSuccess(await run(state, job))).toBe(true)
    expect(fs.readFileSync(path.join(aoiDir(state), `${AOI}.context.json`), "utf8")).toBe(fs.readFileSync(path.join(job, "_context.json"), "utf8"))

    const state2 = tempDir("state")
    const job2 = copyJob("mixed-job")
    fs.rmSync(path.join(job2, "_context.json"))
    fs.writeFileSync(path.join(job2, AOI, `${AOI}.context.json`), own)
    expect(Exit.isSuccess(await run(state2, job2))).toBe(true)
    expect(fs.readFileSync(path.join(aoiDir(state2), `${AOI}.context.json`), "utf8")).toBe(own)
    expect(fs.existsSync(path.join(ifgDir(state2), `${IFG}.context.json`))).toBe(false)
    const docs = (await snapshot(state2)).documents as Array<{ id: string; doc: { prov: unknown } }>
    expect(docs.find((d) => d.id === AOI)?.doc.prov).toEqual({ wasGeneratedBy: "the product's own" })
    expect(docs.find((d) => d.id === IFG)?.doc.prov).toEqual({})
  }, T)

  test("only *browse_small.png files go to the browse location; the whole product (browse.png too) to the publish location", async () => {
    const state = tempDir("state")
    const job = copyJob("mixed-job")
    // A small image whose browse.png is missing is not uploaded by HySDS either.
    fs.copyFileSync(path.join(job, AOI, `${AOI}.browse_small.png`), path.join(job, AOI, "extra.browse_small.png"))
    expect(Exit.isSuccess(await run(state, job))).toBe(true)
    expect(listTree(aoiBrowseDir(state))).toEqual([`${AOI}.browse_small.png`])
    expect(listTree(aoiDir(state))).toEqual(
      [`${AOI}.browse.png`, `${AOI}.browse_small.png`, `${AOI}.context.json`, `${AOI}.dataset.json`, `${AOI}.h5`, `${AOI}.met.json`, "_publish.context.json", "extra.browse_small.png"].sort()
    )
  }, T)
})

describe("_publish.context.json", () => {
  test("is HySDS's, byte for byte, at the location while the product is published, and stays after success", async () => {
    const state = tempDir("state")
    const seen: Array<string | undefined> = []
    const progress = Layer.succeed(Progress.Progress, {
      emit: (e) =>
        Effect.sync(() => {
          if (e._tag === "FilePublished" && e.url.includes(`/${AOI}/`)) {
            const marker = path.join(aoiDir(state), "_publish.context.json")
            seen.push(fs.existsSync(marker) ? fs.readFileSync(marker, "utf8") : undefined)
          }
        })
    })
    expect(Exit.isSuccess(await run(state, copyJob("mixed-job"), {}, [], progress))).toBe(true)
    expect(seen.length).toBeGreaterThan(0)
    expect(new Set(seen)).toEqual(new Set([OURS]))
    // HySDS 3.3 leaves it at every publish location (it records who published); the claim goes.
    const store = path.join(state, "store")
    const contexts = listTree(store).filter((f) => f.endsWith("_publish.context.json"))
    expect(contexts).toHaveLength(3)
    for (const f of contexts) expect(fs.readFileSync(path.join(store, f), "utf8")).toBe(OURS)
    expect(listTree(store).filter((f) => f.includes(".hysds-stac-"))).toEqual([])
  }, T)

  test("the one a published product keeps makes a second ingest of the job \"already exists\", untouched", async () => {
    const state = tempDir("state")
    expect(Exit.isSuccess(await run(state, copyJob("mixed-job")))).toBe(true)
    const before = (await snapshot(state)).files
    const f = failure(await run(state, copyJob("mixed-job")))
    expect(f.error._tag).toBe("ConflictError")
    expect(f.error.message).toContain("already exists")
    expect((await snapshot(state)).files).toEqual(before)
  }, T)

  test("a rollback removes it", async () => {
    const state = tempDir("state")
    const exit = await run(state, copyJob("mixed-job"), {}, [{ port: "index", method: "bulkIndex" }])
    expect(failure(exit).error._tag).not.toBe("ConflictError")
    expect(listTree(path.join(state, "store"))).toEqual([])
  }, T)

  test("an orphan of an earlier attempt of the same job (same payload_id, no GRQ document) is published again", async () => {
    const state = tempDir("state")
    plantOrphan(state, hysdsContext("payload-task-1"))
    expect(Exit.isSuccess(await run(state, copyJob("mixed-job")))).toBe(true)
    const job = path.join(import.meta.dir, "../../examples/mixed-job")
    expect(fs.readFileSync(path.join(aoiDir(state), `${AOI}.h5`))).toEqual(fs.readFileSync(path.join(job, AOI, `${AOI}.h5`)))
    // The orphan's publish context is replaced by this job's, which stays.
    expect(fs.readFileSync(path.join(aoiDir(state), "_publish.context.json"), "utf8")).toBe(OURS)
    expect(listTree(path.join(state, "store")).filter((f) => f.includes(".hysds-stac-"))).toEqual([])
  }, T)

  test("when that republish fails, the orphan is restored as it was, publish context included", async () => {
    const state = tempDir("state")
    plantOrphan(state, hysdsContext("payload-task-1"))
    const before = listTree(aoiDir(state)).map((f) => [f, fs.readFileSync(path.join(aoiDir(state), f), "utf8")])
    const exit = await run(state, copyJob("mixed-job"), {}, [{ port: "index", method: "bulkIndex" }])
    expect(failure(exit).error._tag).toBe("IndexError")
    expect(listTree(aoiDir(state)).map((f) => [f, fs.readFileSync(path.join(aoiDir(state), f), "utf8")])).toEqual(before)
    expect(listTree(path.join(state, "store")).filter((f) => f.includes(".hysds-stac-"))).toEqual([])
  }, T)

  test("another job's, with a GRQ document for the product: already exists, and it is left alone", async () => {
    const state = tempDir("state")
    expect(Exit.isSuccess(await run(state, copyJob("mixed-job")))).toBe(true)
    const other = hysdsContext("payload-of-another-job")
    fs.writeFileSync(path.join(aoiDir(state), "_publish.context.json"), other)
    const before = (await snapshot(state)).files
    const f = failure(await run(state, copyJob("mixed-job")))
    expect(f.error._tag).toBe("ConflictError")
    expect(f.error.message).toContain("already exists")
    expect((await snapshot(state)).files).toEqual(before)
    expect(fs.readFileSync(path.join(aoiDir(state), "_publish.context.json"), "utf8")).toBe(other)
  }, T)

  test("another job's without a GRQ document: refused (that job may still run), nothing touched; --force replaces it", async () => {
    const state = tempDir("state")
    plantOrphan(state, hysdsContext("payload-of-another-job", "task-other"))
    const before = listTree(path.join(state, "store"))
    const f = failure(await run(state, copyJob("mixed-job")))
    expect(f.error._tag).toBe("ConflictError")
    expect(f.error.message).toContain("payload-of-another-job")
    expect(f.error.message).toContain("task-other")
    expect(listTree(path.join(state, "store"))).toEqual(before)
    expect((await snapshot(state)).documents).toEqual([])

    expect(Exit.isSuccess(await run(state, copyJob("mixed-job"), { force: true }))).toBe(true)
    expect(fs.readFileSync(path.join(aoiDir(state), "_publish.context.json"), "utf8")).toBe(OURS)
    expect((await snapshot(state)).documents).toHaveLength(5)
  }, T)

  test("one without a payload_id is refused, as HySDS refuses it", async () => {
    const state = tempDir("state")
    plantOrphan(state, hysdsContext(null))
    const f = failure(await run(state, copyJob("mixed-job")))
    expect(f.error._tag).toBe("ConflictError")
    expect(f.error.message).toContain("without a payload_id")
    expect(fs.readFileSync(path.join(aoiDir(state), "_publish.context.json"), "utf8")).toBe(hysdsContext(null))
  }, T)

  test("the claim: a location another ingest holds is refused, and that ingest's claim is left alone", async () => {
    const state = tempDir("state")
    fs.mkdirSync(aoiDir(state), { recursive: true })
    const claim = JSON.stringify({ tx: "ingest-other", product: AOI })
    fs.writeFileSync(path.join(aoiDir(state), ".hysds-stac-claim.json"), claim)
    const f = failure(await run(state, copyJob("mixed-job")))
    expect(f.error._tag).toBe("ConflictError")
    expect(f.error.message).toContain("being published by another ingest (transaction ingest-other holds")
    expect(listTree(aoiDir(state))).toEqual([".hysds-stac-claim.json"])
    expect(fs.readFileSync(path.join(aoiDir(state), ".hysds-stac-claim.json"), "utf8")).toBe(claim)
  }, T)
})

/** The example's datasets.json with `publish` dropped from the entries named. */
const withoutPublish = (ipaths: ReadonlyArray<string>): string => {
  const config = JSON.parse(fs.readFileSync(path.join(import.meta.dir, "../../examples/datasets.json"), "utf8")) as {
    datasets: Array<{ ipath: string; publish?: unknown }>
  }
  for (const e of config.datasets) if (ipaths.includes(e.ipath)) delete e.publish
  const file = path.join(tempDir("datasets"), "datasets.json")
  fs.writeFileSync(file, JSON.stringify(config))
  return file
}

describe("an entry without publish", () => {
  test("its products are indexed with no urls and nothing uploaded but the small browse images, as HySDS does", async () => {
    const state = tempDir("state")
    const datasetsFile = withoutPublish(["hysds::data/area_of_interest", "hysds::data/S1-IFG"])
    const exit = await run(state, copyJob("mixed-job"), { datasetsFile })
    if (Exit.isFailure(exit)) throw new Error(Cause.pretty(exit.cause))
    const byId = new Map(exit.value.products.map((p) => [p.id, p]))
    expect(byId.get(AOI)).toMatchObject({ files: 1, documents: 1 })
    expect(byId.get(AOI)!.location).toBeUndefined()
    expect(byId.get(IFG)).toMatchObject({ files: 0, documents: 1 })
    expect(listTree(aoiDir(state))).toEqual([])
    expect(listTree(aoiBrowseDir(state))).toEqual([`${AOI}.browse_small.png`])
    expect(fs.existsSync(path.join(state, "store/s3/hysds-products/products/S1-IFG"))).toBe(false)
    const docs = (await snapshot(state)).documents as Array<{ id: string; doc: { urls: unknown } }>
    expect(docs.find((d) => d.id === AOI)?.doc.urls).toEqual([])
    expect(docs.find((d) => d.id === IFG)?.doc.urls).toEqual([])
    // Nothing of the run's own left behind (the browse location's claim included); a publish
    // context only where something was published (the STAC catalog's location).
    expect(listTree(path.join(state, "store")).filter((f) => f.includes(".hysds-stac-"))).toEqual([])
    expect(listTree(path.join(state, "store")).filter((f) => f.endsWith("_publish.context.json"))).toEqual([
      "s3/hysds-stac-catalogs/catalogs/stac_catalog_20240115_etna/_publish.context.json"
    ])

    // Indexed means "exists": a second ingest is refused like any other.
    const again = failure(await run(state, copyJob("mixed-job"), { datasetsFile }))
    expect(again.error._tag).toBe("ConflictError")
    expect(again.error.message).toContain("already exists")
  }, T)

  test("a rollback removes its document and its browse image", async () => {
    const state = tempDir("state")
    const datasetsFile = withoutPublish(["hysds::data/area_of_interest", "hysds::data/S1-IFG"])
    const f = failure(await run(state, copyJob("mixed-job"), { datasetsFile }, [{ port: "index", method: "bulkIndex" }]))
    expect(f.error._tag).toBe("IndexError")
    expect(listTree(path.join(state, "store"))).toEqual([])
    expect((await snapshot(state)).documents).toEqual([])
  }, T)

  test("a STAC catalog needs one: refused while planning, nothing published", async () => {
    const state = tempDir("state")
    const f = failure(await run(state, copyJob("mixed-job"), { datasetsFile: withoutPublish(["hysds::stac/catalog"]) }))
    expect(f.error._tag).toBe("ValidationError")
    expect(f.error.message).toContain("invalid")
    expect(JSON.stringify(f.error)).toContain("a STAC catalog needs publish.location")
    expect(listTree(path.join(state, "store"))).toEqual([])
  }, T)
})

describe("a location no store publishes to (WebDAV, HTTP)", () => {
  test("is refused while planning, before anything is claimed", async () => {
    const state = tempDir("state")
    const config = JSON.parse(fs.readFileSync(path.join(import.meta.dir, "../../examples/datasets.json"), "utf8")) as {
      datasets: Array<{ ipath: string; publish: { location: string } }>
    }
    config.datasets.find((e) => e.ipath === "hysds::data/area_of_interest")!.publish.location = "davs://dav.example.com/repo/{id}"
    const datasetsFile = path.join(tempDir("datasets"), "datasets.json")
    fs.writeFileSync(datasetsFile, JSON.stringify(config))
    const f = failure(await run(state, copyJob("mixed-job"), { datasetsFile }))
    expect(f.error._tag).toBe("ValidationError")
    expect(JSON.stringify(f.error)).toContain("no configured object store publishes to davs://")
    expect(listTree(path.join(state, "store"))).toEqual([])
  }, T)
})
