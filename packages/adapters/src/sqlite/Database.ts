/**
 * The one SQLite file (`bun:sqlite`) behind the embedded GRQ index and STAC
 * registry. One file, not two, so a state dir is a single thing to copy, back
 * up or delete, and so both adapters share one connection per process.
 *
 * Several processes may publish into the same state dir at once (parallel
 * HySDS jobs on one worker), hence:
 * - WAL journal: readers never block the writer and the writer never blocks
 *   readers;
 * - `busy_timeout`: a writer waits for another process's write transaction
 *   instead of failing at once with SQLITE_BUSY;
 * - the adapters write in `BEGIN IMMEDIATE` transactions (see {@link writeTransaction}):
 *   a deferred transaction that reads then writes cannot wait on a busy lock
 *   in WAL mode (SQLite returns SQLITE_BUSY without calling the busy handler
 *   when its snapshot went stale), an immediate one takes the write lock up
 *   front and waits for it.
 */
import { Context, Duration, Effect, Layer, Schedule, type Scope } from "effect"
import { Database as Connection } from "bun:sqlite"
import { mkdirSync } from "node:fs"
import * as path from "node:path"
import { Errors } from "@hysds-stac/core"

export interface DatabaseShape {
  /** Absolute path of the SQLite file (or `:memory:`). */
  readonly file: string
  readonly connection: Connection
}

export class Database extends Context.Tag("@hysds-stac/adapters/sqlite/Database")<Database, DatabaseShape>() {}

export interface Options {
  /** How long a write waits for another process's write, in milliseconds (default 30 s). */
  readonly busyTimeoutMs?: number
}

/** Bumped when the tables change; a file from a newer hysds-stac is refused rather than misread. */
export const SCHEMA_VERSION = 1

const SCHEMA = `
CREATE TABLE IF NOT EXISTS grq_docs (
  index_name TEXT NOT NULL,
  id         TEXT NOT NULL,
  dataset    TEXT,
  doc        TEXT NOT NULL,
  PRIMARY KEY (index_name, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS grq_docs_by_id ON grq_docs (id);
CREATE INDEX IF NOT EXISTS grq_docs_by_dataset ON grq_docs (dataset, id);
CREATE TABLE IF NOT EXISTS grq_mappings (
  index_name TEXT NOT NULL,
  path       TEXT NOT NULL,
  type       TEXT NOT NULL,
  PRIMARY KEY (index_name, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS grq_aliases (
  index_name TEXT NOT NULL,
  alias      TEXT NOT NULL,
  PRIMARY KEY (index_name, alias)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stac_collections (
  id  TEXT PRIMARY KEY NOT NULL,
  doc TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stac_items (
  collection TEXT NOT NULL REFERENCES stac_collections (id) ON DELETE CASCADE,
  id         TEXT NOT NULL,
  doc        TEXT NOT NULL,
  PRIMARY KEY (collection, id)
) WITHOUT ROWID;
`

const openError = (file: string, cause: unknown, hint?: string): Errors.StorageError =>
  new Errors.StorageError({
    message: `could not open the state database ${file}: ${cause instanceof Error ? cause.message : String(cause)}`,
    url: `file://${file}`,
    hint: hint ?? "check that the state dir exists or can be created, is writable, and is on a local disk (SQLite's WAL mode does not work over NFS)",
    cause
  })

/**
 * Sets the connection up and brings the tables to {@link SCHEMA_VERSION}. Every
 * statement may be run again: a busy open retries all of it.
 */
