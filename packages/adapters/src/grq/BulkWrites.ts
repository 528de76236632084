/**
 * Writing and deleting documents with bulk requests.
 *
 * - `bulkIndex` writes every record it can, like one ES bulk request, and
 *   fails naming the first rejected document, its index, the server's reason
 *   and how many were rejected; it is split into requests by count and size,
 *   all sent in order so a later record for the same id still wins.
 * - `remove` treats "not found" (document or index) as done, so undo repeats.
 * - Bulk items the cluster refused with 429 (its write queue was full) are
 *   retried, alone, with the shared backoff; any other rejection fails at
 *   once: repeating a rejected document cannot make it acceptable.
 */
import { Duration, Effect } from "effect"
import { Errors, type GrqIndex, Retry } from "@hysds-stac/core"
import type * as Config from "./Config.ts"
import type * as Engine from "./Engine.ts"
import type { Calls } from "./GrqCalls.ts"

/** One document the server did not take. */
interface Rejection {
  readonly index: string
  readonly id: string
  readonly status: number
  readonly type: string
  readonly reason: string
}

/** A bulk operation, serialised once: its NDJSON lines and their size in bytes. */
interface Op {
  readonly ref: GrqIndex.DocRef
  readonly lines: string
  readonly bytes: number
}

const utf8 = new TextEncoder()

const opOf = (ref: GrqIndex.DocRef, action: "index" | "delete", source?: unknown): Op => {
  const head = JSON.stringify({ [action]: { _index: ref.index, _id: ref.id } })
  const lines = source === undefined ? `${head}\n` : `${head}\n${JSON.stringify(source)}\n`
  return { ref, lines, bytes: utf8.encode(lines).length }
}
/**
 * Splits operations into bulk requests of at most `maxDocs` operations and
 * `maxBytes` bytes, in order; an operation larger than `maxBytes` goes alone
 * (the server's `http.max_content_length`, 100 MB by default, is the real limit).
 */
