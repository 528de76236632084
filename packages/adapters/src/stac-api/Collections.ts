/**
 * Collections on the STAC API: read, create or replace, delete, list, and the
 * "does it exist" question item writes ask first.
 *
 * Observed on stac-fastapi-pgstac 7.2.0 / pgstac 0.10.0 (curl against the
 * test service); the code below is written to these answers:
 * - `POST /collections`: 201 with the stored collection; an existing id → 409
 *   `{"code":"ConflictError","description":""}` (the id is not named).
 * - `PUT /collections/{id}`: 200; a missing id → 404 (also when the body's id
 *   differs from the path's: the body's id is the one looked up).
 * - `DELETE /collections/{id}`: 200 `{"deleted collection": id}`, also deletes
 *   its items; a missing one → 404.
 * - `GET /collections` pages with `offset`.
 * - Items into a MISSING collection → 500 "Internal Server Error", not the 424
 *   the Transactions table promises: so before writing items the collection
 *   is looked up, and a missing one is a 424 naming it instead of a 500
 *   retried as a server failure.
 * - Collections are read by id, which is realtime on every backend. Listing
 *   right after a create or delete lags on stac-fastapi-opensearch (its
 *   collections index refreshes about once a second; seen in the contract
 *   suite on the loaded test machine): there, a create or delete waits until
 *   `GET /collections?filter=id='...'` (CQL2 text, served by its collection
 *   search) agrees, for up to `visibilityTimeoutMs`.
 */
import { Array as Arr, Clock, Duration, Effect, Either, Option, Predicate } from "effect"
import type { StacRegistry } from "@hysds-stac/core"
import { type Api, keptCanonical } from "./RegistryContext.ts"
import { byId, canonicalHref, dedupe, idProblem, serverName, isOk, type Json, quote, sameCollection, withoutServerLinks } from "./Documents.ts"
import { FIELDS } from "./ItemReads.ts"
import type * as Transport from "./Transport.ts"

type Shape = StacRegistry.StacRegistryShape

export const getCollection =
  (api: Api): Shape["getCollection"] =>
  (id) =>
    Effect.gen(function* () {
      const purpose = { action: `read collection ${quote(id)}`, collection: id }
      const reply = yield* api.http.send({ method: "GET", url: api.collectionUrl(id) }, purpose)
      if (reply.status === 404) return Option.none()
      if (!isOk(reply.status) || !Predicate.isRecord(reply.body)) return yield* Effect.fail(api.http.unexpected(reply, purpose))
      return Option.some(withoutServerLinks(reply.body))
    })

export const putCollection =
  (api: Api): Shape["putCollection"] =>
  (collection, mode) =>
    Effect.gen(function* () {
      const id = collection["id"]
      const problem = idProblem(id, api.rules, serverName(api.flavor))
      if (problem !== undefined || typeof id !== "string") {
        return yield* api.fail({
          message: `collection ${problem ?? "has no id"}`,
          ...(typeof id === "string" ? { collection: id } : {}),
          status: 400,
          hint: "rename the collection in the catalog"
        })
      }
      const purpose = { action: `${mode} collection ${quote(id)}`, collection: id }
      const reply =
        mode === "create"
          ? yield* api.http.send({ method: "POST", url: api.http.url("collections"), body: collection }, purpose)
          : yield* api.http.send({ method: "PUT", url: api.collectionUrl(id), body: collection }, purpose)
      let stored: Json | undefined = isOk(reply.status) && Predicate.isRecord(reply.body) ? reply.body : undefined
      if (mode === "create" && reply.status === 409) {
        const existing = yield* getCollection(api)(id)
        // Our own earlier attempt (timed out, then applied) is not a conflict.
        if (reply.earlierAttemptMayHaveApplied && Option.isSome(existing) && sameCollection(collection, existing.value)) {
          stored = existing.value
        } else {
          return yield* api.fail({
            message: `collection ${quote(id)} already exists`,
            collection: id,
            status: 409,
            hint: "replace it instead (--force), or delete it first"
          })
        }
      } else if (mode === "replace" && reply.status === 404) {
        return yield* api.fail({
          message: `collection ${quote(id)} does not exist, so it cannot be replaced`,
          collection: id,
          status: 404,
          hint: "create it instead"
        })
      } else if (!isOk(reply.status)) {
        return yield* Effect.fail(api.http.unexpected(reply, purpose))
      }
      if (mode === "create") yield* awaitListed(api, id, true)
      if (canonicalHref(collection) !== undefined) {
        if (stored === undefined || !Array.isArray(stored["links"])) {
          stored = Option.getOrUndefined(yield* getCollection(api)(id))
        }
        if (stored === undefined) {
          return yield* api.fail({
            message: `the STAC API accepted collection ${quote(id)} but does not return it`,
            collection: id,
            hint: "the server may be eventually consistent for collections; retry the ingest"
          })
        }
        yield* keptCanonical(api, "collection", id, collection, stored)
      }
    })

export const deleteCollection =
  (api: Api): Shape["deleteCollection"] =>
  (id) =>
    Effect.gen(function* () {
      const purpose = { action: `delete collection ${quote(id)}`, collection: id }
      const reply = yield* api.http.send({ method: "DELETE", url: api.collectionUrl(id) }, purpose)
      if (!isOk(reply.status) && reply.status !== 404) return yield* Effect.fail(api.http.unexpected(reply, purpose))
      if (isOk(reply.status)) yield* awaitListed(api, id, false)
    })

/**
 * Asks for one item of the collection first: the STAC API has no conditional
 * delete, so an item another writer adds between the two requests goes with
 * the collection (a window of one request, where deleting blindly had none).
 */
