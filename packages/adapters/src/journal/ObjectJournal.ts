/**
 * The shared journal: every transaction in an object store (S3, or a
 * directory; see Blobs), so that when a worker machine is lost with its disk,
 * another worker finds what it left half done and finishes it. Selected by
 * `HYSDS_STAC_JOURNAL=s3://bucket/prefix` (JournalSettings).
 *
 * Layout under the prefix:
 *
 *   tx/<tx>/lease/<gen>.json          the lease, one key per generation (Lease.ts)
 *   tx/<tx>/records/<gen>-<seq>.json  one object per record: the lease generation
 *                                     that wrote it, then its sequence within it
 *   open/<tx>                         index of the open transactions (written before
 *                                     the lease is taken, removed once finished, or by
 *                                     the next listing if its holder died in between)
 *   finished/<ended at>_<tx>          index of the finished ones, oldest first
 *
 * - Durable before the step: `append` returns once the store has answered the
 *   record's PUT (S3 answers after the object is stored; the directory fsyncs).
 * - Writers never overwrite each other: a record is written create-only to a
 *   key no one else writes (its generation belongs to one lease holder), and a
 *   lease is taken over by creating the next generation's key.
 * - Order: records sort by (generation, sequence): the dead holder's first,
 *   then its recoverer's. A holder that lost its lease cannot append (Lease
 *   `check`), so no record of an older generation follows a newer one's.
 * - Records are core's versioned JournalRecord (`v`), one JSON object each.
 * - Open transactions are listed from `open/`, so recovery and every ingest's
 *   look for earlier attempts read only those, however long the history. A
 *   transaction that ends committed or aborted moves to `finished/`; finished
 *   ones older than the retention (HYSDS_STAC_JOURNAL_RETENTION_DAYS) are
 *   deleted, every object of them, at each finish.
 * - Test hook: HYSDS_STAC_CRASH_AT=K kills the process after its K-th append,
 *   as the file journal does.
 */
import { Errors, Journal, JournalRecord } from "@hysds-stac/core"
import { Effect, Either } from "effect"
import type { Blobs } from "./Blobs.ts"
import * as Lease from "./Lease.ts"

const DAY_MS = 24 * 60 * 60 * 1000
const TX = /^[A-Za-z0-9._-]+$/
const pad = (n: number) => String(n).padStart(6, "0")
/** A sortable timestamp for the finished index: 20261201T190415123Z. */
const stamp = (d: Date) => d.toISOString().replace(/[-:.]/g, "")

export interface Options {
  readonly blobs: Blobs
  readonly lease: Lease.Settings
  readonly holder: Lease.Holder
  /** Days a finished transaction is kept (default 7; 0 keeps none). */
  readonly retentionDays?: number
  /** Kill the process after this many appends (test hook; default from HYSDS_STAC_CRASH_AT). */
  readonly crashAt?: number
}

