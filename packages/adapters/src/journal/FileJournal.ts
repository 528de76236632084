/**
 * The journal on the local disk: one append-only file per transaction under
 * `<stateDir>/journal/`. Each record is one line, `<crc32 hex> <json>\n`, and
 * each append is fsynced before it returns (the directory too when the file is
 * new), so once a step's intent is appended it survives a kill -9 or a power
 * cut. A crash in the middle of an append leaves a torn last line: its checksum
 * does not match and it is dropped. A bad line anywhere else is corruption, and
 * is reported, never skipped.
 *
 * Test hook: HYSDS_STAC_CRASH_AT=K kills the process with SIGKILL (no
 * finalizers, like a spot termination) right after its K-th append, so tests
 * can stop an ingest dead at every step boundary.
 */
import { Errors, Journal } from "@hysds-stac/core"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"

const SUFFIX = ".jsonl"

const crc = (text: string): string => (Bun.hash.crc32(text) >>> 0).toString(16).padStart(8, "0")

export const encode = (record: Journal.JournalRecord): string => {
  const json = JSON.stringify(record)
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
      out.push(JSON.parse(json) as Journal.JournalRecord)
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
}

export const make = (options: Options): Journal.JournalShape => {
  const crashAt = options.crashAt ?? (Number(process.env.HYSDS_STAC_CRASH_AT) || 0)
  let appends = 0
  const fileOf = (tx: string) => {
    if (!/^[A-Za-z0-9._-]+$/.test(tx)) throw new Errors.InternalError({ message: `not a transaction id: ${tx}` })
    return path.join(options.dir, tx + SUFFIX)
  }

  const append: Journal.JournalShape["append"] = (record) =>
    Effect.try({
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
      },
      catch: internal(`cannot append to the journal in ${options.dir}`)
    })

  const records: Journal.JournalShape["records"] = (tx) =>
    Effect.try({
      try: () => {
        const file = fileOf(tx)
        if (!fs.existsSync(file)) throw new Errors.InternalError({ message: `no transaction ${tx} in the journal (${options.dir})` })
        return decode(file, fs.readFileSync(file, "utf8"))
      },
      catch: internal(`cannot read transaction ${tx} from the journal`)
    })

  const transactions: Journal.JournalShape["transactions"] = () =>
    Effect.try({
      try: () => {
        if (!fs.existsSync(options.dir)) return []
        return fs
          .readdirSync(options.dir)
          .filter((f) => f.endsWith(SUFFIX))
          .map((f) => {
            const tx = f.slice(0, -SUFFIX.length)
            return Journal.summarize(tx, decode(f, fs.readFileSync(path.join(options.dir, f), "utf8")))
          })
          .sort((a, b) => (b.lastAt ?? "").localeCompare(a.lastAt ?? "") || b.tx.localeCompare(a.tx))
      },
      catch: internal(`cannot list the journal in ${options.dir}`)
    })

  return { append, records, transactions }
}

export const layer = (options: Options) => Layer.sync(Journal.Journal, () => make(options))