export const deleteCollectionIfEmpty =
  (api: Api): Shape["deleteCollectionIfEmpty"] =>
  (id) =>
    Effect.gen(function* () {
      const purpose = { action: `look for items in collection ${quote(id)}`, collection: id }
      const reply = yield* api.http.send({ method: "GET", url: api.itemsUrl(id, { limit: "1" }) }, purpose)
      if (reply.status === 404) return true
      const features = isOk(reply.status) && Predicate.isRecord(reply.body) ? reply.body["features"] : undefined
      if (!Array.isArray(features)) return yield* Effect.fail(api.http.unexpected(reply, purpose))
      if (features.length > 0) return false
      yield* deleteCollection(api)(id)
      return true
    })

/**
 * Ids per `in` list of the filter below: Elasticsearch and OpenSearch refuse a
 * terms query of more than 65,536 values (`index.max_terms_count`), and the
 * opensearch backend makes one of each list.
 */
const FILTER_CHUNK = 10_000

/**
 * One search (CQL2: the collection's items whose id is none of `ids`, one at
 * most) says whether anything but `ids` is in the collection: 0.14 s for
 * 10,000 ids on pgstac, 1.7 s for 100,000, against a DELETE per item (about
 * 1 ms each, 8 in flight). A server without the Filter extension answers
 * 4xx, and one that ignores the filter or the collection returns an item of
 * ours or of another collection: then it cannot tell, and nothing is deleted.
 */
export const deleteCollectionIfOnly =
  (api: Api): Shape["deleteCollectionIfOnly"] =>
  (id, ids) =>
    Effect.gen(function* () {
      const ours = new Set(ids)
      if (ours.size === 0) return yield* deleteCollectionIfEmpty(api)(id)
      const purpose = { action: `look for other items than this run's in collection ${quote(id)}`, collection: id }
      const parts = Arr.chunksOf([...ours], FILTER_CHUNK).map((chunk) => ({ op: "not", args: [{ op: "in", args: [{ property: "id" }, chunk] }] }))
      const filter = parts.length === 1 ? parts[0]! : { op: "and", args: parts }
      const body = { collections: [id], limit: 1, "filter-lang": "cql2-json", filter, fields: FIELDS.ids }
      const reply = yield* api.http.send({ method: "POST", url: api.http.url("search"), body }, purpose)
      if (reply.status >= 400 && reply.status < 500) return false
      const features = isOk(reply.status) && Predicate.isRecord(reply.body) ? reply.body["features"] : undefined
      if (!Array.isArray(features)) return yield* Effect.fail(api.http.unexpected(reply, purpose))
      if (features.length > 0) return false // another's, or a server that ignored the filter: either way not ours alone
      yield* deleteCollection(api)(id)
      return true
    })

/**
 * On stac-fastapi-opensearch, waits until the collection listing shows `id`
 * (or no longer does), asking its collection search for that one id; a
 * no-op on pgstac, which is transactional. Running out of time is not an
 * error: the write itself succeeded and reads by id already see it.
 */
const awaitListed = (api: Api, id: string, present: boolean) =>
  Effect.gen(function* () {
    if (api.flavor !== "sfeos") return
    const cql = `id='${id.replaceAll("'", "''")}'`
    const purpose = { action: `wait until collection ${quote(id)} is ${present ? "listed" : "no longer listed"}`, collection: id }
    const start = yield* Clock.currentTimeMillis
    let wait = 50
    while (true) {
      const reply = yield* api.http.send({ method: "GET", url: api.http.url("collections", { filter: cql, "filter-lang": "cql2-text" }) }, purpose)
      const listed = Predicate.isRecord(reply.body) && Array.isArray(reply.body["collections"]) ? reply.body["collections"] : undefined
      // A server that cannot filter (any other answer) is not waited for.
      if (!isOk(reply.status) || listed === undefined) return
      if (listed.some((c) => Predicate.isRecord(c) && c["id"] === id) === present) return
      const elapsed = (yield* Clock.currentTimeMillis) - start
      if (elapsed >= api.visibilityTimeoutMs) {
        return yield* Effect.logWarning(`STAC API: collection ${quote(id)} is ${present ? "not yet listed" : "still listed"} after ${api.visibilityTimeoutMs} ms`)
      }
      yield* Effect.sleep(Duration.millis(Math.min(wait, api.visibilityTimeoutMs - elapsed)))
      wait = Math.min(wait * 2, 1000)
    }
  })

export const listCollections =
  (api: Api): Shape["listCollections"] =>
  () =>
    Effect.map(
      api.http.pages({ method: "GET", url: api.http.url("collections", { limit: String(api.pageSize) }) }, "collections", {
        action: "list collections"
      }),
      (all) => dedupe(all).sort(byId)
    )

export const missingCollection = (api: Api, collection: string) =>
  api.fail({
    message: `collection ${quote(collection)} does not exist, so its items cannot be written`,
    collection,
    status: 424,
    hint: "create the collection before its items"
  })

/** 424 when the collection is missing; pgstac would answer 500 instead. */
export const requireCollection = (api: Api, collection: string) =>
  Effect.flatMap(getCollection(api)(collection), (c) => (Option.isNone(c) ? missingCollection(api, collection) : Effect.void))

/** After a 404/424/5xx on an item write: a vanished collection explains it. */
export const explain = (api: Api, collection: string, reply: Transport.Reply, purpose: Transport.Purpose) =>
  reply.status === 424
    ? missingCollection(api, collection)
    : reply.status === 404 || reply.status >= 500
      ? Effect.flatMap(Effect.either(getCollection(api)(collection)), (c) =>
          Either.isRight(c) && Option.isNone(c.right) ? missingCollection(api, collection) : Effect.fail(api.http.unexpected(reply, purpose))
        )
      : Effect.fail(api.http.unexpected(reply, purpose))
