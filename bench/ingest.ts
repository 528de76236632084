#!/usr/bin/env bun
/**
 * Ingest benchmark: items/s, MB/s and peak RSS for an ingest of N items x K
 * assets, then for a rollback of the same size (the same job made to fail at
 * its last step, so every step is undone). Runs against whatever backends the
 * environment configures (see the README); `--services` reads
 * test/services/.run/services.env and uses the real S3, OpenSearch and STAC API.
 *
 *   bun bench/ingest.ts --items 1000 [--assets 2] [--asset-kb 16] [--services] [--sequential]
 *
 * `--sequential` is the baseline: one file, one item and one document per request.
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3"
import { BunContext } from "@effect/platform-bun"
import { Backends, Settings } from "@hysds-stac/adapters"
import { Ingest, Journal, Progress } from "@hysds-stac/core"
import { Effect, Either, Exit, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { generate } from "./Generate.ts"

const { values } = parseArgs({
  options: {
    items: { type: "string", default: "1000" },
    assets: { type: "string", default: "2" },
    "asset-kb": { type: "string", default: "16" },
    services: { type: "boolean", default: false },
    sequential: { type: "boolean", default: false },
    concurrency: { type: "string", default: "16" },
    batch: { type: "string", default: "500" }
  }
})

const servicesEnv = (): Record<string, string> => {
  const file = path.resolve(import.meta.dir, "..", "test", "services", ".run", "services.env")
  const env = Object.fromEntries(
    fs.readFileSync(file, "utf8").split("\n").filter((l) => l.includes("=") && !l.startsWith("#")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])
  )
  return {
    HYSDS_STAC_STORE: "s3",
    S3_ENDPOINT: env.S3_ENDPOINT!,
    S3_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID!,
    S3_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY!,
    S3_REGION: env.S3_REGION ?? "us-east-1",
    GRQ_ES_ENGINE: "opensearch",
    GRQ_ES_URL: env.OPENSEARCH_URL!,
    STAC_API_URL: env.STAC_API_URL!
  }
}

const items = Number(values.items)
const shape = { items, assets: Number(values.assets), assetBytes: Number(values["asset-kb"]) * 1024, tag: `${Date.now().toString(36)}` }
const root = fs.mkdtempSync(path.join(os.tmpdir(), "hysds-stac-bench-"))
const stateDir = path.join(root, "state")
const env = { ...process.env, ...(values.services ? servicesEnv() : {}) }
const settings = Settings.resolve({ env, stateDir })
if (Either.isLeft(settings)) throw new Error(settings.left.message)

if (values.services) {
  // The bench bucket, created once; "already yours" is fine.
  const s3 = new S3Client({
    endpoint: env.S3_ENDPOINT!,
    region: env.S3_REGION ?? "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: env.S3_ACCESS_KEY_ID!, secretAccessKey: env.S3_SECRET_ACCESS_KEY! }
  })
  await s3.send(new CreateBucketCommand({ Bucket: "hysds-stac-bench" })).catch((e: { name?: string }) => {
    if (e.name !== "BucketAlreadyOwnedByYou" && e.name !== "BucketAlreadyExists") throw e
  })
  s3.destroy()
}

let peak = 0
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)

let rollbackStarted = 0
/** When each phase last made progress: the time it ended, as the phases run one after another. */
const phaseEnds: Record<string, number> = {}
const progress = Layer.succeed(Progress.Progress, {
  emit: (e) =>
    Effect.sync(() => {
      if (e._tag === "RollingBack") rollbackStarted = performance.now()
      if (e._tag === "Planned" || e._tag === "FilePublished" || e._tag === "ItemsRegistered" || e._tag === "DocumentsIndexed") {
        phaseEnds[e._tag] = performance.now()
      }
    })
})
const phases = (started: number) => {
  const order = ["Planned", "FilePublished", "ItemsRegistered", "DocumentsIndexed"] as const
  const names = { Planned: "plan", FilePublished: "files", ItemsRegistered: "STAC items", DocumentsIndexed: "GRQ docs" }
  let last = started
  return order
    .filter((p) => phaseEnds[p] !== undefined)
    .map((p) => {
      const took = (phaseEnds[p]! - last) / 1000
      last = phaseEnds[p]!
      return `${names[p]} ${took.toFixed(1)} s`
    })
    .join(", ")
}

const run = async (jobDir: string, datasets: string) => {
  peak = process.memoryUsage().rss
  rollbackStarted = 0
  for (const k of Object.keys(phaseEnds)) delete phaseEnds[k]
  const started = performance.now()
  const exit = await Effect.runPromiseExit(
    Ingest.run({
      jobDir,
      datasetsFile: datasets,
      force: false,
      dryRun: false,
      stac: true,
      concurrency: values.sequential ? 1 : Number(values.concurrency),
      batchSize: values.sequential ? 1 : Number(values.batch),
      hostname: os.hostname(),
      env: { BENCH_BUCKET: "hysds-stac-bench" }
    }).pipe(
      Effect.provide(Layer.mergeAll(Backends.layer(settings.right), Journal.Journal.none, progress, BunContext.layer))
    )
  )
  const ended = performance.now()
  const breakdown = phases(started)
  return {
    breakdown, seconds: (ended - started) / 1000, undoSeconds: rollbackStarted ? (ended - rollbackStarted) / 1000 : 0, peakMiB: peak / 1048576, exit }
}

const line = (what: string, r: { seconds: number; peakMiB: number }, bytes: number) =>
  `${what.padEnd(9)} ${items} items x ${shape.assets} assets (${(bytes / 1048576).toFixed(1)} MiB): ${r.seconds.toFixed(2)} s, ` +
  `${(items / r.seconds).toFixed(1)} items/s, ${(bytes / 1048576 / r.seconds).toFixed(2)} MB/s, peak RSS ${r.peakMiB.toFixed(0)} MiB`

console.log(`backends: ${Settings.describe(settings.right).map(([p, d]) => `${p}=${d}`).join("; ")}`)
console.log(`mode: ${values.sequential ? "sequential (one request at a time)" : `concurrency ${values.concurrency}, batch ${values.batch}`}`)

// Ingest of a fresh job.
const a = generate(root, shape)
const ingest = await run(a.jobDir, a.datasets)
if (!Exit.isSuccess(ingest.exit)) throw new Error(`ingest failed: ${JSON.stringify(ingest.exit.cause)}`)
console.log(line("ingest", ingest, a.bytes))
console.log(`          phases: ${ingest.breakdown}`)

// Rollback of the same size: another job, made to fail at its last step.
const b = generate(root, { ...shape, tag: `${shape.tag}r` })
fs.mkdirSync(path.join(b.jobDir, "_datasets.json"))
const rollback = await run(b.jobDir, b.datasets)
if (Exit.isSuccess(rollback.exit)) throw new Error("the rollback run was meant to fail")
console.log(line("rollback", { ...rollback, seconds: rollback.undoSeconds }, b.bytes) + ` (the undo alone; with the ingest before it: ${rollback.seconds.toFixed(2)} s)`)

clearInterval(sampler)
fs.rmSync(root, { recursive: true, force: true })
