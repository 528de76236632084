/**
 * Bounded concurrency, one server process with one slot and a queue of one:
 * the first ingest runs, the second waits and is served after it, a third is
 * refused with 429 while both are taken, and the same job dir is never
 * ingested twice at once. The first ingest is a job of thousands of small
 * files copied one at a time, so it is still running while the test acts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { type Json, type Server, TIMEOUT, awaitIngest, bigJob, describeServer, job, scrape, startServer } from "./Harness.ts"

let server: Server
let slow: string

beforeAll(async () => {
  server = await startServer({
    label: "queue",
    env: { HYSDS_STAC_MAX_CONCURRENT: "1", HYSDS_STAC_QUEUE_LENGTH: "1", HYSDS_STAC_FILE_CONCURRENCY: "1" }
  })
  slow = bigJob(server, "queue", 2500)
}, TIMEOUT)

afterAll(async () => {
  await server?.stop()
  server?.sb.cleanup()
})

describe("more concurrent requests than the limit", () => {
  test(
    "running, then queued, then 429; the queued one is served once the slot frees",
    async () => {
      const before = await scrape(server)
      const mixed = job(server, "mixed-job", "second")
      const third = job(server, "mixed-job", "third")

      const a = await server.request("POST", "/v1/ingests", { body: { jobDir: slow } })
      expect(a.status).toBe(202)
      expect(a.json!.state).toBe("running")
      const b = await server.request("POST", "/v1/ingests", { body: { jobDir: mixed } })
      expect(b.status).toBe(202)
      expect(b.json!.state).toBe("queued")

      // While A runs: B waits first in line, and the same job dir cannot be submitted twice.
      const waiting = await server.request("GET", `/v1/ingests/${b.json!.id}`)
      expect(waiting.json).toMatchObject({ state: "queued", queuePosition: 1 })
      const running = await server.request("GET", `/v1/ingests/${a.json!.id}`)
      expect(running.json!.state).toBe("running")
      const again = await server.request("POST", "/v1/ingests", { body: { jobDir: slow } })
      expect(again.status).toBe(409)
      expect(again.json).toMatchObject({ _tag: "IngestInProgress", id: a.json!.id })

      // Slot and queue both taken: refused, and not even recorded.
      const c = await server.request("POST", "/v1/ingests?wait=true", { body: { jobDir: third } })
      expect(c.status).toBe(429)
      expect(c.json).toMatchObject({ _tag: "QueueFull", running: 1, queued: 1 })
      const list = (await server.request("GET", "/v1/ingests")).json!.ingests as Array<Json>
      expect(list.map((i) => i.id).sort()).toEqual([a.json!.id, b.json!.id].sort())

      const metrics = await scrape(server)
      expect(metrics.get("hysds_stac_ingests_running")).toBe(1)
      expect(metrics.get("hysds_stac_ingests_queued")).toBe(1)
      const finalA = await awaitIngest(server, String(a.json!.id))
      const finalB = await awaitIngest(server, String(b.json!.id))
      if (finalA.state !== "succeeded" || finalB.state !== "succeeded") {
        throw new Error(`A ${finalA.state}, B ${finalB.state}: ${JSON.stringify({ a: finalA.error, b: finalB.error })}\n${describeServer(server)}`)
      }
      // 2500 parts and the dataset file.
      expect(finalA.progress.files).toEqual({ done: 2501, total: 2501 })
      // B started only once A had ended: it really waited in the queue.
      expect(Date.parse(finalB.startedAt)).toBeGreaterThanOrEqual(Date.parse(finalA.finishedAt))
      expect(Date.parse(finalB.startedAt)).toBeGreaterThan(Date.parse(finalB.createdAt))
      expect(finalB.queuePosition).toBeUndefined()

      const after = await scrape(server)
      expect((after.get('hysds_stac_ingests_rejected_total{reason="queue_full"}') ?? 0) - (before.get('hysds_stac_ingests_rejected_total{reason="queue_full"}') ?? 0)).toBe(1)
      expect((after.get('hysds_stac_ingests_rejected_total{reason="in_progress"}') ?? 0) - (before.get('hysds_stac_ingests_rejected_total{reason="in_progress"}') ?? 0)).toBe(1)
      expect(after.get("hysds_stac_queue_wait_seconds_count")).toBe(2)
      expect(after.get("hysds_stac_ingests_running")).toBe(0)
      expect(after.get("hysds_stac_ingests_queued")).toBe(0)

      // Capacity is back: the refused job is accepted now (and conflicts with B's products, as HySDS would).
      const retry = await server.request("POST", "/v1/ingests?wait=true", { body: { jobDir: third } })
      expect(retry.status).toBe(409)
      expect(retry.json!._tag).toBe("IngestConflict")
    },
    TIMEOUT
  )
})
