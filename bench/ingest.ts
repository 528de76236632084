#!/usr/bin/env bun
/**
 * Ingest benchmark: an ingest of N items x K assets, each phase set against
 * its raw floor measured in the same run on the same data and servers (see
 * Floors.ts), then a rollback of the same size (another job, interrupted when
 * its last step starts, as Ctrl-C would, so every step is undone). The machine is shared and loaded:
 * read the ratios, not the seconds. Runs against whatever backends the
 * environment configures (see the README); `--services` reads
 * test/services/.run/services.env and uses the real S3, OpenSearch and STAC
 * API, and only then are the S3, STAC and GRQ floors measured.
 *
 *   bun bench/ingest.ts --items 1000 [--assets 3] [--asset-kb 16] [--services]
 *     [--concurrency 16] [--batch 500] [--sequential] [--no-rollback] [--json]
 *
 * `--sequential` is the baseline: one file, one item and one document per
 * request. `--json` prints one JSON object instead of the table. Everything
 * the bench wrote (job dirs, objects, collections, items, documents, scratch
 * index and collection) is removed before it exits.
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3"
import { BunContext } from "@effect/platform-bun"
import { Backends, EngineMemory, NodeJobTree, Settings, Tracing } from "@hysds-stac/adapters"
import { GrqIndex, Ingest, ObjectStore, PhaseClock, Plan, Progress, StacRegistry } from "@hysds-stac/core"
import { Effect, Either, Exit, Fiber, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import * as Busy from "./Busy.ts"
import * as Cpu from "./Cpu.ts"
import * as Floors from "./Floors.ts"
import { generate } from "./Generate.ts"
import * as Rss from "./Rss.ts"

const { values } = parseArgs({
  options: {
    items: { type: "string", default: "1000" },
    assets: { type: "string", default: "3" },
    "asset-kb": { type: "string", default: "16" },
    services: { type: "boolean", default: false },
    sequential: { type: "boolean", default: false },
    concurrency: { type: "string", default: "16" },
    batch: { type: "string", default: "500" },
    "no-rollback": { type: "boolean", default: false },
    json: { type: "boolean", default: false }
  }
})

const servicesFile = (): Record<string, string> => {
  const file = path.resolve(import.meta.dir, "..", "test", "services", ".run", "services.env")
  return Object.fromEntries(
    fs.readFileSync(file, "utf8").split("\n").filter((l) => l.includes("=") && !l.startsWith("#")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])
  )
}
const services = values.services ? servicesFile() : undefined
const servicesEnv = (s: Record<string, string>): Record<string, string> => ({
  HYSDS_STAC_STORE: "s3",
  S3_ENDPOINT: s.S3_ENDPOINT!,
  S3_ACCESS_KEY_ID: s.S3_ACCESS_KEY_ID!,
  S3_SECRET_ACCESS_KEY: s.S3_SECRET_ACCESS_KEY!,
  S3_REGION: s.S3_REGION ?? "us-east-1",
  GRQ_ES_ENGINE: "opensearch",
  GRQ_ES_URL: s.OPENSEARCH_URL!,
  STAC_API_URL: s.STAC_API_URL!
})

const items = Number(values.items)
const concurrency = values.sequential ? 1 : Number(values.concurrency)
const batch = values.sequential ? 1 : Number(values.batch)
const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
const shape = { items, assets: Number(values.assets), assetBytes: Number(values["asset-kb"]) * 1024, tag }
const BUCKET = "hysds-stac-bench"
const root = fs.mkdtempSync(path.join(os.tmpdir(), "hysds-stac-bench-"))
const stateDir = path.join(root, "state")
const env = { ...process.env, ...(services ? servicesEnv(services) : {}) }
const settings = Settings.resolve({ env, stateDir })
if (Either.isLeft(settings)) throw new Error(settings.left.message)
// The job tree is read through node:fs in bulk, as the CLI and server read it.
const backends = Layer.mergeAll(Backends.layer(settings.right), BunContext.layer, NodeJobTree.layer, EngineMemory.layer(process.env))
const journal = Backends.journalLayer(settings.right)
const say = (text: string) => values.json || console.log(text)

if (services) {
  // The bench bucket, created once; "already yours" is fine.
  const s3 = new S3Client({
    endpoint: services.S3_ENDPOINT!,
    region: services.S3_REGION ?? "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: services.S3_ACCESS_KEY_ID!, secretAccessKey: services.S3_SECRET_ACCESS_KEY! }
  })
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((e: { name?: string }) => {
    if (e.name !== "BucketAlreadyOwnedByYou" && e.name !== "BucketAlreadyExists") throw e
  })
  s3.destroy()
}

let peak = 0
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)

type Phase = PhaseClock.Phase
const PHASES = PhaseClock.PHASES.filter((p) => p !== "rollback")

/** The run's phase clock (core PhaseClock: phases as spans, true also when they overlap). */
const timeline = {
  started: 0,
  rollback: 0,
  clock: PhaseClock.make(0),
  busy: Busy.make(),
  /** The servers' CPU when the rollback started (Cpu.servers). */
  serversAtRollback: {} as Record<string, number>,
  whenLastStep: undefined as (() => void) | undefined
}
/** Where services.sh keeps its pid files: each server's CPU is read from there (`--services` only). */
const runDir = path.resolve(import.meta.dir, "..", "test", "services", ".run")
const serverCpu = (): Record<string, number> => (services ? Cpu.servers(runDir) : {})
const serverCpuSince = (before: Record<string, number>): Record<string, number> => (services ? Cpu.serversSince(runDir, before) : {})
const progress = Layer.succeed(Progress.Progress, {
  emit: (e) =>
    Effect.sync(() => {
      const now = performance.now()
      timeline.clock.observe(e, now)
      timeline.busy.observe(e, now)
      if (e._tag === "RollingBack" && !timeline.rollback) {
        timeline.rollback = now
        timeline.serversAtRollback = serverCpu()
      }
      // The last step has started: every other one is done.
      if (e._tag === "StepStarted" && e.name === "WriteJobFile") timeline.whenLastStep?.()
    })
})