export const make = (options: Options): Journal.JournalShape => {
  const { blobs } = options
  const crashAt = options.crashAt ?? (Number(process.env.HYSDS_STAC_CRASH_AT) || 0)
  const retentionMs = Math.max(0, options.retentionDays ?? 7) * DAY_MS
  let appends = 0
  const checked = (tx: string) =>
    TX.test(tx) ? Effect.succeed(tx) : Effect.fail(new Errors.InternalError({ message: `not a transaction id: ${tx}` }))
  const recordsPrefix = (tx: string) => `tx/${tx}/records/`
  const openKey = (tx: string) => `open/${tx}`

  const leases = Lease.make({
    blobs,
    prefixOf: (tx) => `tx/${tx}/lease/`,
    settings: options.lease,
    holder: options.holder,
    // Every transaction of this journal is leased from before its first record: one without a lease has no holder.
    unleased: () => Effect.succeed(false)
  })
  /** Sequence numbers of the generation this process holds, per transaction. */
  const next = new Map<string, { gen: number; seq: number }>()

  const lease: Journal.JournalShape["lease"] = (tx, mode) =>
    Effect.gen(function* () {
      yield* checked(tx)
      // Listed as open before its lease exists: a crash in between leaves an open
      // transaction without a holder, which recovery finishes (it has no records).
      if (mode === "begin") yield* blobs.create(openKey(tx), "{}")
      const taken = yield* leases.lease(tx, mode)
      if (!taken) return false
      next.set(tx, { gen: leases.generation(tx)!, seq: 0 })
      yield* Effect.addFinalizer(() => Effect.sync(() => next.delete(tx)))
      return true
    })

  const records: Journal.JournalShape["records"] = (tx) =>
    Effect.gen(function* () {
      yield* checked(tx)
      const keys = yield* blobs.list(recordsPrefix(tx))
      if (keys.length === 0 && (yield* blobs.list(`tx/${tx}/`)).length === 0 && (yield* blobs.get(openKey(tx))) === undefined) {
        return yield* Effect.fail(new Errors.InternalError({ message: `no transaction ${tx} in the journal (${blobs.where})` }))
      }
      const bodies = yield* Effect.forEach(keys, (k) => blobs.get(k), { concurrency: 16 })
      const out: Array<Journal.JournalRecord> = []
      for (const [i, blob] of bodies.entries()) {
        if (blob === undefined) continue // removed by retention meanwhile
        let json: unknown
        try {
          json = JSON.parse(blob.body)
        } catch {
          return yield* Effect.fail(new Errors.InternalError({ message: `journal ${blobs.where}/${keys[i]} is not JSON` }))
        }
        const record = JournalRecord.decode(json)
        if (Either.isLeft(record)) {
          return yield* Effect.fail(new Errors.InternalError({ message: `journal ${blobs.where}/${keys[i]} cannot be read: ${record.left}` }))
        }
        out.push(record.right)
      }
      return out
    })

  /** Drops finished transactions past the retention, oldest first. */
  const sweep = Effect.gen(function* () {
    const cutoff = stamp(new Date(Date.now() - retentionMs))
    for (const key of yield* blobs.list("finished/")) {
      const name = key.slice("finished/".length)
      const cut = name.indexOf("_")
      if (cut < 0) continue
      if (name.slice(0, cut) >= cutoff) break // sorted: the rest are newer
      const tx = name.slice(cut + 1)
      // One this process still holds (its run is closing) goes at a later sweep.
      if (!TX.test(tx) || leases.generation(tx) !== undefined) continue
      yield* blobs.remove(yield* blobs.list(`tx/${tx}/`))
      yield* blobs.remove([key])
    }
  })

  const finish = (tx: string) =>
    Effect.gen(function* () {
      yield* blobs.create(`finished/${stamp(new Date())}_${tx}`, "{}")
      yield* blobs.remove([openKey(tx)])
      yield* sweep
    }).pipe(
      // The transaction is finished by its End record; the index catches up at the next listing (`transactions`).
      Effect.catchAll((e) => Effect.logWarning(`journal: moving ${tx} to the finished ones failed: ${e.message}`))
    )

  const append: Journal.JournalShape["append"] = (record) =>
    Effect.gen(function* () {
      const tx = yield* checked(record.tx)
      yield* leases.check(tx)
      const at = next.get(tx)
      if (at === undefined) {
        return yield* Effect.fail(new Errors.InternalError({ message: `journal: transaction ${tx} is appended to without holding its lease` }))
      }
      const key = `${recordsPrefix(tx)}${pad(at.gen)}-${pad(at.seq)}.json`
      at.seq++
      if (!(yield* blobs.create(key, JSON.stringify(JournalRecord.encode(record))))) {
        return yield* Effect.fail(new Errors.InternalError({ message: `journal: record ${key} already exists (two holders of one lease generation?)` }))
      }
      appends++
      if (crashAt > 0 && appends === crashAt) process.kill(process.pid, "SIGKILL")
      if (record._tag === "End" && Journal.isFinished(record.outcome)) yield* finish(tx)
    })

  const summaries = (txs: ReadonlyArray<string>) =>
    Effect.forEach(
      txs.filter((tx) => TX.test(tx)),
      (tx) => Effect.map(records(tx), (rs) => Journal.summarize(tx, rs)),
      { concurrency: 8 }
    )

  const transactions: Journal.JournalShape["transactions"] = (opts) =>
    Effect.gen(function* () {
      const open = (yield* blobs.list("open/")).map((k) => k.slice("open/".length))
      const finished =
        opts?.finished === true
          ? (yield* blobs.list("finished/")).map((k) => k.slice("finished/".length)).map((n) => n.slice(n.indexOf("_") + 1))
          : []
      const all = yield* summaries([...new Set([...open, ...finished])])
      // Still listed as open though its End record is stored: its holder was lost
      // between the two (the End is what finishes it). Moved now, or it would stay
      // in the open index for good (no recovery looks at a finished transaction).
      const listed = new Set(open)
      for (const t of all) if (listed.has(t.tx) && Journal.isFinished(t.state)) yield* finish(t.tx)
      return all
        .filter((t) => opts?.finished === true || !Journal.isFinished(t.state))
        .sort((a, b) => (b.lastAt ?? "").localeCompare(a.lastAt ?? "") || b.tx.localeCompare(a.tx))
    }).pipe(Effect.withSpan("journal transactions"))

  return { append, records, transactions, lease, live: leases.live }
}