const prepare = (connection: Connection, busyTimeoutMs: number): void => {
  // The busy timeout first: switching to WAL and creating tables take locks too.
  connection.run(`PRAGMA busy_timeout = ${busyTimeoutMs}`)
  connection.run("PRAGMA journal_mode = WAL")
  // Off, and what they would check is checked in code, in the same write transaction
  // (an item's collection exists; deleting a collection deletes its items). Why: with
  // them on, each item written looks its collection up, and a collection row of a
  // WITHOUT ROWID table too large for its page is read whole at each lookup: a
  // collection listing 100,000 items (10 MB) made a 100,000-item ingest take 657 s.
  connection.run("PRAGMA foreign_keys = OFF")
  connection
    .transaction(() => {
      const row = connection.query<{ user_version: number }, []>("PRAGMA user_version").get()
      const version = row?.user_version ?? 0
      if (version > SCHEMA_VERSION) {
        throw new Error(`it was written by a newer hysds-stac (schema ${version}, this one knows ${SCHEMA_VERSION}); upgrade hysds-stac`)
      }
      connection.run(SCHEMA)
      if (version < SCHEMA_VERSION) connection.run(`PRAGMA user_version = ${SCHEMA_VERSION}`)
    })
    .immediate()
}

/** How often a busy open tries again, until the busy timeout has passed. */
const OPEN_RETRY = "25 millis"

/** Opens (creating if needed) and prepares the file; closed when the scope ends. */
export const open = (
  file: string,
  options: Options = {}
): Effect.Effect<DatabaseShape, Errors.StorageError, Scope.Scope> => {
  const absolute = file === ":memory:" ? file : path.resolve(file)
  const busyTimeoutMs = Math.max(0, Math.trunc(options.busyTimeoutMs ?? 30_000))
  const connect = Effect.acquireRelease(
    Effect.try({
      try: () => {
        if (absolute !== ":memory:") mkdirSync(path.dirname(absolute), { recursive: true })
        return new Connection(absolute, { create: true, readwrite: true, strict: true })
      },
      catch: (cause) => openError(absolute, cause)
    }),
    (connection) => Effect.sync(() => connection.close())
  )
  return Effect.flatMap(connect, (connection) =>
    Effect.try({ try: () => prepare(connection, busyTimeoutMs), catch: (cause) => cause }).pipe(
      // SQLite fails a switch to WAL at once, without its busy handler, while another
      // connection holds a write lock: two processes opening a new state dir together
      // meet exactly that (seen in CI). Tried again here, between turns of the event
      // loop, for as long as the busy timeout would have waited.
      Effect.retry({ while: isBusy, schedule: Schedule.spaced(OPEN_RETRY).pipe(Schedule.upTo(Duration.millis(busyTimeoutMs))) }),
      Effect.mapError((cause) => openError(absolute, cause, isBusy(cause) ? busyHint(absolute) : undefined)),
      Effect.as({ file: absolute, connection })
    )
  )
}

/** A scoped Layer: the file is open while the layer is in use and closed after. */
export const layer = (file: string, options: Options = {}): Layer.Layer<Database, Errors.StorageError> =>
  Layer.scoped(Database, open(file, options))

/** SQLite's result code of a failure (`SQLITE_BUSY`, ...), when it is one. */
export const sqliteCode = (cause: unknown): string | undefined => {
  const code = (cause as { readonly code?: unknown } | null)?.code
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined
}

/** True when another connection held the lock longer than the busy timeout. */
export const isBusy = (cause: unknown): boolean => {
  const code = sqliteCode(cause)
  return code !== undefined && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))
}

const busyHint = (file: string): string =>
  `another process kept ${file} locked longer than the busy timeout; retry, or run fewer publishers against one state dir`

/** What to tell a person about a SQLite failure. */
export const hintFor = (db: DatabaseShape, cause: unknown): string => {
  const code = sqliteCode(cause)
  if (isBusy(cause)) return busyHint(db.file)
  if (code?.startsWith("SQLITE_FULL")) return `the disk holding ${db.file} is full`
  if (code?.startsWith("SQLITE_READONLY") || code?.startsWith("SQLITE_PERM")) return `${db.file} is not writable`
  if (code?.startsWith("SQLITE_CORRUPT") || code?.startsWith("SQLITE_NOTADB")) {
    return `${db.file} is damaged; restore it from a backup or move it away to start an empty state`
  }
  return `the state database is ${db.file}`
}

/**
 * Runs `body` in a `BEGIN IMMEDIATE` transaction: committed when it returns,
 * rolled back when it throws (the exception propagates).
 */
export const writeTransaction = <A>(db: DatabaseShape, body: () => A): A => db.connection.transaction(body).immediate()