const options = (jobDir: string, datasetsFile: string): Ingest.IngestOptions => ({
  jobDir,
  datasetsFile,
  force: false,
  dryRun: false,
  stac: true,
  concurrency,
  batchSize: batch,
  hostname: os.hostname(),
  env: { BENCH_BUCKET: BUCKET }
})

/** `interrupt`: stop the run when its last step starts (as Ctrl-C would), so every step is undone. */
const run = async (jobDir: string, datasets: string, interrupt = false) => {
  peak = process.memoryUsage().rss
  const peakOfRun = Rss.during()
  const spentOfRun = Cpu.during()
  const serversAtStart = serverCpu()
  timeline.rollback = 0
  timeline.started = performance.now()
  timeline.clock = PhaseClock.make(timeline.started)
  timeline.busy = Busy.make()
  const fiber = Effect.runFork(
    // Without an exporter, as the CLI runs without OTEL_EXPORTER_OTLP_ENDPOINT; with
    // the journal the settings name (the header line says which), as the CLI has.
    Ingest.run(options(jobDir, datasets)).pipe(Effect.provide(Layer.mergeAll(backends, journal, progress, Tracing.off)))
  )
  timeline.whenLastStep = interrupt ? () => void Effect.runFork(Fiber.interrupt(fiber)) : undefined
  const exit = await Effect.runPromise(Fiber.await(fiber))
  const ended = performance.now()
  peak = peakOfRun(peak)
  const cpu = spentOfRun()
  return {
    cpu,
    servers: serverCpuSince(serversAtStart),
    undoServers: timeline.rollback ? serverCpuSince(timeline.serversAtRollback) : {},
    seconds: (ended - timeline.started) / 1000,
    undoSeconds: timeline.rollback ? (ended - timeline.rollback) / 1000 : 0,
    phases: timeline.clock.times(timeline.rollback || ended),
    busy: timeline.busy.seconds(),
    peakMiB: peak / 1048576,
    exit
  }
}

/** Removes what an ingest published: its objects, its STAC collections and items, its GRQ documents. */
const unpublish = (plan: Plan.Plan) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore.ObjectStore
    const index = yield* GrqIndex.GrqIndex
    const registry = yield* StacRegistry.StacRegistry
    for (const p of plan.products) {
      // Every location it wrote under (a product of an entry without publish has none but its browse location).
      for (const root of p.roots) {
        const objects = yield* store.list(root)
        for (let i = 0; i < objects.length; i += 1000) yield* store.remove(objects.slice(i, i + 1000).map((o) => o.url))
      }
      const whole = yield* Plan.published(p)
      yield* index.remove(whole.documents.map((d) => ({ index: d.index, id: d.id })))
      // The registry deletes a collection's items with it (pgstac's cascade; the embedded registry lives in the state dir).
      for (const c of whole.collections) yield* registry.deleteCollection(String(c.id))
    }
  })

say(`backends: ${Settings.describe(settings.right).map(([p, d]) => `${p}=${d}`).join("; ")}`)
say(`mode: ${values.sequential ? "sequential (one request at a time)" : `concurrency ${concurrency}, batch ${batch}`}`)
say(`memory: ${Rss.engineSettings()}`)

