/**
 * All or nothing on REAL servers: a job A is published first; then jobs B that
 * share A's STAC collection but have products and items of their own fail,
 * each at one backend, through a FaultProxy in front of it (S3, GRQ, STAC) or
 * on a real GRQ mapping conflict. Every failure exits non-zero and leaves
 * none of B's objects, documents or items behind, while A's objects (bytes),
 * documents, collection and items are exactly as they were. When the STAC API
 * dies mid-run the rollback cannot finish: the journal keeps the transaction
 * open and `hysds-stac recover` finishes it once the server is back. Last, a
 * failed `--force` re-ingest of A leaves A byte-identical.
 *
 * Everything is read back from the servers, never from the CLI's own output.
 *
 * One suite per STAC registry of the test services (stac-fastapi-pgstac, and
 * stac-fastapi-opensearch, which stamps `created`/`updated` on every item write:
 * its items are compared without those stamps). Each registry's run is its own
 * test file (Rollback.test.ts, RollbackSfeos.test.ts) so they run side by side.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import * as fs from "node:fs"
import * as path from "node:path"
import * as FaultProxy from "./FaultProxy.ts"
import * as Latency from "./Latency.ts"
import {
  EXIT,
  type Fixture,
  type Job,
  type CliResult,
  type Registry,
  cli,
  describeRun,
  expectExit,
  failingJob,
  fixture,
  grqDocs,
  grqState,
  ingest,
  journalList,
  mixedJob,
  parseJson,
  registryState,
  s3State,
  services,
  sha256,
  stacItems,
  tag,
  tempDir
} from "./Real.ts"

const TIMEOUT = 300_000

const pathOf = (r: Request) => new URL(r.url).pathname
/** An object upload (markers included), not a server-side copy (which S3 also sends as PUT). */
const isUpload = (r: Request) => r.method === "PUT" && !r.headers.has("x-amz-copy-source")
const isBulk = (r: Request) => r.method === "POST" && pathOf(r).endsWith("/_bulk")