export const chunk = <T extends { readonly bytes: number }>(
  ops: ReadonlyArray<T>,
  maxDocs: number,
  maxBytes: number
): Array<Array<T>> => {
  const chunks: Array<Array<T>> = []
  let current: Array<T> = []
  let size = 0
  for (const op of ops) {
    if (current.length > 0 && (current.length >= maxDocs || size + op.bytes > maxBytes)) {
      chunks.push(current)
      current = []
      size = 0
    }
    current.push(op)
    size += op.bytes
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

const hintForRejection = (r: Rejection): string => {
  if (r.type === "mapper_parsing_exception" || r.type === "document_parsing_exception") {
    return (
      "a field has another type (object or value; number, boolean, date or text) than in the documents " +
      `already in ${r.index}: make the product's metadata types consistent, or index it under a new version`
    )
  }
  if (r.reason.startsWith("Limit of total fields")) {
    return "the products' metadata has too many distinct keys; keep free-form data under metadata.context"
  }
  if (r.type === "invalid_index_name_exception") return "fix the index name (lower case, no spaces or \\/*?\"<>|,#:)"
  if (r.type === "cluster_block_exception") {
    return "the index or cluster is read-only (often: a disk passed the flood-stage watermark); free space, then clear the block"
  }
  if (r.status === 429) return "the cluster kept refusing writes (queue full); retry later, or lower bulkMaxDocs"
  if (r.reason.includes("too long") && r.reason.includes("512 bytes")) return "product ids must be at most 512 bytes"
  return "see the reason above; the other documents of the request may have been written"
}

const rejectionOf = (g: Calls, op: Op, item: Engine.BulkItem): Rejection => ({
  index: item._index ?? op.ref.index,
  id: item._id ?? op.ref.id,
  status: item.status,
  type: item.error?.type ?? `HTTP ${item.status}`,
  reason: g.redact(item.error?.reason ?? "(no reason given)")
})

/**
 * Sends one chunk; retries the items refused with 429 (alone) and answers
 * with the items that failed for good. `accept` says which other non-2xx
 * items are fine (a delete of something already gone).
 */
const sendChunk = (
  g: Calls,
  ops: ReadonlyArray<Op>,
  what: string,
  accept: (item: Engine.BulkItem) => boolean,
  refresh: Config.Refresh
): Effect.Effect<Array<Rejection>, Errors.IndexError> =>
  Effect.gen(function* () {
    const rejected: Array<Rejection> = []
    let pending = ops
    for (let attempt = 0; pending.length > 0; attempt++) {
      const body = pending.map((op) => op.lines).join("")
      const items = yield* g.call(`${what} (${pending.length} operation(s))`, g.engine.bulk(body, refresh))
      if (items.length !== pending.length) {
        return yield* new Errors.IndexError({
          message: `GRQ (${g.where}): the bulk response has ${items.length} item(s) for ${pending.length} operation(s)`
        })
      }
      const throttled: Array<Op> = []
      items.forEach((item, i) => {
        const op = pending[i] as Op
        if ((item.status >= 200 && item.status < 300) || accept(item)) return
        if (item.status === 429 && attempt < g.connection.maxRetries) throttled.push(op)
        else rejected.push(rejectionOf(g, op, item))
      })
      if (throttled.length > 0) {
        yield* Effect.logDebug(`GRQ: ${throttled.length} bulk item(s) throttled (429); retrying them`)
        yield* Effect.sleep(Duration.millis(Retry.delayMillis(g.policy, attempt + 1)))
      }
      pending = throttled
    }
    return rejected
  })

const sendAll = (
  g: Calls,
  ops: ReadonlyArray<Op>,
  what: string,
  accept: (item: Engine.BulkItem) => boolean,
  refresh: Config.Refresh = g.connection.refresh
) =>
  Effect.gen(function* () {
    const rejected: Array<Rejection> = []
    // In order, one at a time: a record repeated in a later chunk must land last.
    for (const part of chunk(ops, g.connection.bulkMaxDocs, g.connection.bulkMaxBytes)) {
      rejected.push(...(yield* sendChunk(g, part, what, accept, refresh)))
    }
    return rejected
  })

export const bulkIndex =
  (g: Calls): GrqIndex.GrqIndexShape["bulkIndex"] =>
  (records, options) =>
  Effect.gen(function* () {
    if (records.length === 0) return
    const ops: Array<Op> = []
    const unserialisable: Array<Rejection> = []
    for (const r of records) {
      try {
        ops.push(opOf(r, "index", r.doc))
      } catch (cause) {
        unserialisable.push({
          index: r.index,
          id: r.id,
          status: 0,
          type: "serialization_error",
          reason: `the document is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`
        })
      }
    }
    const rejected = [...unserialisable, ...(yield* sendAll(g, ops, `index ${records.length} document(s)`, () => false, options?.deferRefresh ? "false" : g.connection.refresh))]
    const first = rejected[0]
    if (first) {
      return yield* new Errors.IndexError({
        message: g.redact(
          `GRQ (${g.where}) rejected ${rejected.length} of ${records.length} document(s); the first is "${first.id}" ` +
            `in ${first.index}: ${first.type}: ${first.reason}`
        ),
        id: first.id,
        hint: hintForRejection(first),
        cause: rejected.slice(0, 10)
      })
    }
  })

/** A delete of a document, or in an index, that is not there: already done. */
const gone = (item: Engine.BulkItem): boolean =>
  item.status === 404 && (item.result === "not_found" || item.error?.type === "index_not_found_exception")

export const remove =
  (g: Calls): GrqIndex.GrqIndexShape["remove"] =>
  (refs) =>
  Effect.gen(function* () {
    if (refs.length === 0) return
    const ops = refs.map((ref) => opOf(ref, "delete"))
    // Made visible by one `_refresh` after the last request rather than a
    // `wait_for` on each (about a second apiece, most of an undo's GRQ time);
    // either way the deletes are visible when this returns.
    const rejected = yield* sendAll(g, ops, `delete ${refs.length} document(s)`, gone, "false")
    yield* refresh(g)(refs.map((r) => r.index))
    const first = rejected[0]
    if (first) {
      return yield* new Errors.IndexError({
        message: g.redact(
          `GRQ (${g.where}) could not delete ${rejected.length} of ${refs.length} document(s); the first is "${first.id}" ` +
            `in ${first.index}: ${first.type}: ${first.reason}`
        ),
        id: first.id,
        hint: hintForRejection(first),
        cause: rejected.slice(0, 10)
      })
    }
  })


/**
 * One `_refresh` of the indexes written with `deferRefresh`: what `wait_for` on
 * every bulk request paid per request (about a second each), paid once. An
 * index configured with `refresh: false` is left to its refresh interval.
 */
export const refresh =
  (g: Calls): GrqIndex.GrqIndexShape["refresh"] =>
  (indexes) =>
    Effect.gen(function* () {
      const unique = [...new Set(indexes)]
      if (unique.length === 0 || g.connection.refresh === "false") return
      yield* g.call(`refresh ${unique.length} index(es)`, g.engine.refresh(unique))
    })
