/**
 * Sending checked items to the STAC API, by bulk request or one by one, in
 * `create` or `replace` mode, and recording what a create has written so a
 * failure can be undone (see CreateCleanup). Callers pass items that passed
 * ItemChecks, into a collection that exists.
 *
 * Observed on stac-fastapi-pgstac 7.2.0 / pgstac 0.10.0:
 * - `POST /collections/{id}/items` (one Item): 201 with the item; an existing
 *   id → 409 with an empty description (the item is not named).
 * - `PUT /collections/{c}/items/{id}`: 200; a missing item → 404 (no upsert);
 *   path and body ids differing → 400.
 * - `POST /collections/{c}/bulk_items` `{"items": {id: item}, "method":
 *   "insert"|"upsert"}` (method defaults to insert): 200 (not 201)
 *   `{"received", "success", "skipped", "errors": [{id, msg}]}`. An existing
 *   id on insert → 409 for the whole request and NOTHING of it is written (all
 *   or nothing, and again without naming the item). But an item that fails
 *   validation (null geometry, reserved characters, foreign collection, a key
 *   that differs from the item's id) is reported in `errors` with status 200
 *   while the other items of the request ARE written. A missing collection →
 *   500 (an empty request → 200, even for a missing collection). A bad
 *   `method` → 400.
 *
 * stac-fastapi-opensearch 8.0.0 differs (Flavor.ts has it all): bulk insert
 * of an existing id is a per-item error in a 200 while the rest of the
 * request is written, and a missing collection is a 404 naming it.
 *
 * Choices that follow:
 * - Batches go one after another: pgstac rolls a failed batch back, and
 *   parallel bulk loads into one collection are where loaders deadlock.
 * - A 409 that does not name the item is resolved by looking up which ids of
 *   the batch exist, naming the first in request order. A 409 on a retry after
 *   an attempt that timed out may be our own earlier attempt: if every item
 *   of the batch is stored with the content we sent, it is a success.
 */
import { Array as Arr, Effect, Predicate } from "effect"
import type { Errors } from "@hysds-stac/core"
import { type Api, withNote } from "./RegistryContext.ts"
import { explain } from "./Collections.ts"
import { isOk, mentioned, quote } from "./Documents.ts"
import type { Prepared } from "./ItemChecks.ts"
import { existingStoredAsSent, findItems, storedAsSent } from "./ItemReads.ts"
import * as Transport from "./Transport.ts"

export type Mode = "create" | "replace"

/**
 * What a create has written so far, for its undo: `created` for certain, and
 * `inFlight`, the batch whose request was cut off (interrupted or timed out),
 * which the server may or may not have applied.
 */
export interface Written {
  readonly created: Array<string>
  inFlight: ReadonlyArray<Prepared>
}

/** A per-item bulk error that says the id exists (stac-fastapi-opensearch: "version conflict, document already exists"). */
const EXISTS = /already exists|version conflict/i

/** One item of a write that failed, in request order. */
interface ItemFailure {
  readonly index: number
  readonly error: Errors.CatalogApiError
}

const conflict = (api: Api, collection: string, first: string, others: number, scope: string) =>
  api.fail({
    message: `item ${quote(first)} already exists in collection ${quote(collection)}${others > 0 ? ` (and ${others} more of ${scope})` : ""}`,
    collection,
    item: first,
    status: 409,
    hint: "replace the items instead (--force), or delete them first"
  })

/** Which item of `batch` a 409 was about: the server's message if it says, else a lookup. */
const nameConflict = (api: Api, collection: string, batch: ReadonlyArray<Prepared>, reply: Transport.Reply) =>
  Effect.gen(function* () {
    const ids = batch.map((p) => p.id)
    const named = mentioned(Transport.serverDetail(reply), ids)
    const existing = new Set((yield* findItems(api)(collection, ids)).map((f) => String(f["id"])))
    // The server's word when the lookup confirms it, else the first existing
    // id in request order (pgstac's 409 names nothing).
    const first = named !== undefined && existing.has(named) ? named : ids.find((id) => existing.has(id))
    if (first === undefined) {
      // Gone again by the time we looked (a concurrent delete): say what we know.
      return yield* Effect.fail(api.http.unexpected(reply, { action: `create ${batch.length} item(s) in ${quote(collection)}`, collection }))
    }
    existing.delete(first)
    return yield* conflict(api, collection, first, existing.size, "this batch")
  })

/**
 * One bulk request per batch, in order. `written` collects what this call
 * created, for the undo of a failed create.
 */