export const rollbackSuite = (registry: Registry) => {
const svc = services()
describe.skipIf(!svc)(`rollback on real servers (STAC registry: ${registry}): a failure at any backend leaves nothing of the run and the earlier data intact`, () => {
  let fx: Fixture
  let A: Job
  let stateA: string
  /** A's publication, as the servers hold it (GRQ documents in full, ingest time included). */
  let published: { s3: Array<readonly [string, string]>; grq: Awaited<ReturnType<typeof grqDocs>>; stac: Awaited<ReturnType<typeof registryState>> }
  const proxies: Array<FaultProxy.FaultProxy> = []
  const latencies: Array<Latency.Latency> = []
  const states: Array<string> = []

  const proxy = (upstream: string, rules: ReadonlyArray<FaultProxy.Rule> = []) => {
    const p = FaultProxy.start(upstream, rules)
    proxies.push(p)
    return p
  }
  const freshState = () => {
    const s = tempDir("state")
    states.push(s)
    return s
  }

  beforeAll(async () => {
    fx = await fixture(svc!, "opensearch", svc!.OPENSEARCH_URL!, `rollback-${registry}`, registry)
    A = fx.track(mixedJob(tag()))
    stateA = freshState()
    expectExit(await ingest(A, stateA, fx.env()), EXIT.ok)
    published = {
      // The buckets are this file's: every object in them is A's.
      s3: await s3State(fx.client, fx.buckets),
      grq: await grqDocs(fx.grqUrl, A.docIds),
      stac: await registryState(fx, [A.collection])
    }
    expect(published.s3).toHaveLength(27) // 24 published files and a publish context at each of the 3 publish locations
    expect(published.s3.filter(([k]) => !k.includes(`_${A.tag}/`))).toEqual([])
    expect(published.grq).toHaveLength(5)
    expect(published.stac[A.collection]!.items).toHaveLength(3)
  }, TIMEOUT)

  afterAll(async () => {
    for (const p of proxies) p.stop()
    for (const l of latencies) l.stop()
    await fx?.cleanup()
    for (const s of states) fs.rmSync(s, { recursive: true, force: true })
  }, TIMEOUT)

  /** A job B with its own products and items in A's collection. */
  const jobB = () => fx.track(mixedJob(tag(), A.collection))

  /**
   * Nothing of `B` anywhere, and A exactly as published. Only the keys of A's
   * locations (`..._<A's tag>/`) and of B are looked at, so that what one test
   * leaves behind does not fail the next.
   */
  const expectOnlyA = async (B: Job) => {
    const objects = await s3State(fx.client, fx.buckets)
    expect(objects.filter(([k]) => k.includes(B.tag))).toEqual([])
    expect(objects.filter(([k]) => k.includes(`_${A.tag}/`))).toEqual(published.s3)
    expect(await grqDocs(fx.grqUrl, [...A.docIds, ...B.docIds])).toEqual(published.grq)
    const stac = (await registryState(fx, [A.collection]))[A.collection]!
    const before = published.stac[A.collection]!
    expect(stac.collection).toEqual(before.collection)
    expect(stac.items.map((i) => i.id)).not.toContain(B.items[0])
    expect(stac.items.filter((i) => A.items.includes(i.id))).toEqual(before.items)
    for (const item of B.items) expect((await fetch(`${fx.stacUrl}/collections/${A.collection}/items/${item}`)).status).toBe(404)
  }

  /** The run failed with `code`, rolled back without a failed undo, and its transaction is recorded as aborted. */
  const expectRolledBack = async (r: CliResult, code: number, state: string) => {
    if (r.exitCode !== code) throw new Error(`expected exit ${code}\n${describeRun(r)}`)
    const out = parseJson(r.stdout)
    expect(out.ok).toBe(false)
    expect(out.rollback.failed).toEqual([])
    expect(out.rollback.undone.length).toBeGreaterThan(0)
    expect((await journalList(state, fx.env())).map((t) => [t.tx, t.state])).toEqual([[out.tx, "aborted"]])
    return out
  }

  // The two S3 faults below copy one file at a time (--concurrency 1): with
  // several uploads in flight when one fails, the ones cut off may still land
  // after the rollback (see the test after them, which pins that down).
  test("S3 answers 403 (not retried) to the 8th upload: exit 6", async () => {
    const B = jobB()
    const s3 = proxy(svc!.S3_ENDPOINT!, [{ match: isUpload, nth: 8, status: 403 }])
    const state = freshState()
    const r = await ingest(B, state, fx.env({ S3_ENDPOINT: s3.url }), ["--concurrency", "1"])
    expect(s3.injected()).toBe(1)
    await expectRolledBack(r, EXIT.storage, state)
    await expectOnlyA(B)
  }, TIMEOUT)

  test("S3 answers 500 to the 8th upload and to every retry of it: exit 6", async () => {
    const B = jobB()
    // 6 failures in a row: the 8th upload and the SDK's 5 retries of it (maxAttempts 6).
    const s3 = proxy(svc!.S3_ENDPOINT!, [{ match: isUpload, nth: 8, count: 6, status: 500 }])
    const state = freshState()
    const r = await ingest(B, state, fx.env({ S3_ENDPOINT: s3.url }), ["--concurrency", "1"])
    expect(s3.injected()).toBe(6)
    const out = await expectRolledBack(r, EXIT.storage, state)
    expect(out.error.category).toBe("storage")
    await expectOnlyA(B)
  }, TIMEOUT)

  test("uploads in flight when another one fails (S3 200 ms away) do not land after the rollback: exit 6, nothing of B", async () => {
    const B = jobB()
    // CLI -> FaultProxy (403 on the 8th upload) -> 200 ms of latency on uploads -> SeaweedFS.
    const slow = Latency.start(svc!.S3_ENDPOINT!, 200, isUpload)
    latencies.push(slow)
    const s3 = proxy(slow.url, [{ match: isUpload, nth: 8, status: 403 }])
    const state = freshState()
    const r = await ingest(B, state, fx.env({ S3_ENDPOINT: s3.url }))
    expect(s3.injected()).toBe(1)
    // The CLI has exited; what it sent may still be on its way. Once the fault proxy has
    // answered every request it received, each was forwarded through the latency hop and
    // answered by SeaweedFS (the hop answers only then): no upload of B can land later.
    await s3.settled()
    await slow.settled()
    await expectRolledBack(r, EXIT.storage, state)
    await expectOnlyA(B)
  }, TIMEOUT)

  test("GRQ answers 400 to the _bulk request: exit 7", async () => {
    const B = jobB()
    const grq = proxy(fx.grqUrl, [{ match: isBulk, nth: 1, status: 400 }])
    const state = freshState()
    const r = await ingest(B, state, fx.env({ GRQ_ES_URL: grq.url }))
    expect(grq.injected()).toBe(1)
    await expectRolledBack(r, EXIT.index, state)
    await expectOnlyA(B)
  }, TIMEOUT)

  test("GRQ answers 500 to every _bulk request, beyond the retries: exit 7", async () => {
    const B = jobB()
    // 4 attempts: the first and GRQ's 3 retries; the rollback's own _bulk (the deletes) goes through.
    const grq = proxy(fx.grqUrl, [{ match: isBulk, nth: 1, count: 4, status: 500 }])
    const state = freshState()
    const r = await ingest(B, state, fx.env({ GRQ_ES_URL: grq.url }))
    expect(grq.injected()).toBe(4)
    await expectRolledBack(r, EXIT.index, state)
    await expectOnlyA(B)
  }, TIMEOUT)

  test("the real mapping conflict on metadata.quality (failing-job, in A's collection): exit 7", async () => {
    const B = fx.track(failingJob(tag(), A.collection))
    const state = freshState()
    const r = await ingest(B, state, fx.env())
    const out = await expectRolledBack(r, EXIT.index, state)
    expect(JSON.stringify(out.error)).toContain("quality")
    await expectOnlyA(B)
  }, TIMEOUT)

  test("the STAC API dies after the items landed: exit 8, the transaction stays open, `recover` finishes it once the server is back", async () => {
    const B = jobB()
    let itemsPosted = false
    let killedAt: string | undefined
    // Let the items through (bulk_items answers 200: they are stored), then die
    // on the search that checks they are visible (the next request): the run
    // fails, and its rollback cannot reach the STAC API to delete them.
    const stac: FaultProxy.FaultProxy = proxy(fx.stacUrl, [
      {
        match: (r) => {
          if (r.method === "POST" && /\/collections\/[^/]+\/(bulk_)?items$/.test(pathOf(r))) itemsPosted = true
          else if (itemsPosted && killedAt === undefined && r.method === "POST" && pathOf(r) === "/search") {
            killedAt = `request ${stac.seen.length}: ${r.method} ${pathOf(r)}`
            stac.kill()
          }
          return false
        },
        nth: 1
      }
    ])
    const state = freshState()
    const env = fx.env({ STAC_API_URL: stac.url })
    const r = await ingest(B, state, env)
    expect(killedAt).toBeDefined()
    console.log(`STAC proxy killed at ${killedAt} (${stac.seen.length} requests seen)`)
    if (r.exitCode !== EXIT.catalogApi) throw new Error(`expected exit ${EXIT.catalogApi}\n${describeRun(r)}`)
    const out = parseJson(r.stdout)
    expect(out.rollback.failed.length).toBeGreaterThan(0)
    expect(out.rollback.failed.map((f: { summary: string }) => f.summary).join("\n")).toContain(`STAC item(s) in ${A.collection}`)
    // The journal keeps the transaction open: the rollback did not finish.
    const open = await journalList(state, env)
    expect(open.map((t) => [t.tx, t.state])).toEqual([[out.tx, "abort-incomplete"]])
    // B's items are still on the server (the undo could not reach it).
    const stranded = (await stacItems(fx.stacUrl, A.collection)).map((i) => i.id)
    for (const item of B.items) expect(stranded).toContain(item)

    stac.revive()
    const recovered = expectExit(await cli(["recover", "--state-dir", state, "--json"], env), EXIT.ok)
    const result = parseJson(recovered.stdout)
    expect(result.ok).toBe(true)
    expect(result.recovered.map((x: { tx: string; outcome: string }) => [x.tx, x.outcome])).toEqual([[out.tx, "rolled-back"]])
    expect((await journalList(state, env)).map((t) => [t.tx, t.state])).toEqual([[out.tx, "aborted"]])
    await expectOnlyA(B)
  }, TIMEOUT)

  test("a failed --force re-ingest of A (GRQ answers 400) leaves A byte-identical", async () => {
    const datasetsJson = path.join(A.dir, "_datasets.json")
    const before = sha256(fs.readFileSync(datasetsJson))
    const grq = proxy(fx.grqUrl, [{ match: isBulk, nth: 1, status: 400 }])
    const r = await ingest(A, stateA, fx.env({ GRQ_ES_URL: grq.url }), ["--force"])
    expect(grq.injected()).toBe(1)
    if (r.exitCode !== EXIT.index) throw new Error(`expected exit ${EXIT.index}\n${describeRun(r)}`)
    const out = parseJson(r.stdout)
    expect(out.rollback.failed).toEqual([])
    // Objects (sha256, and no backup or marker left), documents, collection and items as they were.
    expect((await s3State(fx.client, fx.buckets)).filter(([k]) => k.includes(`_${A.tag}/`))).toEqual(published.s3)
    expect(await grqState(fx.grqUrl, A.docIds)).toEqual(
      published.grq.map(({ index, id, doc }) => {
        const { "@timestamp": _, ...rest } = doc
        return { index, id, doc: rest }
      })
    )
    const stac = (await registryState(fx, [A.collection]))[A.collection]!
    expect(stac.items.filter((i) => A.items.includes(i.id))).toEqual(published.stac[A.collection]!.items)
    expect(sha256(fs.readFileSync(datasetsJson))).toBe(before)
    // The collection --force replaced is put back as the STAC API served it before.
    expect(stac.collection).toEqual(published.stac[A.collection]!.collection)
  }, TIMEOUT)
})
}
