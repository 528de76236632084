/**
 * Planning through the synchronous node:fs JobTree never waits; it must still
 * give the event loop turns, or a server planning a large job answers nothing
 * (not even /healthz) until the plan ends.
 */
import { BunContext } from "@effect/platform-bun"
import { NodeJobTree } from "@hysds-stac/adapters"
import { EventLoop, Ingest, JobTree } from "@hysds-stac/core"
import { afterAll, describe, expect, test } from "bun:test"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "hysds-stac-eventloop-")))
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }))

const ITEMS = 300

/** A job with one catalog of ITEMS items, each in a directory of its own with one asset. */
const makeJob = () => {
  const job = path.join(temp, "job")
  const base = path.join(job, "stac_catalog_loop")
  const json = (file: string, value: unknown) => {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, JSON.stringify(value))
  }
  json(path.join(job, "_job.json"), { task_id: "loop", job_info: { status: "job-completed", exit_code: 0 } })
  json(path.join(base, "catalog.json"), {
    type: "Catalog", stac_version: "1.1.0", id: "stac_catalog_loop", description: "d",
    links: [{ rel: "root", href: "./catalog.json" }, { rel: "child", href: "./c/collection.json" }]
  })
  const links = []
  for (let i = 0; i < ITEMS; i++) {
    const id = `item-${i}`
    fs.mkdirSync(path.join(base, "c", id), { recursive: true })
    fs.writeFileSync(path.join(base, "c", id, "a.bin"), "x")
    json(path.join(base, "c", id, `${id}.json`), {
      type: "Feature", stac_version: "1.1.0", id, collection: "c",
      geometry: { type: "Point", coordinates: [1, 2] }, bbox: [1, 2, 1, 2], properties: { datetime: "2024-01-01T00:00:00Z" },
      links: [{ rel: "root", href: "../../catalog.json" }, { rel: "parent", href: "../collection.json" }, { rel: "collection", href: "../collection.json" }],
      assets: { a: { href: "./a.bin", roles: ["data"] } }
    })
    links.push({ rel: "item", href: `./${id}/${id}.json` })
  }
  json(path.join(base, "c", "collection.json"), {
    type: "Collection", stac_version: "1.1.0", id: "c", description: "d", license: "proprietary",
    extent: { spatial: { bbox: [[-180, -90, 180, 90]] }, temporal: { interval: [["2024-01-01T00:00:00Z", null]] } },
    links: [{ rel: "root", href: "../catalog.json" }, { rel: "parent", href: "../catalog.json" }, ...links]
  })
  const datasets = path.join(temp, "datasets.json")
  json(datasets, {
    datasets: [{
      ipath: "hysds::stac/catalog", version: "stac_catalog", level: "catalog", type: "stac_catalog",
      match_pattern: "/(?P<id>stac_catalog_.+)$", publish: { location: "file:///tmp/unused/${id}", urls: ["https://example.com/${id}"] }
    }]
  })
  return { job, datasets }
}

/** The node:fs port, counting its calls (one per directory listed, per link resolved, per batch of files read). */
const countingPort = () => {
  const port = NodeJobTree.make()
  const counter = { calls: 0 }
  const counted = <A extends ReadonlyArray<unknown>, B>(f: (...a: A) => B) => (...a: A): B => {
    counter.calls++
    return f(...a)
  }
  const shape: JobTree.JobTreeShape = { list: counted(port.list), resolve: counted(port.resolve), readTexts: counted(port.readTexts) }
  return { layer: Layer.succeed(JobTree.JobTree, shape), counter }
}

describe("planning through the synchronous JobTree", () => {
  const { job, datasets } = makeJob()

  test("gives the event loop turns all along, not only before and after (at every call when asked to)", async () => {
    const { layer, counter } = countingPort()
    // At each turn of the event loop (one setImmediate callback per turn), how many port calls were made so far.
    const seen: Array<number> = []
    let running = true
    const tick = () => {
      if (!running) return
      seen.push(counter.calls)
      setImmediate(tick)
    }
    setImmediate(tick)
    const result = await Ingest.plan({ jobDir: job, datasetsFile: datasets, force: false, dryRun: true, stac: true, concurrency: 4, batchSize: 500, hostname: "h", env: {} }).pipe(
      Effect.provideService(EventLoop.Interval, 0),
      Effect.provide(Layer.mergeAll(BunContext.layer, layer)),
      Effect.runPromise
    )
    running = false
    seen.push(counter.calls)
    expect(result.totals.items).toBe(ITEMS)
    // The port was asked once per directory at least (ITEMS of them); between two turns,
    // only a few calls: no stretch of the walk held the loop.
    expect(counter.calls).toBeGreaterThan(ITEMS)
    let longest = 0
    for (let i = 1; i < seen.length; i++) longest = Math.max(longest, seen[i]! - seen[i - 1]!)
    expect(longest).toBeLessThanOrEqual(3)
  })
})