export const writeBulk = (api: Api, collection: string, prepared: ReadonlyArray<Prepared>, mode: Mode, written: Written) =>
  Effect.forEach(
    Arr.chunksOf(prepared, api.batchSize),
    (batch, n) =>
      Effect.gen(function* () {
        const purpose = {
          action: `${mode} items ${n * api.batchSize + 1}-${n * api.batchSize + batch.length} of ${prepared.length} in ${quote(collection)}`,
          collection
        }
        const request: Transport.Request = {
          method: "POST",
          url: api.bulkItemsUrl(collection),
          body: { items: Object.fromEntries(batch.map((p) => [p.id, p.json])), method: mode === "create" ? "insert" : "upsert" }
        }
        // Until an answer comes, the batch may or may not be applied; a
        // failed `send` (timeout, connection) leaves it so for the undo.
        written.inFlight = batch
        const reply = yield* api.http.send(request, purpose)
        // A 5xx (after the retries) may come from a gateway after the
        // server applied the batch: it stays uncertain for the undo.
        if (reply.status < 500) written.inFlight = []
        const created = written.created
        if (isOk(reply.status)) {
          const errors = Predicate.isRecord(reply.body) && Array.isArray(reply.body["errors"]) ? reply.body["errors"].filter(Predicate.isRecord) : []
          const refused = new Map(errors.map((e) => [String(e["id"]), String(e["msg"] ?? e["message"] ?? "refused")]))
          if (mode === "create") created.push(...batch.filter((p) => !refused.has(p.id)).map((p) => p.id))
          const first = batch.find((p) => refused.has(p.id)) ?? (refused.size > 0 ? { id: [...refused.keys()][0] ?? "" } : undefined)
          // stac-fastapi-opensearch answers an existing id on insert here,
          // item by item, not with a 409 for the request (see Flavor.ts).
          const conflicts = [...refused].filter(([, msg]) => EXISTS.test(msg)).length
          if (first !== undefined && mode === "create" && EXISTS.test(refused.get(first.id) ?? "")) {
            const existing = batch.filter((p) => EXISTS.test(refused.get(p.id) ?? ""))
            // Our own earlier attempt (its answer lost) meets itself item by item.
            if (reply.earlierAttemptMayHaveApplied && existing.length === refused.size) {
              const mine = yield* existingStoredAsSent(api, collection, existing)
              if (mine.length === existing.length) {
                created.push(...existing.map((p) => p.id))
                return
              }
            }
            return yield* conflict(api, collection, first.id, conflicts - 1, "this batch")
          }
          if (first !== undefined) {
            return yield* api.fail({
              message: `item ${quote(first.id)} was refused by the STAC API: ${refused.get(first.id) ?? "no reason given"}${refused.size > 1 ? ` (and ${refused.size - 1} more of this batch)` : ""}`,
              collection,
              item: first.id,
              status: 400,
              hint: "fix the item in the catalog"
            })
          }
          return
        }
        if (reply.status === 409 && mode === "create") {
          if (reply.earlierAttemptMayHaveApplied) {
            // A 409 for the request (pgstac: all or nothing, transactional): no wait.
            const mine = yield* storedAsSent(api, collection, batch)
            if (mine.length === batch.length) {
              created.push(...batch.map((p) => p.id))
              return
            }
          }
          return yield* nameConflict(api, collection, batch, reply)
        }
        return yield* explain(api, collection, reply, purpose)
      }),
    { discard: true }
  )

/**
 * One request per item, `concurrency` at a time. Requests already sent are
 * always awaited (never interrupted), so `created` is exact; after a
 * failure no new ones start. Fails with the first failure in request order.
 */
export const writeEach = (api: Api, collection: string, prepared: ReadonlyArray<Prepared>, mode: Mode, written: Written) =>
  Effect.gen(function* () {
    const { http } = api
    const created = written.created
    const failures: Array<ItemFailure> = []
    const one = (p: Prepared, index: number) =>
      Effect.gen(function* () {
        if (failures.length > 0) return
        const purpose = { action: `${mode} item ${quote(p.id)} in ${quote(collection)}`, collection, item: p.id }
        const post = () => http.send({ method: "POST", url: api.itemsUrl(collection), body: p.json }, purpose)
        if (mode === "replace") {
          const put = yield* http.send({ method: "PUT", url: api.itemUrl(collection, p.id), body: p.json }, purpose)
          if (isOk(put.status)) return
          if (put.status !== 404) return yield* explain(api, collection, put, purpose)
          // pgstac's PUT does not create: a missing item is POSTed.
          const posted = yield* post()
          if (isOk(posted.status)) return
          if (posted.status === 409) {
            // Created meanwhile by someone else: replace it after all.
            const again = yield* http.send({ method: "PUT", url: api.itemUrl(collection, p.id), body: p.json }, purpose)
            if (isOk(again.status)) return
            return yield* explain(api, collection, again, purpose)
          }
          return yield* explain(api, collection, posted, purpose)
        }
        const reply = yield* post()
        if (isOk(reply.status)) {
          created.push(p.id)
          return
        }
        if (reply.status === 409) {
          if (reply.earlierAttemptMayHaveApplied && (yield* existingStoredAsSent(api, collection, [p])).length === 1) {
            created.push(p.id)
            return
          }
          return yield* conflict(api, collection, p.id, 0, "this request")
        }
        return yield* explain(api, collection, reply, purpose)
      }).pipe(
        Effect.catchAll((error) => Effect.sync(() => void failures.push({ index, error }))),
        Effect.uninterruptible
      )
    yield* Effect.forEach(prepared, one, { concurrency: api.concurrency, discard: true })
    const first = failures.sort((a, b) => a.index - b.index)[0]
    if (first !== undefined) {
      const conflicts = failures.filter((f) => f.error.status === 409).length
      return yield* Effect.fail(
        first.error.status === 409 && conflicts > 1 ? withNote(first.error, ` (and ${conflicts - 1} more of this request)`) : first.error
      )
    }
  })
