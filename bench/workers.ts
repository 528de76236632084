#!/usr/bin/env bun
/**
 * Many workers on one shared journal: 1, 2 and 4 `hysds-stac ingest`
 * processes (each with a state dir of its own, as separate job workers)
 * ingesting disjoint jobs that together hold the same N items, all on the
 * shared journal in S3 (HYSDS_STAC_JOURNAL). Then the shared journal's
 * overhead: one N-item ingest with the local file journal against the same
 * with the shared one, run alternately. Needs the test services (it reads
 * test/services/.run/services.env). Not part of CI.
 *
 *   bun bench/workers.ts [--items 1000] [--assets 2] [--asset-kb 16] [--rounds 1]
 *
 * Figures are wall time of the processes, start-up included (as a HySDS job
 * worker pays it); on a loaded machine compare the ratios, not the seconds.
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3"
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
    rounds: { type: "string", default: "1" }
  }
})
const items = Number(values.items)
const ROOT = path.resolve(import.meta.dir, "..")
const BIN = path.join(ROOT, "packages/cli/src/bin.ts")
const BUCKET = "hysds-stac-bench"

const file = path.join(ROOT, "test", "services", ".run", "services.env")
const svc = Object.fromEntries(
  fs.readFileSync(file, "utf8").split("\n").filter((l) => l.includes("=") && !l.startsWith("#")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])
)
const base: Record<string, string> = {
  ...(Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(AWS_|S3_|GRQ_|STAC_|HYSDS_)/.test(k))) as Record<string, string>),
  HYSDS_STAC_STORE: "s3",
  S3_ENDPOINT: svc.S3_ENDPOINT!,
  S3_ACCESS_KEY_ID: svc.S3_ACCESS_KEY_ID!,
  S3_SECRET_ACCESS_KEY: svc.S3_SECRET_ACCESS_KEY!,
  S3_REGION: svc.S3_REGION ?? "us-east-1",
  GRQ_ES_ENGINE: "opensearch",
  GRQ_ES_URL: svc.OPENSEARCH_URL!,
  STAC_API_URL: svc.STAC_API_URL!,
  BENCH_BUCKET: BUCKET
}
const s3 = new S3Client({
  endpoint: base.S3_ENDPOINT,
  region: base.S3_REGION!,
  forcePathStyle: true,
  credentials: { accessKeyId: base.S3_ACCESS_KEY_ID!, secretAccessKey: base.S3_SECRET_ACCESS_KEY! }
})
await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((e: { name?: string }) => {
  if (e.name !== "BucketAlreadyOwnedByYou" && e.name !== "BucketAlreadyExists") throw e
})
s3.destroy()

const root = fs.mkdtempSync(path.join(os.tmpdir(), "hysds-stac-bench-workers-"))
const run = Date.now().toString(36)
const sharedJournal = `s3://${BUCKET}/journal-${run}`
let jobs = 0

/** One worker: a CLI process with a state dir of its own; resolves with its wall time. */
const worker = async (n: number, env: Record<string, string>) => {
  const job = generate(root, { items: n, assets: Number(values.assets), assetBytes: Number(values["asset-kb"]) * 1024, tag: `${run}w${jobs++}` })
  const state = fs.mkdtempSync(path.join(root, "state-"))
  const started = performance.now()
  const p = Bun.spawn(["bun", BIN, "ingest", job.jobDir, "--datasets", job.datasets, "--state-dir", state, "--json", "--concurrency", "16"], {
    cwd: ROOT, env, stdout: "pipe", stderr: "pipe"
  })
  const [, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()])
  await p.exited
  if (p.exitCode !== 0) throw new Error(`worker failed (${p.exitCode}): ${stderr}`)
  return (performance.now() - started) / 1000
}

const lines: Array<string> = []
const say = (s: string) => {
  console.log(s)
  lines.push(s)
}
say(`${items} items x ${values.assets} assets of ${values["asset-kb"]} KiB; shared journal ${sharedJournal}; load average ${os.loadavg()[0]!.toFixed(1)}`)

for (let round = 0; round < Number(values.rounds); round++) {
  // Throughput with 1, 2, 4 workers over the same total.
  let single = 0
  for (const w of [1, 2, 4]) {
    const started = performance.now()
    const each = await Promise.all(Array.from({ length: w }, () => worker(Math.floor(items / w), { ...base, HYSDS_STAC_JOURNAL: sharedJournal })))
    const wall = (performance.now() - started) / 1000
    const rate = (Math.floor(items / w) * w) / wall
    if (w === 1) single = rate
    say(
      `${w} worker(s): ${wall.toFixed(1)} s wall, ${rate.toFixed(1)} items/s in all (x${(rate / single).toFixed(2)} of 1 worker); ` +
        `each ${each.map((s) => `${(Math.floor(items / w) / s).toFixed(1)}`).join(", ")} items/s`
    )
  }
  // The shared journal's overhead on one ingest, local first then shared, then the other way round.
  const local: Array<number> = []
  const shared: Array<number> = []
  for (const order of [["local", "shared"], ["shared", "local"]] as const) {
    for (const kind of order) {
      const s = await worker(items, kind === "shared" ? { ...base, HYSDS_STAC_JOURNAL: sharedJournal } : base)
      ;(kind === "shared" ? shared : local).push(s)
    }
  }
  const mean = (xs: Array<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
  say(
    `journal overhead, ${items}-item ingest: local file journal ${local.map((s) => s.toFixed(1)).join(" / ")} s, shared S3 journal ${shared.map((s) => s.toFixed(1)).join(" / ")} s: ` +
      `shared/local = ${(mean(shared) / mean(local)).toFixed(2)}`
  )
}
fs.rmSync(root, { recursive: true, force: true })
