/**
 * All or nothing for a large pipelined ingest, on REAL servers: a catalog of
 * 2,000 items (an asset each) flows through the stages in batches (files
 * stored, items registered, documents indexed, side by side), and a failure
 * forced in each stage in turn (S3 refusing an upload, the STAC API refusing
 * a bulk_items request, GRQ refusing a _bulk request, `_datasets.json` that
 * cannot be written) rolls everything back: no object under the job's tag,
 * no GRQ document of its items, no collection or item in the STAC API, and
 * the transaction recorded as aborted with no failed undo.
 *
 * Runs in process (Ingest.run with the real backends' layers) so a progress
 * event can break the job dir at the right moment, and the failures come
 * through a FaultProxy in front of the real server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { BunContext } from "@effect/platform-bun"
import { Backends, Settings } from "@hysds-stac/adapters"
import { type Errors, Ingest, Journal, Progress } from "@hysds-stac/core"
import { Effect, Either, Exit, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as FaultProxy from "./FaultProxy.ts"
import { DATASETS, type Fixture, type Job, fixture, grqDocs, s3State, services, stacState, tag, tempDir } from "./Real.ts"

const svc = services()
const TIMEOUT = 600_000
const ITEMS = 2000
const BATCH = 250

const pathOf = (r: Request) => new URL(r.url).pathname
const isUpload = (r: Request) => r.method === "PUT" && !r.headers.has("x-amz-copy-source")

/** A job with one STAC catalog: a collection of ITEMS items, each with one small asset. */
const bigJob = (t: string): Job => {
  const dir = path.join(tempDir("bigjob"), `job-${t}`)
  const catalog = `stac_catalog_pipeline_${t}`
  const collection = `pipeline-${t}`
  const base = path.join(dir, catalog)
  fs.mkdirSync(path.join(base, "items"), { recursive: true })
  fs.writeFileSync(path.join(dir, "_job.json"), JSON.stringify({ task_id: `pipeline-${t}`, job_info: { status: "job-completed", exit_code: 0 } }))
  const json = (file: string, value: unknown) => fs.writeFileSync(file, JSON.stringify(value))
  json(path.join(base, "catalog.json"), {
    type: "Catalog",
    stac_version: "1.1.0",
    id: catalog,
    description: "pipeline rollback test",
    links: [{ rel: "root", href: "./catalog.json" }, { rel: "child", href: "./collection.json" }]
  })
  const items: Array<string> = []
  for (let i = 0; i < ITEMS; i++) {
    const id = `${collection}-${String(i).padStart(5, "0")}`
    items.push(id)
    fs.mkdirSync(path.join(base, "items", id))
    fs.writeFileSync(path.join(base, "items", id, "data.bin"), `asset ${i}\n`)
    const x = (i % 360) - 180 + 0.5
    const y = ((i * 7) % 170) - 85 + 0.5
    json(path.join(base, "items", id, `${id}.json`), {
      type: "Feature",
      stac_version: "1.1.0",
      id,
      collection,
      geometry: { type: "Point", coordinates: [x, y] },
      bbox: [x, y, x, y],
      properties: { datetime: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString() },
      links: [{ rel: "root", href: "../../catalog.json" }, { rel: "parent", href: "../../collection.json" }, { rel: "collection", href: "../../collection.json" }],
      assets: { data: { href: "./data.bin", type: "application/octet-stream", roles: ["data"] } }
    })
  }
  json(path.join(base, "collection.json"), {
    type: "Collection",
    stac_version: "1.1.0",
    id: collection,
    description: "pipeline rollback test",
    license: "proprietary",
    extent: { spatial: { bbox: [[-180, -90, 180, 90]] }, temporal: { interval: [["2024-01-01T00:00:00Z", null]] } },
    links: [
      { rel: "root", href: "./catalog.json" },
      { rel: "parent", href: "./catalog.json" },
      ...items.map((id) => ({ rel: "item", href: `./items/${id}/${id}.json` }))
    ]
  })
  return { dir, tag: t, products: [], catalog, collection, items, docIds: items }
}

interface Seen {
  files: number
  items: number
  documents: number
}

