/**
 * SIGTERM during an ingest. Two server processes (each test ends its own with
 * the signal): with a long grace period the running ingest completes; with
 * none it is interrupted and rolled back. Either way nothing is left
 * half-done, which is checked in the state dir itself (embedded store, index
 * and registry through the adapters, and the journal), and the process exits 0.
 */
import { Journal } from "@hysds-stac/core"
import { FileJournal } from "@hysds-stac/adapters"
import { afterAll, describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { existsSync } from "node:fs"
import * as path from "node:path"
import { isEmpty, leftovers, publishContexts, snapshot, summary } from "../support/State.ts"
import { type Server, TIMEOUT, bigJob, describeServer, job, publishing, startServer, waitFor } from "./Harness.ts"

const servers: Array<Server> = []
afterAll(async () => {
  for (const s of servers) {
    await s.stop("SIGKILL")
    s.sb.cleanup()
  }
})

const journal = (s: Server) =>
  Effect.runPromise(
    Effect.flatMap(Journal.Journal, (j) => j.transactions({ finished: true })).pipe(Effect.provide(FileJournal.layer({ dir: path.join(s.stateDir, "journal") })))
  )

const start = async (label: string, grace: string) => {
  const s = await startServer({
    label,
    env: { HYSDS_STAC_MAX_CONCURRENT: "1", HYSDS_STAC_QUEUE_LENGTH: "4", HYSDS_STAC_FILE_CONCURRENCY: "1", HYSDS_STAC_GRACE_SECONDS: grace }
  })
  servers.push(s)
  return s
}

describe("SIGTERM during an ingest", () => {
  test(
    "within the grace period: new work refused (503), the ingest completes, the waiting client gets 200, exit 0",
    async () => {
      const s = await start("term-finish", "60")
      const dir = bigJob(s, "finish", 2500)
      const waiting = s.request("POST", "/v1/ingests?wait=true", { body: { jobDir: dir } })
      await waitFor("the ingest to publish", () => publishing(s, "finish"))
      s.proc.kill("SIGTERM")

      // Draining: still answering, not ready, taking nothing new.
      await waitFor("readiness to turn 503", async () => (await s.request("GET", "/readyz", { key: null })).status === 503)
      // Anonymous probes learn only "not ready"; a caller with a key sees why.
      expect((await s.request("GET", "/readyz", { key: null })).json).toEqual({ _tag: "NotReady", ready: false })
      const ready = await s.request("GET", "/readyz")
      expect(ready.json).toMatchObject({ _tag: "NotReady", ready: false, draining: true })
      const refused = await s.request("POST", "/v1/ingests", { body: { jobDir: job(s, "mixed-job", "late") } })
      expect(refused.status).toBe(503)
      expect(refused.json!._tag).toBe("ShuttingDown")
      const running = (await s.request("GET", "/v1/ingests?state=running")).json!.ingests
      expect(running).toHaveLength(1)

      const r = await waiting
      if (r.status !== 200) throw new Error(`expected 200, got ${r.status}: ${r.text}\n${describeServer(s)}`)
      expect(r.json!.state).toBe("succeeded")
      expect(await s.exited).toBe(0)

      // Completed: all of it landed, nothing of the transaction machinery is left, the journal says committed.
      const state = await snapshot(s.stateDir)
      expect(state.documents.map((d) => d.id)).toEqual(["AOI_big_finish"])
      // The product's files and HySDS's publish context, which stays after a success.
      expect(state.files.length).toBe(r.json!.result.totals.files + 1)
      expect(publishContexts(state)).toHaveLength(1)
      expect(leftovers(state)).toEqual([])
      expect(existsSync(path.join(dir, "_datasets.json"))).toBe(true)
      const txs = await journal(s)
      expect(txs.map((t) => [t.tx, t.state])).toEqual([[r.json!.id, "committed"]])
      const messages = s.logs().map((l) => l.message)
      expect(messages).toContain("drained: every running ingest ended within the grace period")
      expect(messages.at(-1)).toBe("stopped")
    },
    TIMEOUT
  )

  test(
    "past the grace period: the ingest is interrupted and rolled back completely, the queued one dropped, exit 0",
    async () => {
      const s = await start("term-rollback", "0")
      const dir = bigJob(s, "rollback", 2500)
      const queuedDir = job(s, "mixed-job", "queued")
      const waiting = s.request("POST", "/v1/ingests?wait=true", { body: { jobDir: dir } })
      await waitFor("the ingest to publish", () => publishing(s, "rollback"))
      const queued = await s.request("POST", "/v1/ingests", { body: { jobDir: queuedDir } })
      expect(queued.json!.state).toBe("queued")
      s.proc.kill("SIGTERM")

      const r = await waiting
      if (r.status !== 503) throw new Error(`expected 503, got ${r.status}: ${r.text}\n${describeServer(s)}`)
      expect(r.json!._tag).toBe("IngestInterrupted")
      const ingest = r.json!.ingest
      expect(ingest.state).toBe("rolled_back")
      expect(ingest.error.category).toBe("interrupted")
      expect(ingest.rollback.complete).toBe(true)
      expect(ingest.rollback.undone.map((u: { step: number }) => u.step).at(-1)).toBe(1)
      expect(ingest.progress.files.done).toBeLessThan(ingest.progress.files.total)
      expect(await s.exited).toBe(0)

      // Nothing half-done: no object, document, collection or item, no marker or backup, no _datasets.json.
      const state = await snapshot(s.stateDir)
      expect(summary(state)).toEqual({ files: [], documents: [], collections: [], items: {} })
      expect(isEmpty(state)).toBe(true)
      expect(existsSync(path.join(dir, "_datasets.json"))).toBe(false)
      expect(existsSync(path.join(queuedDir, "_datasets.json"))).toBe(false)
      // The journal: the interrupted transaction aborted; the queued ingest never began one.
      const txs = await journal(s)
      expect(txs.map((t) => [t.tx, t.state])).toEqual([[ingest.id, "aborted"]])
      const dropped = s.logs().find((l) => l.message === "ingest ended" && l.ingestId === queued.json!.id)
      expect(dropped).toMatchObject({ state: "failed", category: "interrupted" })
      expect(String(dropped!.reason)).toContain("before this ingest started")
      expect(s.logs().map((l) => l.message)).toContain("grace period over: interrupting running ingests, which roll back")
    },
    TIMEOUT
  )
})
