#!/usr/bin/env bun
/**
 * Planning benchmark: the plan of a synthetic job (one catalog, N items x K
 * assets) against the file system floor measured in the same run on the same
 * tree: a plain synchronous walk that stats and realpaths every entry and
 * reads and parses every JSON file, which is the least any plan must do.
 * Prints each, their ratio and the peak RSS; no backend is needed (a plan
 * writes nothing).
 *
 *   bun bench/plan.ts --items 10000 [--assets 3] [--asset-kb 1] [--runs 2] [--platform-fs] [--live]
 *
 * `--platform-fs` plans through @effect/platform's FileSystem (core's portable
 * JobTree) instead of the node:fs one the CLI and server provide.
 * `--live` also reports the most live heap the plan held: a full collection
 * every 100 ms, then the heap's size, read whenever planning gives the event
 * loop a turn (every 250 ms of work), and once more with the plan made. Why: a
 * plan's peak RSS is about the modules plus twice its live heap (the collector
 * lets the heap grow in proportion to what survives), so the live heap is what
 * a memory target has to cut. The collections slow the plan: its time is not
 * comparable then. Without `--live` no collection is forced.
 * Add `bun --cpu-prof bench/plan.ts ...` for a profile.
 */
import { BunContext } from "@effect/platform-bun"
import { EngineMemory, NodeJobTree } from "@hysds-stac/adapters"
import { Ingest } from "@hysds-stac/core"
import { Effect, Exit, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { generate } from "./Generate.ts"
import * as Rss from "./Rss.ts"

const { values } = parseArgs({
  options: {
    items: { type: "string", default: "1000" },
    assets: { type: "string", default: "3" },
    "asset-kb": { type: "string", default: "1" },
    runs: { type: "string", default: "2" },
    "platform-fs": { type: "boolean", default: false },
    live: { type: "boolean", default: false }
  }
})

const items = Number(values.items)
const root = fs.mkdtempSync(path.join(os.tmpdir(), "hysds-stac-plan-bench-"))
const job = generate(root, { items, assets: Number(values.assets), assetBytes: Number(values["asset-kb"]) * 1024, tag: Date.now().toString(36) })

/** The floor: walk, stat and realpath every entry, read and parse every JSON file. */
const floor = (dir: string): number => {
  let parsed = 0
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      fs.statSync(p)
      fs.realpathSync.native(p)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith(".json")) {
        JSON.parse(fs.readFileSync(p, "utf8"))
        parsed++
      }
    }
  }
  walk(dir)
  return parsed
}

// As the CLI runs: planning turns as often as the engine memory setting asks (adapters EngineMemory).
const layer = Layer.merge(values["platform-fs"] ? BunContext.layer : Layer.merge(BunContext.layer, NodeJobTree.layer), EngineMemory.layer(process.env))
const plan = () =>
  Effect.runPromiseExit(
    Ingest.plan({
      jobDir: job.jobDir,
      datasetsFile: job.datasets,
      force: false,
      dryRun: true,
      stac: true,
      concurrency: 16,
      batchSize: 500,
      hostname: "bench",
      env: {}
    }).pipe(Effect.provide(layer))
  )

let peak = process.memoryUsage().rss
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
/** With --live, while a plan runs: the most live heap read, and how many readings (each after a full collection). */
const live = { planning: false, most: 0, readings: 0 }
const readLive = () => {
  Bun.gc(true)
  live.most = Math.max(live.most, process.memoryUsage().heapUsed)
  live.readings++
}
const liveSampler = values.live ? setInterval(() => live.planning && readLive(), 100) : undefined
/** Wall and CPU (user + system) seconds: on a loaded machine the CPU ratio is the steadier one. */
const time = async <A>(f: () => A | Promise<A>): Promise<[A, number, number]> => {
  const t = performance.now()
  const c = process.cpuUsage()
  const a = await f()
  const used = process.cpuUsage(c)
  return [a, (performance.now() - t) / 1000, (used.user + used.system) / 1e6]
}

console.log(`plan of ${items} items x ${values.assets} assets (${values["platform-fs"] ? "platform FileSystem" : "node:fs JobTree"}; ${Rss.engineSettings()})`)
for (let run = 1; run <= Number(values.runs); run++) {
  const [jsonFiles, floorSeconds, floorCpu] = await time(() => floor(job.jobDir))
  const peakOfPlan = Rss.during()
  let liveBefore = 0
  if (values.live) {
    Bun.gc(true)
    liveBefore = process.memoryUsage().heapUsed
    Object.assign(live, { planning: true, most: 0, readings: 0 })
  }
  const [exit, planSeconds, planCpu] = await time(plan)
  if (values.live) {
    live.planning = false
    // One reading more with the plan made and held: a plan too short to give the event loop a turn gets one too.
    readLive()
  }
  peak = peakOfPlan(peak)
  if (!Exit.isSuccess(exit)) throw new Error(`plan failed: ${JSON.stringify(exit.cause).slice(0, 2000)}`)
  console.log(
    `run ${run}: floor ${floorSeconds.toFixed(2)} s (CPU ${floorCpu.toFixed(2)} s; ${jsonFiles} JSON files), ` +
      `plan ${planSeconds.toFixed(2)} s (CPU ${planCpu.toFixed(2)} s), ratio ${(planSeconds / floorSeconds).toFixed(2)}x (CPU ${(planCpu / floorCpu).toFixed(2)}x), ` +
      `peak RSS ${(peak / 1048576).toFixed(0)} MiB` +
      (values.live
        ? `, live heap at most ${(live.most / 1048576).toFixed(0)} MiB in ${live.readings} reading${live.readings === 1 ? "" : "s"} (${(liveBefore / 1048576).toFixed(0)} MiB before the plan)`
        : "")
  )
}
clearInterval(sampler)
clearInterval(liveSampler)
fs.rmSync(root, { recursive: true, force: true })
