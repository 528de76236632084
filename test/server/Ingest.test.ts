/**
 * The ingest service end to end, one server process for the whole file:
 * submitting, following and awaiting ingests over HTTP, what lands in the
 * embedded state, the outcomes a worker sees (conflict, backend failure, dry
 * run), validation, request hygiene (body limit, JSON, unknown fields), the
 * structured log, and /metrics moving with what happened.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { hashTree, isEmpty, leftovers, snapshot, summary } from "../support/State.ts"
import { type Json, type Server, KEY, TIMEOUT, awaitIngest, describeServer, job, scrape, startServer, waitFor } from "./Harness.ts"

const AOI = "AOI_volcano_etna"
const IFG = "S1-IFG_RM_20240115T103000_20240116T103000_etna"
const ITEMS = ["etna-scene-001", "etna-scene-002", "etna-scene-003"]

let server: Server
let before: Map<string, number>
let mixed: string
let submitted: Json
let final: Json

beforeAll(async () => {
  server = await startServer({ label: "ingest", env: { HYSDS_STAC_MAX_BODY_BYTES: "2048" } })
  before = await scrape(server)
  mixed = job(server, "mixed-job", "mixed")
  const r = await server.request("POST", "/v1/ingests", { body: { jobDir: mixed }, headers: { "x-request-id": "req-happy-path" } })
  if (r.status !== 202) throw new Error(`POST /v1/ingests answered ${r.status}: ${r.text}\n${describeServer(server)}`)
  submitted = r.json!
  final = await awaitIngest(server, String(submitted.id))
}, TIMEOUT)

afterAll(async () => {
  await server?.stop()
  server?.sb.cleanup()
})

describe("happy path: POST a copy of examples/mixed-job, then GET it", () => {
  test("POST answers 202 with the id and where to follow it", () => {
    expect(submitted.id).toMatch(/^ingest-\d{8}-\d{6}-[0-9a-f]{8}$/)
    expect(submitted.href).toBe(`/v1/ingests/${submitted.id}`)
    expect(["queued", "running"]).toContain(submitted.state)
  })

  test("GET shows succeeded, with progress totals reached and the result", () => {
    expect(final.state).toBe("succeeded")
    expect(final.phase).toBeUndefined()
    expect(final.request).toEqual({ jobDir: mixed, force: false, dryRun: false, noStac: false })
    expect(final.progress.files).toEqual({ done: 24, total: 24 })
    expect(final.progress.bytes.done).toBe(final.progress.bytes.total)
    expect(final.progress.bytes.total).toBe(final.result.totals.bytes)
    expect(final.progress.items).toEqual({ done: 3, total: 3 })
    expect(final.progress.products).toEqual({ done: 3, total: 3 })
    expect(final.progress.documents).toEqual({ done: 5, total: 5 })
    expect(final.progress.steps).toBeGreaterThan(0)
    expect(final.result.totals).toMatchObject({ products: 3, collections: 1, items: 3, documents: 5, files: 24 })
    expect(final.result.tx).toBe(final.id)
    expect(final.result.datasetsJson).toBe(path.join(mixed, "_datasets.json"))
    expect(final.error).toBeUndefined()
    expect(final.rollback).toBeUndefined()
    expect(Date.parse(final.finishedAt)).toBeGreaterThanOrEqual(Date.parse(final.startedAt))
  })

  test("the embedded state has the documents, the collection, the items and the files", async () => {
    const s = await snapshot(server.stateDir)
    expect(s.documents.map((d) => d.id).sort()).toEqual([AOI, IFG, ...ITEMS].sort())
    expect(s.collections.map((c) => c.id)).toEqual(["etna-scenes"])
    expect(s.items["etna-scenes"]!.map((i) => i.id)).toEqual(ITEMS)
    expect(s.files).toHaveLength(27) // 24 published files and a publish context at each of the 3 publish locations
    expect(leftovers(s)).toEqual([])
    expect(existsSync(path.join(mixed, "_datasets.json"))).toBe(true)
  })

  test("the journal names the ingest by the same id, committed (and moved among the finished ones)", () => {
    expect(existsSync(path.join(server.stateDir, "journal", `${final.id}.jsonl`))).toBe(false)
    const file = path.join(server.stateDir, "journal", "finished", `${final.id}.jsonl`)
    const records = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l.slice(9)))
    expect(records[0]).toMatchObject({ _tag: "Begin", tx: final.id, jobDir: mixed, pid: server.proc.pid })
    expect(records.at(-1)).toMatchObject({ _tag: "End", tx: final.id, outcome: "committed" })
  })

  test("GET /v1/ingests lists it, and ?state= filters", async () => {
    const all = await server.request("GET", "/v1/ingests")
    expect(all.status).toBe(200)
    expect(all.json!.ingests.map((i: Json) => i.id)).toContain(final.id)
    const ok = await server.request("GET", "/v1/ingests?state=succeeded")
    expect(ok.json!.ingests.map((i: Json) => i.id)).toContain(final.id)
    const queued = await server.request("GET", "/v1/ingests?state=queued")
    expect(queued.json!.ingests).toEqual([])
    const bad = await server.request("GET", "/v1/ingests?state=done")
    expect(bad.status).toBe(400)
  })

  test("the request id is echoed, and the log follows it into the ingest", async () => {
    const ended = (l: Json) => l.requestId === "req-happy-path" && l.message === "ingest ended" && l.ingestId === final.id && l.state === "succeeded"
    // Read from the server's stdout, which may come after the state the test saw: waited for, not sampled.
    await waitFor("the ingest's last log line", () => server.logs().some(ended), 10_000)
    const lines = server.logs().filter((l) => l.requestId === "req-happy-path")
    expect(lines.some(ended)).toBe(true)
    expect(lines.some((l) => l.message === "request" && l.status === 202 && l.path === "/v1/ingests")).toBe(true)
  })

  test("/metrics moved: one more succeeded ingest, its files, bytes, items, documents, step and phase durations, peak RSS", async () => {
    const after = await scrape(server)
    const delta = (series: string) => (after.get(series) ?? 0) - (before.get(series) ?? 0)
    expect(delta('hysds_stac_ingests_total{outcome="succeeded",dry_run="false"}')).toBeGreaterThanOrEqual(1)
    expect(delta("hysds_stac_files_published_total")).toBeGreaterThanOrEqual(24)
    expect(delta("hysds_stac_bytes_published_total")).toBeGreaterThanOrEqual(final.result.totals.bytes)
    expect(delta("hysds_stac_items_published_total")).toBeGreaterThanOrEqual(3)
    expect(delta("hysds_stac_documents_indexed_total")).toBeGreaterThanOrEqual(5)
    expect(after.get('hysds_stac_step_duration_seconds_count{action="PutObjects"}')).toBeGreaterThanOrEqual(3)
    expect(after.get('hysds_stac_step_duration_seconds_count{action="IndexDocuments"}')).toBeGreaterThanOrEqual(1)
    expect(after.get('process_memory_bytes{kind="rss"}')).toBeGreaterThan(0)
    // Peak memory, and time per phase of the ingest (one more observation of each phase it ran).
    expect(after.get("process_peak_rss_bytes")).toBeGreaterThanOrEqual(after.get('process_memory_bytes{kind="rss"}')! / 2)
    for (const phase of ["plan", "claim", "files", "stac", "grq", "finish"]) {
      expect(delta(`hysds_stac_phase_duration_seconds_count{phase="${phase}"}`)).toBeGreaterThanOrEqual(1)
    }
    expect(delta('hysds_stac_http_requests_total{code="2xx"}')).toBeGreaterThan(0)
  })
})

describe("outcomes a worker sees with ?wait=true", () => {
  test(
    "success: 200 with the final state",
    async () => {
      const dir = job(server, "mixed-job", "wait-dry")
      const r = await server.request("POST", "/v1/ingests?wait=true", { body: { jobDir: dir, dryRun: true } })
      expect(r.status).toBe(200)
      expect(r.json!.state).toBe("succeeded")
      expect(r.json!.result.dryRun).toBe(true)
      expect(r.json!.result.totals.files).toBe(24)
      // A dry run writes nothing: not even _datasets.json.
      expect(existsSync(path.join(dir, "_datasets.json"))).toBe(false)
    },
    TIMEOUT
  )

  test(
    "already published: 409 IngestConflict, nothing changed",
    async () => {
      const state = summary(await snapshot(server.stateDir))
      const dir = job(server, "mixed-job", "again")
      const r = await server.request("POST", "/v1/ingests?wait=true", { body: { jobDir: dir } })
      expect(r.status).toBe(409)
      expect(r.json!._tag).toBe("IngestConflict")
      expect(r.json!.ingest.error.category).toBe("conflict")
      expect(r.json!.ingest.error.message).toContain("already exists")
      expect(["failed", "rolled_back"]).toContain(r.json!.ingest.state)
      expect(summary(await snapshot(server.stateDir))).toEqual(state)
    },
    TIMEOUT
  )

  test(
    "a backend fails midway (examples/failing-job): 502, rolled back completely, the rollback listed",
    async () => {
      const state = summary(await snapshot(server.stateDir))
      const dir = job(server, "failing-job", "failing")
      const jobBefore = hashTree(dir)
      const r = await server.request("POST", "/v1/ingests?wait=true", { body: { jobDir: dir } })
      expect(r.status).toBe(502)
      expect(r.json!._tag).toBe("IngestBackendFailed")
      const ingest = r.json!.ingest
      expect(ingest.state).toBe("rolled_back")
      expect(ingest.error.category).toBe("index")
      expect(ingest.rollback.complete).toBe(true)
      expect(ingest.rollback.undone.length).toBeGreaterThan(0)
      expect(ingest.rollback.failed).toEqual([])
      // Steps are undone newest first.
      const steps = ingest.rollback.undone.map((u: Json) => u.step)
      expect(steps).toEqual([...steps].sort((a: number, b: number) => b - a))
      expect(summary(await snapshot(server.stateDir))).toEqual(state)
      expect(hashTree(dir)).toEqual(jobBefore)
      const followed = await server.request("GET", `/v1/ingests/${ingest.id}`)
      expect(followed.json!.state).toBe("rolled_back")
    },
    TIMEOUT
  )

  test(
    "a failed job (examples/failed-job): 422 IngestRejected, state failed, nothing written",
    async () => {
      const dir = job(server, "failed-job", "failed")
      const r = await server.request("POST", "/v1/ingests?wait=true", { body: { jobDir: dir } })
      expect(r.status).toBe(422)
      expect(r.json!._tag).toBe("IngestRejected")
      expect(r.json!.ingest.state).toBe("failed")
      expect(r.json!.ingest.error.category).toBe("validation")
      expect(r.json!.ingest.rollback).toBeUndefined()
    },
    TIMEOUT
  )
})

describe("POST /v1/validate", () => {
  test("a valid job: valid, with its counts", async () => {
    const dir = job(server, "mixed-job", "validate-ok")
    const r = await server.request("POST", "/v1/validate", { body: { path: dir } })
    expect(r.status).toBe(200)
    expect(r.json).toEqual({ valid: true, catalogs: 1, items: 3, products: 3, warnings: [] })
  })

  test("an invalid job: 200, valid false, every problem with its file", async () => {
    const dir = job(server, "mixed-job", "validate-bad")
    const broken = path.join(dir, AOI, `${AOI}.dataset.json`)
    writeFileSync(broken, "{ not json")
    const r = await server.request("POST", "/v1/validate", { body: { path: dir } })
    expect(r.status).toBe(200)
    expect(r.json!.valid).toBe(false)
    expect(r.json!.error.category).toBe("validation")
    expect(r.json!.error.problems.some((p: Json) => p.file === broken)).toBe(true)
  })
})

describe("requests that never reach an ingest", () => {
  test("unknown ingest id: 404", async () => {
    const r = await server.request("GET", "/v1/ingests/ingest-nope")
    expect(r.status).toBe(404)
    expect(r.json!._tag).toBe("NotFound")
  })

  test("unknown route: 404 with a JSON body", async () => {
    const r = await server.request("GET", "/v2/nothing")
    expect(r.status).toBe(404)
    expect(r.json).toEqual({ _tag: "NotFound", message: "no route GET /v2/nothing" })
  })

  test("a mistyped field is refused (400), not ignored: `dry_run` must not publish", async () => {
    const dir = job(server, "mixed-job", "typo")
    const count = (await server.request("GET", "/v1/ingests")).json!.ingests.length
    const r = await server.request("POST", "/v1/ingests", { body: { jobDir: dir, dry_run: true } })
    expect(r.status).toBe(400)
    expect(r.json!._tag).toBe("HttpApiDecodeError")
    expect((await server.request("GET", "/v1/ingests")).json!.ingests.length).toBe(count)
  })

  test("a body over HYSDS_STAC_MAX_BODY_BYTES: 413", async () => {
    const r = await server.request("POST", "/v1/ingests", { body: { jobDir: "/x".repeat(2000) } })
    expect(r.status).toBe(413)
    expect(r.json!._tag).toBe("PayloadTooLarge")
  })

  test("not JSON: 400; not declared JSON: 415; not absolute: 422; missing: 422", async () => {
    const bad = await server.request("POST", "/v1/ingests", { raw: "{ nope", headers: { "content-type": "application/json" } })
    expect(bad.status).toBe(400)
    expect(bad.json!._tag).toBe("BadRequest")
    const form = await server.request("POST", "/v1/ingests", { raw: "jobDir=/x", headers: { "content-type": "application/x-www-form-urlencoded" } })
    expect(form.status).toBe(415)
    const relative = await server.request("POST", "/v1/ingests", { body: { jobDir: "jobs/mixed" } })
    expect(relative.status).toBe(422)
    const missing = await server.request("POST", "/v1/ingests", { body: { jobDir: path.join(server.jobs, "not-there") } })
    expect(missing.status).toBe(422)
    expect(missing.json!.message).toContain("does not exist")
  })
})

describe("the log", () => {
  test("every stdout line is one JSON object with time, level and message; no key anywhere", () => {
    const lines = server.stdout().split("\n").filter((l) => l !== "")
    expect(lines.length).toBeGreaterThan(5)
    for (const line of lines) {
      const entry = JSON.parse(line) as Json
      expect(typeof entry.time).toBe("string")
      expect(typeof entry.level).toBe("string")
      expect(typeof entry.message).toBe("string")
    }
    expect(server.stdout()).not.toContain(KEY)
    expect(server.stdout()).not.toMatch(/\n\s+at /)
  })

  test("the state is not empty and not half-done after all of the above", async () => {
    const s = await snapshot(server.stateDir)
    expect(isEmpty(s)).toBe(false)
    expect(leftovers(s)).toEqual([])
  })
})
