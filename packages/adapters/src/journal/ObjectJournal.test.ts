/**
 * The shared journal on both of its stores: a directory (the local store's
 * form) and the real S3 of the test services (SeaweedFS). Each journal
 * instance here is a separate lease holder, as two worker machines would be.
 */
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3"
import { Journal } from "@hysds-stac/core"
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test"
import { Effect, Exit, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { endpoint, services, unique } from "../contract/Services.ts"
import * as S3Blobs from "../s3/S3Blobs.ts"
import type { Blobs } from "./Blobs.ts"
import * as DirectoryBlobs from "./DirectoryBlobs.ts"
import * as FileJournal from "./FileJournal.ts"
import * as ObjectJournal from "./ObjectJournal.ts"

setDefaultTimeout(60_000)

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const at = new Date().toISOString()
const begin = (tx: string): Journal.JournalRecord => ({ _tag: "Begin", tx, at, jobDir: "/job", products: [`p-${tx}`], host: "h", pid: 1 })

/** Waits for `cond` to hold, failing after `ms`. */
const waitFor = async (what: string, cond: () => Promise<boolean>, ms = 20_000) => {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(50)
  }
}

/** A lease held in a scope the test closes (or never closes: a holder that died without a word). */
const hold = async (j: Journal.JournalShape, tx: string, mode: Journal.LeaseMode) => {
  const scope = Effect.runSync(Scope.make())
  const taken = await run(Scope.extend(j.lease(tx, mode), scope))
  return { taken, close: () => run(Scope.close(scope, Exit.void)) }
}