const a = generate(root, shape)
const b = values["no-rollback"] ? undefined : generate(root, { ...shape, tag: `${shape.tag}r` })
let published: Plan.Plan | undefined
try {
  const ingest = await run(a.jobDir, a.datasets)
  if (!Exit.isSuccess(ingest.exit)) throw new Error(`ingest failed: ${JSON.stringify(ingest.exit.cause)}`)
  // The same plan again, untimed: the items and documents the floors send, and what to clean up.
  published = await Effect.runPromise(Ingest.plan(options(a.jobDir, a.datasets)).pipe(Effect.provide(Layer.merge(BunContext.layer, NodeJobTree.layer))))

  const floors: Partial<Record<Phase, number>> = {}
  /** What each floor spent: the ingest is set against their sum below. */
  const floorCpu: Partial<Record<Phase, Cpu.Spent>> = {}
  const floorServers: Record<string, number> = {}
  const floor = async <A>(phase: Phase, work: () => Promise<A>): Promise<A> => {
    const spent = Cpu.during()
    const serversBefore = serverCpu()
    const result = await work()
    floorCpu[phase] = spent()
    for (const [name, s] of Object.entries(serverCpuSince(serversBefore))) floorServers[name] = (floorServers[name] ?? 0) + s
    return result
  }
  floors.plan = (await floor("plan", () => Floors.filesystem(a.jobDir))).seconds
  if (services) {
    const product = published.products[0]!
    const productFiles: Array<string> = []
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) e.isDirectory() ? walk(path.join(dir, e.name)) : productFiles.push(path.join(dir, e.name))
    }
    walk(product.dir)
    floors.files = await floor("files", () => Floors.s3(
      { endpoint: services.S3_ENDPOINT!, region: services.S3_REGION ?? "us-east-1", accessKeyId: services.S3_ACCESS_KEY_ID!, secretAccessKey: services.S3_SECRET_ACCESS_KEY!, bucket: BUCKET },
      `floor-${tag}`,
      productFiles,
      concurrency
    ))
    // The items and documents as the ingest sent them, held whole here (the ingest never does).
    const whole = await Effect.runPromise(Plan.published(product).pipe(Effect.provide(BunContext.layer)))
    const group = whole.items[0]!
    floors.stac = await floor("stac", () => Floors.stac(services.STAC_API_URL!, { ...whole.collections[0]! }, `bench-floor-${tag}`, group.items.map((i) => ({ ...i })), batch))
    floors.grq = await floor("grq", () => Floors.grq(services.OPENSEARCH_URL!, `hysds_stac_bench_floor_${tag}`, whole.documents, batch))
  }

  const rollback = b ? await run(b.jobDir, b.datasets, true) : undefined
  if (rollback && Exit.isSuccess(rollback.exit)) throw new Error("the rollback run was meant to fail")
  if (rollback && !rollback.undoSeconds) throw new Error(`the rollback run failed before publishing: ${JSON.stringify(rollback.exit)}`)

  const measured = PHASES.filter((p) => floors[p] !== undefined)
  /** A stage's time at work (Busy.ts), beside its span. */
  const busyOf = (p: Phase): number | undefined => (p === "files" || p === "stac" || p === "grq" ? ingest.busy[p] : undefined)
  const sumFloors = measured.reduce((n, p) => n + floors[p]!, 0)
  const slowest = Math.max(...measured.map((p) => floors[p]!))
  const report = {
    items,
    assets: shape.assets,
    assetKiB: shape.assetBytes / 1024,
    files: published.totals.files,
    bytes: a.bytes,
    concurrency,
    batch,
    ingest: { seconds: ingest.seconds, itemsPerSecond: items / ingest.seconds, peakRssMiB: ingest.peakMiB, cpu: ingest.cpu },
    floorsCpu: floorCpu,
    servers: { ingest: ingest.servers, floors: floorServers, ...(rollback ? { undo: rollback.undoServers } : {}) },
    phases: Object.fromEntries(
      PHASES.filter((p) => ingest.phases[p] !== undefined).map((p) => [
        p,
        {
          seconds: ingest.phases[p]!,
          ...(floors[p] !== undefined ? { floor: floors[p]!, ratio: ingest.phases[p]! / floors[p]! } : {}),
          ...(busyOf(p) !== undefined ? { busy: busyOf(p)!, ...(floors[p] !== undefined ? { busyRatio: busyOf(p)! / floors[p]! } : {}) } : {})
        }
      ])
    ),
    ...(measured.length > 1
      ? { endToEnd: { sumOfFloors: sumFloors, ratioToSum: ingest.seconds / sumFloors, slowestFloor: slowest, ratioToSlowest: ingest.seconds / slowest } }
      : {}),
    ...(rollback
      ? { rollback: { undoSeconds: rollback.undoSeconds, ratioToIngest: rollback.undoSeconds / ingest.seconds, peakRssMiB: rollback.peakMiB } }
      : {})
  }
  if (values.json) console.log(JSON.stringify(report))
  else {
    const MiB = a.bytes / 1048576
    console.log(
      `ingest    ${items} items x ${shape.assets} assets, ${published.totals.files} files (${MiB.toFixed(1)} MiB): ${ingest.seconds.toFixed(2)} s, ` +
        `${(items / ingest.seconds).toFixed(1)} items/s, ${(MiB / ingest.seconds).toFixed(2)} MB/s, peak RSS ${ingest.peakMiB.toFixed(0)} MiB`
    )
    const names: Record<Phase, string> = { plan: "plan", claim: "claim", files: "files", stac: "STAC items", grq: "GRQ docs", finish: "job file + commit", rollback: "rollback" }
    const floorNames: Partial<Record<Phase, string>> = {
      plan: "walk+stat+read+parse",
      files: `bare PutObject x${concurrency}`,
      stac: `bare bulk_items of ${batch}`,
      grq: `bare _bulk of ${batch}, one refresh`
    }
    // `project` is the phase's span; `at work`, a stage's own time (Busy.ts): they differ where stages overlap.
    console.log(
      `  ${"phase".padEnd(18)} ${"project".padStart(9)} ${"floor".padStart(9)} ${"ratio".padStart(7)} ${"at work".padStart(9)} ${"ratio".padStart(7)}  floor is`
    )
    type Row = { seconds: number; floor?: number; ratio?: number; busy?: number; busyRatio?: number }
    for (const [p, r] of Object.entries(report.phases) as Array<[Phase, Row]>) {
      console.log(
        `  ${names[p].padEnd(18)} ${`${r.seconds.toFixed(2)} s`.padStart(9)} ${(r.floor !== undefined ? `${r.floor.toFixed(2)} s` : "-").padStart(9)} ` +
          `${(r.ratio !== undefined ? `${r.ratio.toFixed(2)}x` : "").padStart(7)} ${(r.busy !== undefined ? `${r.busy.toFixed(2)} s` : "").padStart(9)} ` +
          `${(r.busyRatio !== undefined ? `${r.busyRatio.toFixed(2)}x` : "").padStart(7)}  ${floorNames[p] ?? ""}`
      )
    }
    if (report.endToEnd) {
      const e = report.endToEnd
      console.log(
        `  ${"end-to-end".padEnd(18)} ${`${ingest.seconds.toFixed(2)} s`.padStart(9)}  vs sum of floors ${e.sumOfFloors.toFixed(2)} s: ${e.ratioToSum.toFixed(2)}x; ` +
          `vs slowest floor ${e.slowestFloor.toFixed(2)} s: ${e.ratioToSlowest.toFixed(2)}x`
      )
    }
    const sum = (pick: (c: Cpu.Spent) => number | undefined) =>
      measured.reduce<number | undefined>((n, p) => {
        const v = floorCpu[p] && pick(floorCpu[p]!)
        return n === undefined || v === undefined ? undefined : n + v
      }, 0)
    const machine = (busy: number | undefined, share: number | undefined) =>
      busy === undefined ? "" : `, machine busy ${busy.toFixed(1)} s${share !== undefined ? ` (${(share * 100).toFixed(0)}% of ${Cpu.cores} cores)` : ""}`
    const floorsMachine = sum((c) => c.machine)
    console.log(
      `  ${"CPU".padEnd(18)} ingest: this process ${ingest.cpu.process.toFixed(1)} s${machine(ingest.cpu.machine, ingest.cpu.busyShare)}; ` +
        `floors: this process ${sum((c) => c.process)!.toFixed(1)} s${machine(floorsMachine, undefined)} ` +
        `(${measured.map((p) => `${names[p]} ${floorCpu[p]!.process.toFixed(1)}/${floorCpu[p]!.machine?.toFixed(1) ?? "?"}`).join(", ")})`
    )
    if (Object.keys(ingest.servers).length > 0) {
      console.log(`  ${"servers' CPU".padEnd(18)} ingest: ${Cpu.describeServers(ingest.servers)}; floors: ${Cpu.describeServers(floorServers)}`)
    }
    if (rollback) {
      console.log(
        `rollback  the undo alone ${rollback.undoSeconds.toFixed(2)} s (${(rollback.undoSeconds / ingest.seconds).toFixed(2)}x the ingest; with the ingest before it ${rollback.seconds.toFixed(2)} s), peak RSS ${rollback.peakMiB.toFixed(0)} MiB` +
          (Object.keys(rollback.undoServers).length > 0 ? `; servers' CPU during the undo: ${Cpu.describeServers(rollback.undoServers)}` : "")
      )
    }
  }
} finally {
  clearInterval(sampler)
  if (published !== undefined) {
    const cleanup = await Effect.runPromiseExit(unpublish(published).pipe(Effect.provide(backends)))
    if (!Exit.isSuccess(cleanup)) console.error(`cleanup of the published job failed: ${JSON.stringify(cleanup.cause)}`)
  }
  fs.rmSync(root, { recursive: true, force: true })
}
