/**
 * The journal's records as a versioned Schema. The journal is the one input
 * written by another process (a dead ingest, maybe an older or newer
 * hysds-stac), and recovery acts on what it says: deleting objects, documents,
 * items. So every record is decoded, never cast, and a record this version
 * does not know is reported, never guessed at.
 *
 * Versions: each line carries `v`. Version 1 is the shape below; records
 * written before the field existed have exactly that shape, so a missing `v`
 * reads as 1. A new shape gets a new number and a decoder of its own here.
 */
import { Either, ParseResult, Schema } from "effect"
import type { JournalRecord } from "./Journal.ts"
import * as Steps from "./steps/index.ts"

export const VERSION = 1

/**
 * Every step's record (the `action` of an Intent): the union of the schemas the
 * steps declare (steps/index.ts), so a step's record is defined once, beside
 * its undo. Their version 1 wire format is each step's fields then `_tag`.
 */
export const ActionV1 = Steps.Action

const tx = Schema.String
const at = Schema.String
const step = Schema.Number

export const RecordV1 = Schema.Union(
  Schema.TaggedStruct("Begin", {
    tx,
    at,
    jobDir: Schema.String,
    products: Schema.Array(Schema.String),
    host: Schema.optionalWith(Schema.String, { exact: true }),
    pid: Schema.optionalWith(Schema.Number, { exact: true })
  }),
  Schema.TaggedStruct("Intent", { tx, step, action: ActionV1 }),
  Schema.TaggedStruct("Done", { tx, step }),
  Schema.TaggedStruct("Commit", { tx, at }),
  Schema.TaggedStruct("Undone", { tx, step }),
  Schema.TaggedStruct("UndoFailed", { tx, step, error: Schema.String }),
  Schema.TaggedStruct("End", { tx, at, outcome: Schema.Literal("committed", "aborted", "abort-incomplete") })
)

// The port's hand-written type and the schema must describe the same records.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const sameShape: Same<typeof RecordV1.Type, JournalRecord> = true
void sameShape

const decodeV1 = Schema.decodeUnknownEither(RecordV1)

/** The record as stored: version 1's fields plus `v`. */
export const encode = (record: JournalRecord): Record<string, unknown> => ({ v: VERSION, ...record })

/** A stored record back, or why it cannot be read (unknown version, wrong shape). */
export const decode = (stored: unknown): Either.Either<JournalRecord, string> => {
  if (typeof stored !== "object" || stored === null || Array.isArray(stored)) return Either.left("not a JSON object")
  const { v, ...record } = stored as Record<string, unknown>
  const version = v ?? 1
  if (version !== VERSION) {
    return Either.left(
      `a record of version ${JSON.stringify(version)}, which this hysds-stac does not read (it reads version ${VERSION}): run recover with the hysds-stac that wrote it`
    )
  }
  return Either.mapLeft(decodeV1(record), (e) => `not a valid version ${VERSION} record: ${ParseResult.TreeFormatter.formatErrorSync(e)}`)
}