const suite = (name: string, blobsOf: () => Promise<Blobs>) =>
  describe(`ObjectJournal on ${name}`, () => {
    let blobs: Blobs
    beforeAll(async () => {
      blobs = await blobsOf()
    })
    const journal = (o: { ttlMs?: number; renewMs?: number; retentionDays?: number } = {}) =>
      ObjectJournal.make({
        blobs,
        lease: { ttlMs: o.ttlMs ?? 60_000, renewMs: o.renewMs ?? 100 },
        holder: FileJournal.holder(),
        ...(o.retentionDays !== undefined ? { retentionDays: o.retentionDays } : {})
      })

    test("records read back in order under a lease; a finished transaction leaves the open ones", async () => {
      const tx = unique("tx")
      const j = journal()
      const lease = await hold(j, tx, "begin")
      expect(lease.taken).toBe(true)
      for (const r of [begin(tx), { _tag: "Intent", tx, step: 1, action: { _tag: "PutObjects", product: "p", urls: ["s3://b/k"] } }, { _tag: "Done", tx, step: 1 }] as const) {
        await run(j.append(r as Journal.JournalRecord))
      }
      // Another worker reads the same records.
      const other = journal()
      expect((await run(other.records(tx))).map((r) => r._tag)).toEqual(["Begin", "Intent", "Done"])
      expect((await run(other.transactions())).map((t) => t.tx)).toContain(tx)
      await run(j.append({ _tag: "Commit", tx, at }))
      await run(j.append({ _tag: "End", tx, at, outcome: "committed" }))
      await lease.close()
      expect((await run(other.transactions())).map((t) => t.tx)).not.toContain(tx)
      const all = await run(other.transactions({ finished: true }))
      expect(all.find((t) => t.tx === tx)?.state).toBe("committed")
    })

    test("a holder lost between its End record and leaving the open index: the next listing moves it to the finished ones", async () => {
      const tx = unique("tx")
      const j = journal()
      const lease = await hold(j, tx, "begin")
      await run(j.append(begin(tx)))
      await run(j.append({ _tag: "Commit", tx, at }))
      await run(j.append({ _tag: "End", tx, at, outcome: "committed" }))
      await lease.close()
      // As if the machine was lost right after End was stored: the open marker is still there.
      await run(blobs.create(`open/${tx}`, "{}"))
      const other = journal()
      expect((await run(other.transactions())).map((t) => t.tx)).not.toContain(tx)
      expect(await run(blobs.list(`open/${tx}`))).toEqual([])
      expect((await run(other.transactions({ finished: true }))).find((t) => t.tx === tx)?.state).toBe("committed")
    })

    test("an append without the transaction's lease is refused", async () => {
      const exit = await Effect.runPromiseExit(journal().append(begin(unique("tx"))))
      expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("without holding its lease")
    })

    test("a live holder keeps its transaction; once it stops renewing, exactly one of two racing recoverers takes it over", async () => {
      const tx = unique("tx")
      const worker = journal({ ttlMs: 1500, renewMs: 200 })
      const running = await hold(worker, tx, "begin")
      const started = Date.now()
      await run(worker.append(begin(tx)))
      const a = journal()
      const b = journal()
      expect(await run(a.live(tx))).toBe(true)
      expect((await hold(a, tx, "takeover")).taken).toBe(false)
      // Renewed past several TTLs, it stays live.
      await Bun.sleep(1)
      await waitFor("three TTLs of renewals", async () => Date.now() - started > 4500)
      expect(await run(a.live(tx))).toBe(true)
      expect((await hold(b, tx, "takeover")).taken).toBe(false)
      await running.close()
      // Another worker dies: it took its lease but never renews it and releases nothing (as after SIGKILL).
      const tx2 = unique("tx")
      const dies = journal({ ttlMs: 1500, renewMs: 60_000 }) // never renews after taking it
      const never = await hold(dies, tx2, "begin")
      expect(never.taken).toBe(true)
      await run(dies.append(begin(tx2)))
      expect(await run(a.live(tx2))).toBe(true)
      await waitFor("the lease to expire", async () => !(await run(a.live(tx2))))
      const [ra, rb] = await Promise.all([hold(a, tx2, "takeover"), hold(b, tx2, "takeover")])
      expect([ra.taken, rb.taken].filter(Boolean)).toHaveLength(1)
      const winner = ra.taken ? a : b
      // The dead holder lost its lease: it may not append any more (no step starts after a takeover).
      const late = await Effect.runPromiseExit(dies.append({ _tag: "Done", tx: tx2, step: 1 }))
      expect(Exit.isFailure(late) && JSON.stringify(late.cause)).toContain("lost its lease")
      // The winner writes in its own generation: its records follow the dead holder's.
      await run(winner.append({ _tag: "End", tx: tx2, at, outcome: "aborted" }))
      expect((await run(b.records(tx2))).map((r) => r._tag)).toEqual(["Begin", "End"])
      // And while the winner holds it, nobody else takes it.
      expect((await hold(ra.taken ? b : a, tx2, "takeover")).taken).toBe(false)
      await ra.close()
      await rb.close()
    })

    test("a holder whose event loop stalled past the TTL has lost its lease, even if its renewal runs before its next append", async () => {
      const tx = unique("tx")
      const stalls = journal({ ttlMs: 1500, renewMs: 200 })
      const l = await hold(stalls, tx, "begin")
      await run(stalls.append(begin(tx)))
      // The whole process stalls (a machine at load 50, a long GC pause): no renewal, no append.
      Bun.sleepSync(1500 + 1000 + 500)
      // The renewal timer, overdue, runs at the first turn; it must not take the lease back.
      await waitFor("the holder to see it lost its lease", async () => !(await run(stalls.live(tx))), 5000)
      const late = await Effect.runPromiseExit(stalls.append({ _tag: "Done", tx, step: 1 }))
      expect(Exit.isFailure(late) && JSON.stringify(late.cause)).toContain("lost its lease")
      // Another worker sees it expired and takes it over.
      const other = journal()
      const r = await hold(other, tx, "takeover")
      expect(r.taken).toBe(true)
      await r.close()
      await l.close()
    })

    test("a released lease (the run ended, e.g. abort-incomplete) is taken over at once", async () => {
      const tx = unique("tx")
      const j = journal()
      const l = await hold(j, tx, "begin")
      await run(j.append(begin(tx)))
      await l.close()
      expect(await run(journal().live(tx))).toBe(false)
      const r = await hold(journal(), tx, "takeover")
      expect(r.taken).toBe(true)
      await r.close()
    })

    test("retention: finished transactions older than the setting are deleted, every object of them", async () => {
      const j = journal({ retentionDays: 0 })
      const finishOne = async () => {
        const tx = unique("tx")
        const l = await hold(j, tx, "begin")
        await run(j.append(begin(tx)))
        await run(j.append({ _tag: "End", tx, at, outcome: "aborted" }))
        await l.close()
        return tx
      }
      const first = await finishOne()
      await Bun.sleep(5) // the next finish's stamp must be later than the first's
      await finishOne()
      expect(await run(blobs.list(`tx/${first}/`))).toEqual([])
      expect((await run(j.transactions({ finished: true }))).map((t) => t.tx)).not.toContain(first)
    })
  })

suite("a directory (the local store)", async () => DirectoryBlobs.make(fs.mkdtempSync(path.join(os.tmpdir(), "hysds-stac-objjournal-"))))

const env = services()
if (env === undefined) {
  describe.skip("ObjectJournal on S3 (test services not started)", () => {
    test("skipped", () => undefined)
  })
} else {
  const s3Endpoint = endpoint(env, "S3_ENDPOINT")
  const credentials = { accessKeyId: endpoint(env, "S3_ACCESS_KEY_ID"), secretAccessKey: endpoint(env, "S3_SECRET_ACCESS_KEY") }
  const region = env.S3_REGION ?? "us-east-1"
  const bucket = unique("sjournal")
  const admin = new S3Client({ endpoint: s3Endpoint, region, forcePathStyle: true, credentials })
  const scope = Effect.runSync(Scope.make())
  beforeAll(async () => {
    await admin.send(new CreateBucketCommand({ Bucket: bucket }))
  })
  afterAll(async () => {
    await run(Scope.close(scope, Exit.void))
    for (;;) {
      const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket }))
      const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key! }))
      if (objects.length === 0) break
      await admin.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }))
    }
    await admin.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined)
    admin.destroy()
  })
  suite("S3 (SeaweedFS)", () =>
    run(Scope.extend(S3Blobs.make({ endpoint: s3Endpoint, region, forcePathStyle: true, credentials }, `s3://${bucket}/journal/prefix`), scope))
  )
}
