/**
 * The crash-safety promise on the embedded default: kill the real CLI process
 * dead (SIGKILL, no finalizers) at every step boundary K of an ingest of the
 * example mixed job, run `recover`, and the store, index and registry are
 * exactly as before the run when it died before its Commit record, or exactly
 * as after a successful run when it died past it. Then the same on top of an
 * earlier publication with --force: a dead forced re-ingest leaves the earlier
 * publication byte-identical. And once more in batches of one item, so the
 * pipelined stages' boundaries are each killed at.
 */
import { describe, expect, test } from "bun:test"
import * as fs from "node:fs"
import * as path from "node:path"
import { CLI, journalFiles, journalRecords } from "../support/State.ts"
import { copyJob, examples, repo, type Snapshot, snapshot, tempDir } from "../workflow/Harness.ts"

const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const r = Bun.spawnSync([...CLI, ...args], {
    cwd: repo,
    env: { ...process.env, ...env, HYSDS_STAC_CRASH_AT: env.HYSDS_STAC_CRASH_AT ?? "" }
  })
  return { exitCode: r.exitCode, signal: r.signalCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() }
}

/** The same, without blocking, so independent boundaries run side by side. */
const cliAsync = async (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const p = Bun.spawn([...CLI, ...args], {
    cwd: repo,
    env: { ...process.env, ...env, HYSDS_STAC_CRASH_AT: env.HYSDS_STAC_CRASH_AT ?? "" },
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()])
  await p.exited
  return { exitCode: p.exitCode, signal: p.signalCode, stdout, stderr }
}

const ingestAsync = (job: string, state: string, extra: ReadonlyArray<string>, env: Record<string, string>) =>
  cliAsync(["ingest", job, "--datasets", path.join(examples, "datasets.json"), "--state-dir", state, "--json", ...extra], env)

/** Runs `f` over 1..n with at most `width` at a time. */
const pool = async (n: number, width: number, f: (k: number) => Promise<void>) => {
  let next = 1
  await Promise.all(Array.from({ length: width }, async () => {
    while (next <= n) await f(next++)
  }))
}

const ingest = (job: string, state: string, extra: ReadonlyArray<string> = [], env: Record<string, string> = {}) =>
  cli(["ingest", job, "--datasets", path.join(examples, "datasets.json"), "--state-dir", state, "--json", ...extra], env)

/** Documents carry their ingest time; everything else must match exactly. */
const comparable = (s: Snapshot) => ({
  ...s,
  documents: s.documents.map((d) => {
    const r = d as { doc: Record<string, unknown> }
    const { "@timestamp": _, ...doc } = r.doc
    return { ...r, doc }
  })
})

/** Boundaries of one clean run: how many journal appends it makes, and which one is the Commit. */
const boundaries = (extra: ReadonlyArray<string>, prepare: (state: string) => void) => {
  const state = tempDir("state")
  prepare(state)
  fs.rmSync(path.join(state, "journal"), { recursive: true, force: true })
  const r = ingest(copyJob("mixed-job"), state, extra)
  if (r.exitCode !== 0) throw new Error(`reference run failed: ${r.stderr}`)
  const records = journalRecords(state)
  return { total: records.length, commit: records.findIndex((x) => x._tag === "Commit") + 1 }
}

const matrix = async (name: string, extra: ReadonlyArray<string>, prepare: (state: string) => void) => {
  const { total, commit } = boundaries(extra, prepare)
  expect(commit).toBeGreaterThan(1)
  // The published state a successful run leaves behind, for the boundaries past Commit.
  const refState = tempDir("ref")
  prepare(refState)
  expect(ingest(copyJob("mixed-job"), refState, extra).exitCode).toBe(0)
  const published = comparable(await snapshot(refState))
  const journalsBefore = (state: string) => journalFiles(state).length

  await pool(total, 3, async (k) => {
    const state = tempDir("kill")
    prepare(state)
    const before = comparable(await snapshot(state))
    const known = journalsBefore(state)
    const died = await ingestAsync(copyJob("mixed-job"), state, extra, { HYSDS_STAC_CRASH_AT: String(k) })
    expect({ name, k, signal: died.signal }).toEqual({ name, k, signal: "SIGKILL" })
    expect(journalsBefore(state)).toBe(known + 1)
    const recovered = await cliAsync(["recover", "--state-dir", state, "--json"])
    expect({ name, k, exit: recovered.exitCode, err: recovered.stderr.includes("FAILED") }).toEqual({ name, k, exit: 0, err: false })
    const after = comparable(await snapshot(state))
    if (k < commit) expect({ name, k, state: after }).toEqual({ name, k, state: before })
    else expect({ name, k, state: after }).toEqual({ name, k, state: published })
    fs.rmSync(state, { recursive: true, force: true })
  })
  return total
}

// A hang guard, not a speed bound: each boundary is a process started, killed
// and recovered (several seconds each on a loaded 2-core machine), and a
// matrix has 25-45 of them.
const MATRIX_TIMEOUT = 900_000

describe("kill -9 at every step boundary, then recover", () => {
  test("a fresh ingest of the mixed job", async () => {
    const total = await matrix("fresh", [], () => {})
    console.log(`kill matrix (fresh ingest): ${total} boundaries`)
  }, MATRIX_TIMEOUT)

  // One item per batch: the mixed job's three items flow through the pipelined
  // stages (files stored, items registered, documents indexed) side by side,
  // so a kill lands between batches of different stages too.
  test("a fresh ingest in batches of one item (the pipelined steps)", async () => {
    const total = await matrix("pipelined", ["--batch-size", "1"], () => {})
    console.log(`kill matrix (pipelined, batches of 1): ${total} boundaries`)
  }, MATRIX_TIMEOUT)

  test("a forced re-ingest over an earlier publication", async () => {
    const prepare = (state: string) => {
      const r = ingest(copyJob("mixed-job"), state)
      if (r.exitCode !== 0) throw new Error(`could not prepare: ${r.stderr}`)
    }
    const total = await matrix("force", ["--force"], prepare)
    console.log(`kill matrix (forced re-ingest): ${total} boundaries`)
  }, MATRIX_TIMEOUT)

  test("the next ingest recovers a dead attempt by itself, then publishes", async () => {
    const state = tempDir("state")
    const died = ingest(copyJob("mixed-job"), state, [], { HYSDS_STAC_CRASH_AT: "9" })
    expect(died.signal).toBe("SIGKILL")
    const again = ingest(copyJob("mixed-job"), state)
    expect(again.exitCode).toBe(0)
    const s = await snapshot(state)
    expect(s.documents).toHaveLength(5)
    expect(s.files.some(([f]) => f.includes(".hysds-stac-claim.json") || f.includes(".hysds-stac-backup"))).toBe(false)
    // The publish context stays at each of the 3 publish locations, as HySDS leaves it.
    expect(s.files.filter(([f]) => f.endsWith("/_publish.context.json"))).toHaveLength(3)
  }, 60_000)

  test("--no-recover refuses while a dead attempt is unresolved", async () => {
    const state = tempDir("state")
    expect(ingest(copyJob("mixed-job"), state, [], { HYSDS_STAC_CRASH_AT: "9" }).signal).toBe("SIGKILL")
    const refused = ingest(copyJob("mixed-job"), state, ["--no-recover"])
    expect(refused.exitCode).toBe(5)
    expect(refused.stdout).toContain("died unfinished")
  }, 60_000)
})
