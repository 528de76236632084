#!/usr/bin/env bun
/**
 * Peak RSS of builds compared: each given executable plans the same generated
 * job (`ingest --dry-run --json`, a fresh process and state dir per run), the
 * executables taking turns for several rounds, and each run's peak comes from
 * the process itself (`performance.peakRssBytes` of its `--json`).
 *
 *   bun bench/peaks.ts --items 100000 [--assets 1] [--rounds 6] [--services] <executable> [<executable> ...]
 *
 * `--services`: full ingests instead of dry runs, against the running test
 * services (as a worker runs them: S3, GRQ on OpenSearch, STAC-FastAPI), each
 * of a freshly generated job (a job is published once), everything it
 * published removed after it; each line also gives the ingest's seconds.
 *
 * An executable is a path, or a command and its arguments in one word list
 * ("bun packages/cli/src/bin.ts" runs the sources; its start alone holds about
 * twice the executable's memory, so compare like with like).
 *
 * Why rounds, in turns: one build's peak varies by 20-30 MiB from run to run
 * (the collector's timing), more than most single changes to what a plan
 * holds; a change is seen only when its runs' range moves, measured beside the
 * build it replaces on the same job and the same machine minutes. Build an
 * executable of each version with `bun build --compile --bytecode
 * packages/cli/src/bin.ts --outfile <path>`. The environment passes through
 * (set `BUN_JSC_forceRAMSize` as the workers do). Without `--services` no
 * backend is needed: a dry run plans on the embedded default and writes nothing.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { generate } from "./Generate.ts"
import * as Rss from "./Rss.ts"
import * as Services from "./Services.ts"

const { values, positionals } = parseArgs({
  options: {
    items: { type: "string", default: "1000" },
    assets: { type: "string", default: "1" },
    rounds: { type: "string", default: "6" },
    services: { type: "boolean", default: false }
  },
  allowPositionals: true
})
if (positionals.length === 0) {
  console.error("usage: bun bench/peaks.ts --items N [--assets K] [--rounds R] [--services] <executable> [<executable> ...]")
  process.exit(2)
}

const MiB = 1024 * 1024
const root = fs.mkdtempSync(path.join(os.tmpdir(), "hysds-stac-peaks-"))

/** One ingest (a dry run unless `env` points it at the services): the process's own peak RSS, its plan's seconds and its wall time (start-up included). */
const ingest = async (executable: string, job: { readonly jobDir: string; readonly datasets: string }, env: Record<string, string> | undefined) => {
  const state = fs.mkdtempSync(path.join(root, "state-"))
  try {
    const started = performance.now()
    const args = ["ingest", job.jobDir, "--datasets", job.datasets, ...(env === undefined ? ["--dry-run"] : []), "--json", "--state-dir", state]
    const child = Bun.spawn([...executable.split(/\s+/), ...args], { stdout: "pipe", stderr: "pipe", ...(env === undefined ? {} : { env }) })
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
    if (code !== 0) throw new Error(`${executable} exited ${code}: ${err.trim() || out.trim()}`)
    const seconds = (performance.now() - started) / 1000
    const report = (JSON.parse(out) as { performance: { peakRssBytes: number; phases: Record<string, number> } }).performance
    return { peak: report.peakRssBytes / MiB, plan: report.phases["plan"] ?? 0, seconds }
  } finally {
    fs.rmSync(state, { recursive: true, force: true })
  }
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const services = values.services ? await Services.connect() : undefined
try {
  const items = Number(values.items)
  const shape = { items, assets: Number(values.assets), assetBytes: 1024 }
  const run = Date.now().toString(36)
  // A dry run writes nothing, so every run plans the same job; a full ingest needs a fresh one each time.
  const shared = services === undefined ? generate(root, { ...shape, tag: run }) : undefined
  console.log(`${services === undefined ? "dry runs" : "ingests into the test services"} of ${items} items x ${values.assets} assets, ${values.rounds} rounds; ${Rss.engineSettings()}`)
  const peaks = new Map<string, Array<number>>(positionals.map((e) => [e, []]))
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const [k, executable] of positionals.entries()) {
      const tag = `${run}r${round}e${k}`
      const job = shared ?? generate(root, { ...shape, tag })
      try {
        const { peak, plan, seconds } = await ingest(executable, job, services?.env)
        peaks.get(executable)!.push(peak)
        console.log(`round ${round}: ${executable}: peak RSS ${peak.toFixed(0)} MiB, plan ${plan.toFixed(2)} s${services === undefined ? "" : `, ingest ${seconds.toFixed(1)} s`}`)
      } finally {
        if (services !== undefined) {
          await services.remove([{ tag, items }])
          fs.rmSync(job.jobDir, { recursive: true, force: true })
        }
      }
    }
  }
  for (const [executable, ps] of peaks) {
    console.log(`${executable}: peak RSS min ${Math.min(...ps).toFixed(0)}, median ${median(ps).toFixed(0)}, max ${Math.max(...ps).toFixed(0)} MiB in ${ps.length} runs`)
  }
} finally {
  services?.close()
  fs.rmSync(root, { recursive: true, force: true })
}
