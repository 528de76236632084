/**
 * Start-up recovery: a CLI ingest killed dead (SIGKILL mid-way, through the
 * journal's crash hook) leaves a half-published job and an open transaction
 * in the state dir. A server started on that state dir finishes it before it
 * listens (core `Recover.all`): the state is as before the dead run, and the
 * same job then ingests normally over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { copyFileSync } from "node:fs"
import * as path from "node:path"
import { CLI, DATASETS, type Sandbox, cliEnv, copyExample, isEmpty, leftovers, ROOT, sandbox, snapshot, summary } from "../support/State.ts"
import { type Server, TIMEOUT, scrape, startServer } from "./Harness.ts"

let sb: Sandbox
let jobDir: string
let server: Server
let died: { signal: string | number | null; stderr: string }
let beforeStart: Awaited<ReturnType<typeof snapshot>>

beforeAll(async () => {
  sb = sandbox("recovery")
  jobDir = copyExample("mixed-job", path.join(sb.root, "jobs", "mixed"))
  const datasets = path.join(sb.root, "cli-datasets.json")
  copyFileSync(DATASETS, datasets)
  const proc = Bun.spawnSync([...CLI, "ingest", jobDir, "--datasets", datasets, "--state-dir", sb.stateDir], {
    cwd: ROOT,
    env: cliEnv({ HYSDS_STAC_CRASH_AT: "9" })
  })
  died = { signal: proc.signalCode ?? null, stderr: proc.stderr.toString() }
  beforeStart = await snapshot(sb.stateDir)
  server = await startServer({ sb })
}, TIMEOUT)

afterAll(async () => {
  await server?.stop()
  sb?.cleanup()
})

describe("recovery on start", () => {
  test("the CLI died mid-way and left part of the job published", () => {
    expect(died.signal).toBe("SIGKILL")
    expect(isEmpty(beforeStart)).toBe(false)
  })

  test("the server rolled the dead transaction back before listening", async () => {
    const logs = server.logs()
    const recovered = logs.findIndex((l) => l.message === "recovered an unfinished transaction: rolled-back")
    const listening = logs.findIndex((l) => l.message === "listening")
    expect(recovered).toBeGreaterThanOrEqual(0)
    expect(recovered).toBeLessThan(listening)
    expect(logs[recovered]!.undone).toBeGreaterThan(0)
    const s = await snapshot(server.stateDir)
    expect(summary(s)).toEqual({ files: [], documents: [], collections: [], items: {} })
    expect(leftovers(s)).toEqual([])
    const metrics = await scrape(server)
    expect(metrics.get('hysds_stac_recovered_transactions_total{outcome="rolled-back"}')).toBe(1)
  })

  test(
    "the same job then ingests normally",
    async () => {
      const r = await server.request("POST", "/v1/ingests?wait=true", { body: { jobDir } })
      expect(r.status).toBe(200)
      expect(r.json!.state).toBe("succeeded")
      const s = await snapshot(server.stateDir)
      expect(s.documents).toHaveLength(5)
    },
    TIMEOUT
  )
})
