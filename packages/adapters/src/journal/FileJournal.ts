/**
 * The journal on the local disk: one append-only file per transaction under
 * `<stateDir>/journal/`. Each record is one line, `<crc32 hex> <json>\n`, and
 * each append is fsynced before it returns (the directory too when the file is
 * new), so once a step's intent is appended it survives a kill -9 or a power
 * cut. A crash in the middle of an append leaves a torn last line: its checksum
 * does not match and it is dropped. A bad line anywhere else is corruption, and
 * is reported, never skipped. Records are decoded by core's versioned schema
 * (JournalRecord): one of an unknown version or shape is reported too.
 *
 * Compaction: when a transaction ends committed or aborted its file moves to
 * `finished/`, so an ingest and a recovery read only the open ones however
 * long the history; finished files older than the retention (7 days by
 * default, HYSDS_STAC_JOURNAL_RETENTION_DAYS) are deleted then. An
 * `abort-incomplete` transaction stays open until `recover` finishes it.
 *
 * Liveness is a lease (Lease.ts), as in the shared journal: `leases/<tx>/`
 * beside the files, renewed by the holder; an expired lease means a dead
 * holder. Because this journal is one machine's, a holder that is a process
 * of this host known to be gone is dead at once (no wait for the TTL; a
 * reused pid only delays that until the TTL). A transaction without a lease
 * was written by a hysds-stac from before leases: its Begin's host and pid
 * decide, as they did then (Liveness.ts).
 *
 * Test hook: HYSDS_STAC_CRASH_AT=K kills the process with SIGKILL (no
 * finalizers, like a spot termination) right after its K-th append, so tests
 * can stop an ingest dead at every step boundary.
 */
import { Errors, Journal, JournalRecord } from "@hysds-stac/core"
import { Config, type ConfigError, Effect, Either, Layer } from "effect"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as DirectoryBlobs from "./DirectoryBlobs.ts"
import * as Lease from "./Lease.ts"
import * as Liveness from "./Liveness.ts"

const SUFFIX = ".jsonl"
const FINISHED = "finished"
const LEASES = "leases"
const DAY_MS = 24 * 60 * 60 * 1000

const crc = (text: string): string => (Bun.hash.crc32(text) >>> 0).toString(16).padStart(8, "0")

export const encode = (record: Journal.JournalRecord): string => {
  const json = JSON.stringify(JournalRecord.encode(record))
  return `${crc(json)} ${json}\n`
}

/** Parses a journal file's text; a torn or damaged LAST line is dropped, any other bad line is an error. */
export const decode = (file: string, text: string): Array<Journal.JournalRecord> => {
  const lines = text.split("\n")
  const complete = text.endsWith("\n") ? lines.slice(0, -1) : lines
  const out: Array<Journal.JournalRecord> = []
  for (const [i, line] of complete.entries()) {
    const space = line.indexOf(" ")
    const json = line.slice(space + 1)
    const ok = space === 8 && line.slice(0, 8) === crc(json)
    if (ok) {
      const record = JournalRecord.decode(JSON.parse(json))
      if (Either.isLeft(record)) {
        throw new Errors.InternalError({ message: `journal ${file} line ${i + 1} cannot be read: ${record.left}` })
      }
      out.push(record.right)
      continue
    }
    if (i === complete.length - 1) break // torn by a crash mid-append
    throw new Errors.InternalError({ message: `journal ${file} is damaged at line ${i + 1} (checksum mismatch)` })
  }
  return out
}

const internal = (message: string) => (cause: unknown) =>
  cause instanceof Errors.InternalError ? cause : new Errors.InternalError({ message, cause })