describe.skipIf(!svc)(`a ${ITEMS}-item pipelined ingest fails in each stage and leaves nothing behind`, () => {
  let fx: Fixture
  const proxies: Array<FaultProxy.FaultProxy> = []

  beforeAll(async () => {
    fx = await fixture(svc!, "opensearch", svc!.OPENSEARCH_URL!, "pipeline")
  }, TIMEOUT)

  afterAll(async () => {
    for (const p of proxies) p.stop()
    await fx?.cleanup()
  }, TIMEOUT)

  const proxy = (upstream: string, rules: ReadonlyArray<FaultProxy.Rule>) => {
    const p = FaultProxy.start(upstream, rules)
    proxies.push(p)
    return p
  }

  /** Ingests `job` in process against the fixture's servers (with `overrides`); `onProgress` sees every event. */
  const run = async (job: Job, overrides: Record<string, string>, onProgress: (seen: Seen) => void = () => {}) => {
    const env = fx.env(overrides)
    const settings = Settings.resolve({ env, stateDir: tempDir("state") })
    if (Either.isLeft(settings)) throw new Error(settings.left.message)
    const seen: Seen = { files: 0, items: 0, documents: 0 }
    const records: Array<Journal.JournalRecord> = []
    const progress = Layer.succeed(Progress.Progress, {
      emit: (e) =>
        Effect.sync(() => {
          if (e._tag === "FilePublished") seen.files++
          else if (e._tag === "ItemsRegistered") seen.items += e.count
          else if (e._tag === "DocumentsIndexed") seen.documents += e.count
          else return
          onProgress(seen)
        })
    })
    const exit = await Effect.runPromiseExit(
      Ingest.run({
        jobDir: job.dir,
        datasetsFile: DATASETS,
        force: false,
        dryRun: false,
        stac: true,
        concurrency: 16,
        batchSize: BATCH,
        hostname: "pipeline-test",
        env
      }).pipe(Effect.provide(Layer.mergeAll(Backends.layer(settings.right), Journal.memory(records), progress, BunContext.layer)))
    )
    return { exit, seen, records }
  }

  /** The run failed in `category`, its rollback failed nowhere, the journal says aborted, and no backend holds anything of `job`. */
  const expectNothingLeft = async (job: Job, outcome: Awaited<ReturnType<typeof run>>, category: Errors.PublishError["category"]) => {
    if (Exit.isSuccess(outcome.exit)) throw new Error("the ingest was meant to fail")
    const failure = outcome.exit.cause._tag === "Fail" ? outcome.exit.cause.error : undefined
    if (failure?._tag !== "IngestFailed") throw new Error(`not an IngestFailed: ${String(outcome.exit.cause)}`)
    expect({ category: failure.error.category, failed: failure.rollback.failed }).toEqual({ category, failed: [] })
    expect(failure.rollback.undone.length).toBeGreaterThan(0)
    expect(outcome.records.findLast((r) => r._tag === "End")).toMatchObject({ _tag: "End", outcome: "aborted" })
    expect(await s3State(fx.client, fx.buckets, job.tag)).toEqual([])
    expect(await grqDocs(fx.grqUrl, job.docIds)).toEqual([])
    expect(await stacState(svc!.STAC_API_URL!, [job.collection])).toEqual({ [job.collection]: { collection: null, items: [] } })
    console.log(`  ${category}: failed after ${JSON.stringify(outcome.seen)}, ${failure.rollback.undone.length} steps undone`)
  }

  // Each failure comes half-way, in the 4th of 8 batches, when earlier batches
  // are already registered and indexed: their steps in the later stages are
  // undone before the files they depend on.
  test("files: S3 refuses an upload of a middle batch (403, not retried)", async () => {
    const job = fx.track(bigJob(tag()))
    // The marker, the head (catalog, collection), then 500 uploads per batch (250 items, 250 assets).
    const s3 = proxy(svc!.S3_ENDPOINT!, [{ match: isUpload, nth: 1800, status: 403 }])
    const outcome = await run(job, { S3_ENDPOINT: s3.url })
    expect(s3.injected()).toBe(1)
    await s3.settled()
    await expectNothingLeft(job, outcome, "storage")
  }, TIMEOUT)

  test("STAC items: the STAC API refuses a bulk_items request of a middle batch (400)", async () => {
    const job = fx.track(bigJob(tag()))
    // One bulk_items request per batch of 250 (STAC_BATCH_SIZE defaults to 500; the empty probe is not counted).
    const stac = proxy(svc!.STAC_API_URL!, [
      { match: (r) => r.method === "POST" && pathOf(r).endsWith("/bulk_items") && Number(r.headers.get("content-length") ?? 0) > 100, nth: 4, status: 400 }
    ])
    const outcome = await run(job, { STAC_API_URL: stac.url })
    expect(stac.injected()).toBe(1)
    await stac.settled()
    await expectNothingLeft(job, outcome, "catalog-api")
  }, TIMEOUT)

  test("GRQ documents: GRQ refuses a _bulk request of a middle batch (400)", async () => {
    const job = fx.track(bigJob(tag()))
    const grq = proxy(fx.grqUrl, [{ match: (r) => r.method === "POST" && pathOf(r).endsWith("/_bulk"), nth: 4, status: 400 }])
    const outcome = await run(job, { GRQ_ES_URL: grq.url })
    expect(grq.injected()).toBe(1)
    await grq.settled()
    await expectNothingLeft(job, outcome, "index")
  }, TIMEOUT)

  test("job file: `_datasets.json` cannot be written once every document is indexed", async () => {
    const job = fx.track(bigJob(tag()))
    // A directory where the file goes, made once the last document is indexed: the rename onto it fails.
    const outcome = await run(job, {}, (seen) => {
      if (seen.documents === ITEMS) fs.mkdirSync(path.join(job.dir, "_datasets.json", "in-the-way"), { recursive: true })
    })
    expect(outcome.seen).toEqual({ files: ITEMS * 2 + 2, items: ITEMS, documents: ITEMS })
    await expectNothingLeft(job, outcome, "storage")
  }, TIMEOUT)
})
