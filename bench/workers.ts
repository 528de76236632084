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
 * Each line ends with the load average when it was printed. Everything the
 * bench published (objects, STAC collections and items, GRQ documents, the
 * journal's objects) is removed before it exits, as are its job dirs.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { generate } from "./Generate.ts"
import * as Services from "./Services.ts"

const { values } = parseArgs({
  options: {
    items: { type: "string", default: "1000" },
    assets: { type: "string", default: "2" },
    "asset-kb": { type: "string", default: "16" },
    rounds: { type: "string", default: "1" },
    help: { type: "boolean", short: "h", default: false }
  }
})
if (values.help) {
  console.log(`bun bench/workers.ts [--items 1000] [--assets 2] [--asset-kb 16] [--rounds 1]

Against the running test services (test/services/.run/services.env): items/s of 1, 2 and 4 worker
processes (own state dirs, disjoint jobs of the same total --items) on a shared journal in S3, then
one --items ingest with the local file journal against the same with the shared journal, alternated
(local, shared, shared, local). --rounds repeats both. Removes everything it published at the end.`)
  process.exit(0)
}
for (const [k, v] of Object.entries({ items: values.items, assets: values.assets, "asset-kb": values["asset-kb"], rounds: values.rounds })) {
  if (!/^[1-9][0-9]*$/.test(String(v))) {
    console.error(`--${k} must be a whole number of at least 1, not ${JSON.stringify(v)}`)
    process.exit(2)
  }
}
const items = Number(values.items)
const ROOT = path.resolve(import.meta.dir, "..")
const BIN = path.join(ROOT, "packages/cli/src/bin.ts")
const services = await Services.connect()
const base = services.env

const root = fs.mkdtempSync(path.join(os.tmpdir(), "hysds-stac-bench-workers-"))
const run = Date.now().toString(36)
const sharedJournal = `s3://${Services.BUCKET}/journal-${run}`
let jobs = 0
/** What each job publishes, for the clean-up. */
const published: Array<Services.Published> = []

/** One worker: a CLI process with a state dir of its own; resolves with its wall time. */
const worker = async (n: number, env: Record<string, string>) => {
  const tag = `${run}w${jobs++}`
  const job = generate(root, { items: n, assets: Number(values.assets), assetBytes: Number(values["asset-kb"]) * 1024, tag })
  published.push({ tag, items: n })
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

const load = () => `[load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}]`
const say = (s: string) => console.log(`${s} ${load()}`)

/** Removes what the run published, its journal's objects and its job dirs. */
const cleanup = async () => {
  await services.remove(published)
  await services.removePrefix(`journal-${run}/`)
  services.close()
  fs.rmSync(root, { recursive: true, force: true })
}

say(`${items} items x ${values.assets} assets of ${values["asset-kb"]} KiB; shared journal ${sharedJournal}`)

try {
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
} finally {
  await cleanup()
}