const fsyncDir = (dir: string) => {
  const fd = fs.openSync(dir, "r")
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

export interface Options {
  readonly dir: string
  /** Kill the process after this many appends (test hook; default from HYSDS_STAC_CRASH_AT). */
  readonly crashAt?: number
  /** Days a finished transaction is kept for `journal list --all` (default 7; 0 keeps none). */
  readonly retentionDays?: number
  /** Lease TTL and renewal (default Lease.defaults). */
  readonly lease?: Lease.Settings
}

/** This process as a lease holder: unique per journal instance. */
export const holder = (): Lease.Holder => ({ id: randomUUID(), host: os.hostname(), pid: process.pid })

/**
 * `HYSDS_STAC_JOURNAL_RETENTION_DAYS`: days, 0 or more (default 7), read from
 * the ConfigProvider in force (the CLI's layers the config file under the
 * environment).
 */
export const retentionDays = Config.number("HYSDS_STAC_JOURNAL_RETENTION_DAYS").pipe(
  Config.withDefault(7),
  Config.validate({ message: "must be 0 or more days", validation: (days) => days >= 0 })
)

const retentionError = (cause: ConfigError.ConfigError) =>
  new Errors.ConfigError({
    message: `HYSDS_STAC_JOURNAL_RETENTION_DAYS is not a number of days (${String(cause)})`,
    field: "HYSDS_STAC_JOURNAL_RETENTION_DAYS",
    hint: "set it to 0 or more: how long finished transactions stay listed by `journal list --all`"
  })

export const make = (options: Options): Journal.JournalShape => {
  const crashAt = options.crashAt ?? (Number(process.env.HYSDS_STAC_CRASH_AT) || 0)
  const retentionMs = Math.max(0, options.retentionDays ?? 7) * DAY_MS
  const finishedDir = path.join(options.dir, FINISHED)
  let appends = 0
  const nameOf = (tx: string) => {
    if (!/^[A-Za-z0-9._-]+$/.test(tx)) throw new Errors.InternalError({ message: `not a transaction id: ${tx}` })
    return tx + SUFFIX
  }
  /** Where a transaction's file is: among the open ones, or the finished ones. */
  const fileOf = (tx: string) => {
    const open = path.join(options.dir, nameOf(tx))
    if (fs.existsSync(open)) return open
    const finished = path.join(finishedDir, nameOf(tx))
    return fs.existsSync(finished) ? finished : open
  }

  const leasesDir = path.join(options.dir, LEASES)
  const leases = Lease.make({
    blobs: DirectoryBlobs.make(leasesDir),
    prefixOf: (tx) => `${nameOf(tx).slice(0, -SUFFIX.length)}/`,
    settings: options.lease ?? Lease.defaults,
    holder: holder(),
    provenDead: (h) => h.host === os.hostname() && h.pid !== process.pid && !Liveness.processExists(h.pid),
    unleased: (tx) =>
      Effect.try({
        try: () => {
          const file = fileOf(tx)
          if (!fs.existsSync(file)) return false
          const begin = decode(file, fs.readFileSync(file, "utf8")).find((r) => r._tag === "Begin")
          return begin?._tag === "Begin" ? Liveness.isAlive()(begin) : false
        },
        catch: internal(`cannot read transaction ${tx} from the journal`)
      })
  })

  /** Moves a finished transaction out of the open ones, then drops finished ones past the retention. */
  const compact = (file: string, tx: string) => {
    fs.rmSync(path.join(leasesDir, nameOf(tx).slice(0, -SUFFIX.length)), { recursive: true, force: true })
    if (path.dirname(file) !== finishedDir) {
      fs.mkdirSync(finishedDir, { recursive: true })
      fs.renameSync(file, path.join(finishedDir, nameOf(tx)))
      fsyncDir(finishedDir)
      fsyncDir(options.dir)
    }
    const now = Date.now()
    for (const name of fs.readdirSync(finishedDir)) {
      const old = path.join(finishedDir, name)
      if (name.endsWith(SUFFIX) && now - fs.statSync(old).mtimeMs >= retentionMs) fs.rmSync(old, { force: true })
    }
  }

  const append: Journal.JournalShape["append"] = (record) =>
    Effect.zipRight(leases.check(record.tx), Effect.try({
      try: () => {
        const file = fileOf(record.tx)
        const created = !fs.existsSync(file)
        if (created) fs.mkdirSync(options.dir, { recursive: true })
        const fd = fs.openSync(file, "a")
        try {
          fs.writeSync(fd, encode(record))
          fs.fsyncSync(fd)
        } finally {
          fs.closeSync(fd)
        }
        if (created) fsyncDir(options.dir)
        appends++
        if (crashAt > 0 && appends === crashAt) process.kill(process.pid, "SIGKILL")
        if (record._tag === "End" && Journal.isFinished(record.outcome)) compact(file, record.tx)
      },
      catch: internal(`cannot append to the journal in ${options.dir}`)
    }))

  const records: Journal.JournalShape["records"] = (tx) =>
    Effect.try({
      try: () => {
        const file = fileOf(tx)
        if (!fs.existsSync(file)) throw new Errors.InternalError({ message: `no transaction ${tx} in the journal (${options.dir})` })
        return decode(file, fs.readFileSync(file, "utf8"))
      },
      catch: internal(`cannot read transaction ${tx} from the journal`)
    })

  const summaries = (dir: string) =>
    fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((f) => f.endsWith(SUFFIX))
          .map((f) => Journal.summarize(f.slice(0, -SUFFIX.length), decode(f, fs.readFileSync(path.join(dir, f), "utf8"))))
      : []

  const transactions: Journal.JournalShape["transactions"] = (opts) =>
    Effect.try({
      try: () =>
        // A crash between an End and its compaction leaves a finished transaction among the open files.
        [...summaries(options.dir), ...(opts?.finished === true ? summaries(finishedDir) : [])]
          .filter((t) => opts?.finished === true || !Journal.isFinished(t.state))
          .sort(
          (a, b) => (b.lastAt ?? "").localeCompare(a.lastAt ?? "") || b.tx.localeCompare(a.tx)
        ),
      catch: internal(`cannot list the journal in ${options.dir}`)
    })

  return { append, records, transactions, lease: leases.lease, live: leases.live }
}

/** The journal, its retention from `options` or else from the configuration (see {@link retentionDays}). */
export const layer = (options: Options): Layer.Layer<Journal.Journal, Errors.ConfigError> =>
  Layer.effect(
    Journal.Journal,
    Effect.map(options.retentionDays !== undefined ? Effect.succeed(options.retentionDays) : Effect.mapError(retentionDays, retentionError), (days) =>
      make({ ...options, retentionDays: days })
    )
  )
