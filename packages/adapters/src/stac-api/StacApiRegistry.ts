/**
 * StacRegistry on a STAC API with the Transactions extension (STAC-FastAPI in
 * production), over `@effect/platform`'s HttpClient.
 *
 * What stac-fastapi-pgstac 7.2.0 on pgstac 0.10.0 actually answers (observed
 * with curl against the test service; the code below is written to these):
 * - `POST /collections`: 201 with the stored collection; an existing id → 409
 *   `{"code":"ConflictError","description":""}` (the id is not named).
 * - `PUT /collections/{id}`: 200; a missing id → 404 (also when the body's id
 *   differs from the path's: the body's id is the one looked up).
 * - `DELETE /collections/{id}`: 200 `{"deleted collection": id}`, also deletes
 *   its items; a missing one → 404.
 * - `POST /collections/{id}/items` (one Item): 201 with the item; an existing
 *   id → 409 with an empty description (the item is not named); into a
 *   MISSING collection → 500 "Internal Server Error", not the 424 the
 *   Transactions table promises; an item whose `collection` differs → 400;
 *   a null geometry → 400 "Geometry is required in pgstac"; a Feature with a
 *   geometry but no `bbox` → 400 (pydantic, listed once as Item and once as
 *   ItemCollection since the endpoint takes either).
 * - `PUT /collections/{c}/items/{id}`: 200; a missing item → 404 (no upsert);
 *   path and body ids differing → 400.
 * - `DELETE /collections/{c}/items/{id}`: 200 `{"deleted item": id}`; missing
 *   item or collection → 404.
 * - `POST /collections/{c}/bulk_items` `{"items": {id: item}, "method":
 *   "insert"|"upsert"}` (method defaults to insert): 200 (not 201)
 *   `{"received", "success", "skipped", "errors": [{id, msg}]}`. An existing
 *   id on insert → 409 for the whole request and NOTHING of it is written (all
 *   or nothing, and again without naming the item). But an item that fails
 *   validation (null geometry, reserved characters, foreign collection, a key
 *   that differs from the item's id) is reported in `errors` with status 200
 *   while the other items of the request ARE written. A missing collection →
 *   500 (an empty request → 200, even for a missing collection). A bad
 *   `method` → 400. Not advertised in /conformance.
 * - `POST /search` with `ids` + `collections`: only the named items of that
 *   collection, paginated by `limit` with a `next` link of method POST whose
 *   `body` carries the whole next request (token included); default order is
 *   datetime then id, descending. `GET /collections/{c}/items` pages the same
 *   way with a GET `next` (`token=next:...`); `GET /collections` pages with
 *   `offset`. Limits up to at least 100000 were accepted.
 * - Ids: `: / ? # [ ] @ ! $ & ' ( ) * + , ; =` → 400 for collections and items;
 *   spaces, `%`, dots and non-ASCII are fine (percent-encode them in paths).
 * - Links: `self`, `root`, `parent`, `collection`, `items` are regenerated from
 *   the request's host; others (our `canonical`) are kept. Unknown top-level
 *   fields survive on collections but are DROPPED on items (only the STAC
 *   fields and `properties` content are kept); item `collection` is set.
 * - /conformance advertises `.../ogcapi-features/extensions/transaction` and
 *   `.../collections/extensions/transaction` (ENABLE_TRANSACTIONS_EXTENSIONS).
 *   `X-Api-Key` is accepted and ignored by this deployment (no auth proxy).
 *
 * Choices that follow from those facts:
 * - Items are validated here against pgstac's rules before anything is sent
 *   (ids, geometry, collection, duplicates): bulk_items would write the valid
 *   part of a batch and report the rest with 200, which breaks all-or-nothing.
 * - Before writing items the collection is looked up, so a missing one is a
 *   424 naming it instead of a 500 retried as a server failure.
 * - `create` is all-or-nothing per call: batches go one after another (pgstac
 *   rolls a failed batch back; parallel bulk loads into one collection are
 *   where loaders deadlock), and when a later batch fails, or the call is
 *   interrupted, the items the earlier batches created are deleted again.
 *   They did not exist before (the insert would have failed), so deleting them
 *   puts back exactly what was there. `replace` cannot be undone that way (the
 *   old versions are gone) and needs none: it is idempotent, so a re-run
 *   converges.
 * - A 409 that does not name the item is resolved by looking up which ids of
 *   the batch exist, naming the first in request order. A 409 on a retry after
 *   an attempt that timed out may be our own earlier attempt: if every item
 *   of the batch is stored with the content we sent, it is a success.
 * - findItems uses `POST /search` with `ids` and `collections`, 100 ids per
 *   request, following `next`: one request per 100 ids instead of one GET per
 *   id, no URL length limit, and on pgstac it reads the same tables the writes
 *   went to. Results are sorted by id, as the embedded registry returns them.
 * - Read-your-writes: after item writes and deletes the ids are searched once
 *   (which also catches a server that acknowledges and drops items, a known
 *   complaint), and only if the search does not yet agree is it repeated with
 *   backoff for up to `visibilityTimeoutMs`. pgstac is transactional and
 *   agrees at once; the opensearch backend without DATABASE_REFRESH=true needs
 *   the wait. Collections are read by id, which is realtime on every backend,
 *   so they get no wait; listing right after a create may lag on opensearch.
 * - The readback also checks that each item's `canonical` link survived: it
 *   is the only link back to the published static JSON.
 */
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { Clock, Duration, Effect, Either, Layer, Option } from "effect"
import { randomUUID } from "node:crypto"
import { Errors, Retry as CoreRetry, StacRegistry } from "@hysds-stac/core"
import * as Auth from "./Auth.ts"
import * as Transport from "./Transport.ts"

export interface StacApiConfig {
  /** Base URL; may contain `user:pass@` (sent as Basic auth, never printed). */
  readonly url: string
  /** Sent as `X-Api-Key` (HySDS's STAC_API_KEY). */
  readonly apiKey?: string
  /** Re-read when its mtime changes, so keys rotate without a restart; wins over `apiKey`. */
  readonly apiKeyFile?: string
  /** Sent as `Authorization: Bearer`. */
  readonly bearerToken?: string
  /** Same file rule as `apiKeyFile`; wins over `bearerToken`. */
  readonly bearerTokenFile?: string
  /** Bound on every request, body included (STAC_API_TIMEOUT). */
  readonly timeoutMs: number
  /** Items per bulk request (STAC_BATCH_SIZE). */
  readonly batchSize: number
  /** `auto`: probe `POST /collections/{id}/bulk_items` once; `off`: one request per item. */
  readonly bulkItems: "auto" | "on" | "off"
  /** Retries of 429, 5xx, connection failures and timeouts (never other 4xx); default 3. */
  readonly maxRetries?: number
  /** First backoff before jitter; default 250 ms. */
  readonly retryBaseDelayMs?: number
  /** Page size when listing; default 500. */
  readonly pageSize?: number
  /** Parallel single-item requests (deletes, writes without bulk_items); default 8. */
  readonly concurrency?: number
  /** How long a write may take to become visible to search; default 5000 ms. */
  readonly visibilityTimeoutMs?: number
}

type Json = StacRegistry.StacJson
type Shape = StacRegistry.StacRegistryShape

/** The characters pgstac refuses in collection and item ids (the rules this adapter exposes to planning). */
export const RESERVED_ID_CHARS = StacRegistry.PGSTAC_RULES.forbiddenIdChars

/** Ids per search request in findItems. */
const SEARCH_CHUNK = 100

const isOk = (status: number) => status >= 200 && status <= 299

const chunks = <A>(all: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size))
  return out
}

const byId = (a: Json, b: Json) => {
  const x = String(a["id"])
  const y = String(b["id"])
  return x < y ? -1 : x > y ? 1 : 0
}

const quote = (id: string) => JSON.stringify(id)

/** First of each id: pages can overlap when the collection changes while we page through it. */
const dedupe = (all: ReadonlyArray<Json>): Array<Json> => {
  const seen = new Map<string, Json>()
  for (const j of all) if (!seen.has(String(j["id"]))) seen.set(String(j["id"]), j)
  return [...seen.values()]
}

const idProblem = (id: unknown): string | undefined => {
  if (typeof id !== "string" || id === "") return "has no id (a non-empty string is required)"
  for (const c of id) {
    if (RESERVED_ID_CHARS.includes(c)) {
      return `id ${quote(id)} contains '${c}', which pgstac does not allow (${RESERVED_ID_CHARS.split("").join(" ")})`
    }
  }
  return undefined
}

/**
 * Links the server makes itself on every response. A document read back is
 * stripped of them, so that putting it back (the undo of a --force replace)
 * does not store them: the server would add its own again, doubling them
 * (seen with pgstac's queryables link).
 */
export const SERVER_LINK_RELS: ReadonlySet<string> = new Set([
  "self",
  "root",
  "parent",
  "collection",
  "items",
  "queryables",
  "http://www.opengis.net/def/rel/ogc/1.0/queryables"
])

export const withoutServerLinks = (json: Json): Json =>
  Array.isArray(json["links"])
    ? { ...json, links: json["links"].filter((l) => !(Transport.isObject(l) && SERVER_LINK_RELS.has(String(l["rel"])))) }
    : json

/** The href of the `canonical` link, if any. */
export const canonicalHref = (json: Json | undefined): string | undefined => {
  const links = json?.["links"]
  if (!Array.isArray(links)) return undefined
  const link = links.find((l): l is Json => Transport.isObject(l) && l["rel"] === "canonical")
  return typeof link?.["href"] === "string" ? link["href"] : undefined
}

/** Key-sorted JSON, so stored and sent content compare equal whatever the key order. */
const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    Transport.isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v
  )

/**
 * Whether a stored item is the one we sent. Only `properties` and `geometry`
 * are compared: pgstac drops unknown top-level fields and regenerates links.
 */
const sameItem = (sent: Json, stored: Json) =>
  canonicalJson(sent["properties"]) === canonicalJson(stored["properties"]) &&
  canonicalJson(sent["geometry"]) === canonicalJson(stored["geometry"])

/** The collection as stored, minus what servers generate. */
const sameCollection = (sent: Json, stored: Json) => {
  const strip = ({ links: _l, ...rest }: Json) => rest
  const s = strip(sent)
  return Object.keys(s).every((k) => canonicalJson(s[k]) === canonicalJson(stored[k]))
}

/** Mentions of batch ids in a server message, as whole tokens (`(x)`, `"x"`, `=x,`). */
const mentioned = (detail: string, ids: ReadonlyArray<string>): string | undefined =>
  ids.find((id) => {
    const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    return new RegExp(`(^|[\\s"'(=,])${escaped}($|[\\s"'),.])`).test(detail)
  })

interface Prepared {
  readonly id: string
  readonly json: Json
}

/**
 * What a create has written so far, for its undo: `created` for certain, and
 * `inFlight`, the batch whose request was cut off (interrupted or timed out),
 * which the server may or may not have applied.
 */
interface Written {
  readonly created: Array<string>
  inFlight: ReadonlyArray<Prepared>
}

/** One item of a write that failed, in request order. */
interface ItemFailure {
  readonly index: number
  readonly error: Errors.CatalogApiError
}

const withNote = (error: Errors.CatalogApiError, note: string) =>
  new Errors.CatalogApiError({
    message: `${error.message}${note}`,
    ...(error.collection !== undefined ? { collection: error.collection } : {}),
    ...(error.item !== undefined ? { item: error.item } : {}),
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.hint !== undefined ? { hint: error.hint } : {})
  })

const withHint = (error: Errors.CatalogApiError, hint: string) =>
  new Errors.CatalogApiError({
    message: error.message,
    ...(error.collection !== undefined ? { collection: error.collection } : {}),
    ...(error.item !== undefined ? { item: error.item } : {}),
    ...(error.status !== undefined ? { status: error.status } : {}),
    hint
  })

/** Every method fails with `error`: for a configuration that cannot work (bad URL). */
const failing = (error: Errors.CatalogApiError): Shape => {
  const fail = () => Effect.fail(error)
  return {
    rules: StacRegistry.PGSTAC_RULES,
    check: fail,
    getCollection: fail,
    putCollection: fail,
    deleteCollection: fail,
    findItems: fail,
    putItems: fail,
    deleteItems: fail,
    listCollections: fail,
    listItems: fail
  }
}

const TRANSACTION_ITEMS = /\/ogcapi-features\/extensions\/transaction\/?$/
const TRANSACTION_COLLECTIONS = /\/collections\/extensions\/transaction\/?$/
const BULK_CONFORMANCE = /bulk[-_]?(items|transactions?)/i

export const make = (config: StacApiConfig): Effect.Effect<Shape, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const parsed = yield* Effect.either(Auth.parseBaseUrl(config.url))
    if (Either.isLeft(parsed)) return failing(parsed.left)
    const base = parsed.right
    const auth = Auth.make(base, config)
    const http = yield* Transport.make(base, auth, {
      timeoutMs: config.timeoutMs,
      retry: {
        retries: Math.max(0, config.maxRetries ?? CoreRetry.requestDefaults.retries),
        baseMillis: config.retryBaseDelayMs ?? CoreRetry.requestDefaults.baseMillis,
        maxMillis: CoreRetry.requestDefaults.maxMillis
      }
    })
    const pageSize = Math.max(1, config.pageSize ?? 500)
    const batchSize = Math.max(1, config.batchSize)
    const concurrency = Math.max(1, config.concurrency ?? 8)
    const visibilityTimeoutMs = Math.max(0, config.visibilityTimeoutMs ?? 5000)
    /** Whether bulk_items works; learned once in `auto` mode. */
    let bulkAvailable: boolean | undefined =
      config.bulkItems === "on" ? true : config.bulkItems === "off" ? false : undefined

    const enc = encodeURIComponent
    const collectionUrl = (id: string) => http.url(`collections/${enc(id)}`)
    const itemUrl = (collection: string, id: string) => http.url(`collections/${enc(collection)}/items/${enc(id)}`)

    const fail = (fields: ConstructorParameters<typeof Errors.CatalogApiError>[0]) =>
      Effect.fail(new Errors.CatalogApiError({ ...fields, message: auth.redact(fields.message) }))

    // ---- collections -------------------------------------------------------

    const getCollection: Shape["getCollection"] = (id) =>
      Effect.gen(function* () {
        const purpose = { action: `read collection ${quote(id)}`, collection: id }
        const reply = yield* http.send({ method: "GET", url: collectionUrl(id) }, purpose)
        if (reply.status === 404) return Option.none()
        if (!isOk(reply.status) || !Transport.isObject(reply.body)) return yield* Effect.fail(http.unexpected(reply, purpose))
        return Option.some(withoutServerLinks(reply.body))
      })

    /** The canonical link we sent must come back: it is the way from the API to the static JSON. */
    const keptCanonical = (kind: "collection" | "item", collection: string, sent: Json, stored: Json) => {
      const href = canonicalHref(sent)
      if (href === undefined || canonicalHref(stored) === href) return Effect.void
      const id = String(sent["id"])
      return fail({
        message: `the STAC API dropped the canonical link of ${kind} ${quote(id)} (${href}), so its published JSON cannot be found from the API`,
        collection,
        ...(kind === "item" ? { item: id } : {}),
        hint: "the server must keep links other than self/root/parent/collection/items; check its version and link handling"
      })
    }

    const putCollection: Shape["putCollection"] = (collection, mode) =>
      Effect.gen(function* () {
        const id = collection["id"]
        const problem = idProblem(id)
        if (problem !== undefined || typeof id !== "string") {
          return yield* fail({
            message: `collection ${problem ?? "has no id"}`,
            ...(typeof id === "string" ? { collection: id } : {}),
            status: 400,
            hint: "rename the collection in the catalog"
          })
        }
        const purpose = { action: `${mode} collection ${quote(id)}`, collection: id }
        const reply =
          mode === "create"
            ? yield* http.send({ method: "POST", url: http.url("collections"), body: collection }, purpose)
            : yield* http.send({ method: "PUT", url: collectionUrl(id), body: collection }, purpose)
        let stored: Json | undefined = isOk(reply.status) && Transport.isObject(reply.body) ? reply.body : undefined
        if (mode === "create" && reply.status === 409) {
          const existing = yield* getCollection(id)
          // Our own earlier attempt (timed out, then applied) is not a conflict.
          if (reply.earlierAttemptMayHaveApplied && Option.isSome(existing) && sameCollection(collection, existing.value)) {
            stored = existing.value
          } else {
            return yield* fail({
              message: `collection ${quote(id)} already exists`,
              collection: id,
              status: 409,
              hint: "replace it instead (--force), or delete it first"
            })
          }
        } else if (mode === "replace" && reply.status === 404) {
          return yield* fail({
            message: `collection ${quote(id)} does not exist, so it cannot be replaced`,
            collection: id,
            status: 404,
            hint: "create it instead"
          })
        } else if (!isOk(reply.status)) {
          return yield* Effect.fail(http.unexpected(reply, purpose))
        }
        if (canonicalHref(collection) !== undefined) {
          if (stored === undefined || !Array.isArray(stored["links"])) {
            stored = Option.getOrUndefined(yield* getCollection(id))
          }
          if (stored === undefined) {
            return yield* fail({
              message: `the STAC API accepted collection ${quote(id)} but does not return it`,
              collection: id,
              hint: "the server may be eventually consistent for collections; retry the ingest"
            })
          }
          yield* keptCanonical("collection", id, collection, stored)
        }
      })

    const deleteCollection: Shape["deleteCollection"] = (id) =>
      Effect.gen(function* () {
        const purpose = { action: `delete collection ${quote(id)}`, collection: id }
        const reply = yield* http.send({ method: "DELETE", url: collectionUrl(id) }, purpose)
        if (!isOk(reply.status) && reply.status !== 404) return yield* Effect.fail(http.unexpected(reply, purpose))
      })

    const listCollections: Shape["listCollections"] = () =>
      Effect.map(
        http.pages({ method: "GET", url: http.url("collections", { limit: String(pageSize) }) }, "collections", {
          action: "list collections"
        }),
        (all) => dedupe(all).sort(byId)
      )

    // ---- items: reads ------------------------------------------------------

    const findItems: Shape["findItems"] = (collection, ids) =>
      Effect.gen(function* () {
        const wanted = [...new Set(ids)]
        if (wanted.length === 0) return []
        const purpose = { action: `look up ${wanted.length} item(s) in ${quote(collection)}`, collection }
        const pages = yield* Effect.forEach(
          chunks(wanted, SEARCH_CHUNK),
          (chunk) =>
            http.pages(
              { method: "POST", url: http.url("search"), body: { collections: [collection], ids: chunk, limit: chunk.length } },
              "features",
              purpose
            ),
          { concurrency: 4 }
        )
        const want = new Set(wanted)
        // Filtered again: a server that ignores `collections` or `ids` must not
        // make another collection's item look like ours.
        return dedupe(pages.flat().filter((f) => want.has(String(f["id"])) && (f["collection"] ?? collection) === collection))
          .map(withoutServerLinks)
          .sort(byId)
      })

    const listItems: Shape["listItems"] = (collection) =>
      Effect.map(
        http.pages(
          { method: "GET", url: http.url(`collections/${enc(collection)}/items`, { limit: String(pageSize) }) },
          "features",
          { action: `list the items of ${quote(collection)}`, collection }
        ),
        (all) => dedupe(all).sort(byId)
      )

    /**
     * Searches until `ids` are all visible (or all gone), bounded by
     * `visibilityTimeoutMs`; returns what the last search found.
     */
    const awaitSearch = (
      collection: string,
      ids: ReadonlyArray<string>,
      expect: "present" | "absent"
    ): Effect.Effect<{ readonly found: ReadonlyArray<Json>; readonly pending: ReadonlyArray<string> }, Errors.CatalogApiError> =>
      Effect.gen(function* () {
        const start = yield* Clock.currentTimeMillis
        let wait = 50
        while (true) {
          const found = yield* findItems(collection, ids)
          const have = new Set(found.map((f) => String(f["id"])))
          const pending = expect === "present" ? ids.filter((id) => !have.has(id)) : ids.filter((id) => have.has(id))
          const elapsed = (yield* Clock.currentTimeMillis) - start
          if (pending.length === 0 || elapsed >= visibilityTimeoutMs) return { found, pending }
          yield* Effect.sleep(Duration.millis(Math.min(wait, visibilityTimeoutMs - elapsed)))
          wait = Math.min(wait * 2, 1000)
        }
      })

    // ---- items: writes -----------------------------------------------------

    const prepare = (collection: string, items: ReadonlyArray<Json>) =>
      Effect.gen(function* () {
        const seen = new Set<string>()
        const prepared: Array<Prepared> = []
        for (const item of items) {
          const id = item["id"]
          const refuse = (message: string, hint: string) =>
            fail({ message, collection, ...(typeof id === "string" ? { item: id } : {}), status: 400, hint })
          const problem = idProblem(id)
          if (problem !== undefined || typeof id !== "string") {
            return yield* refuse(`item ${problem ?? "has no id"}`, "rename the item in the catalog")
          }
          if (item["geometry"] === null || item["geometry"] === undefined) {
            return yield* refuse(
              `item ${quote(id)} has no geometry; pgstac does not accept items with a null geometry`,
              "give the item a geometry (its footprint, or at least a point)"
            )
          }
          const properties = item["properties"]
          const datetime = Transport.isObject(properties) ? properties["datetime"] : undefined
          const ranged =
            Transport.isObject(properties) &&
            typeof properties["start_datetime"] === "string" &&
            typeof properties["end_datetime"] === "string"
          if (typeof datetime !== "string" && !(datetime === null && ranged)) {
            // pgstac answers a bulk request holding such an item with a bare 500.
            return yield* refuse(
              `item ${quote(id)} has no properties.datetime (nor null with start_datetime and end_datetime), which STAC requires`,
              "give the item a datetime"
            )
          }
          if (item["collection"] !== undefined && item["collection"] !== collection) {
            return yield* refuse(
              `item ${quote(id)} says it belongs to collection ${JSON.stringify(item["collection"])}, not ${quote(collection)}`,
              "fix the item's collection field or publish it into its own collection"
            )
          }
          if (seen.has(id)) {
            return yield* refuse(`item ${quote(id)} appears twice in one request`, "item ids must be unique within a collection")
          }
          seen.add(id)
          prepared.push({ id, json: { ...item, collection } })
        }
        return prepared
      })

    const missingCollection = (collection: string) =>
      fail({
        message: `collection ${quote(collection)} does not exist, so its items cannot be written`,
        collection,
        status: 424,
        hint: "create the collection before its items"
      })

    /** 424 when the collection is missing; pgstac would answer 500 instead. */
    const requireCollection = (collection: string) =>
      Effect.flatMap(getCollection(collection), (c) => (Option.isNone(c) ? missingCollection(collection) : Effect.void))

    /** After a 404/424/5xx on an item write: a vanished collection explains it. */
    const explain = (collection: string, reply: Transport.Reply, purpose: Transport.Purpose) =>
      reply.status === 424
        ? missingCollection(collection)
        : reply.status === 404 || reply.status >= 500
          ? Effect.flatMap(Effect.either(getCollection(collection)), (c) =>
              Either.isRight(c) && Option.isNone(c.right) ? missingCollection(collection) : Effect.fail(http.unexpected(reply, purpose))
            )
          : Effect.fail(http.unexpected(reply, purpose))

    /** The ids of `batch` stored with the content we sent (our own earlier attempt). */
    const storedAsSent = (collection: string, batch: ReadonlyArray<Prepared>) =>
      Effect.map(findItems(collection, batch.map((p) => p.id)), (found) => {
        const stored = new Map(found.map((f) => [String(f["id"]), f]))
        return batch.filter((p) => {
          const s = stored.get(p.id)
          return s !== undefined && sameItem(p.json, s)
        })
      })

    const conflict = (collection: string, first: string, others: number, scope: string) =>
      fail({
        message: `item ${quote(first)} already exists in collection ${quote(collection)}${others > 0 ? ` (and ${others} more of ${scope})` : ""}`,
        collection,
        item: first,
        status: 409,
        hint: "replace the items instead (--force), or delete them first"
      })

    /** Which item of `batch` a 409 was about: the server's message if it says, else a lookup. */
    const nameConflict = (collection: string, batch: ReadonlyArray<Prepared>, reply: Transport.Reply) =>
      Effect.gen(function* () {
        const ids = batch.map((p) => p.id)
        const named = mentioned(Transport.serverDetail(reply), ids)
        const existing = new Set((yield* findItems(collection, ids)).map((f) => String(f["id"])))
        // The server's word when the lookup confirms it, else the first existing
        // id in request order (pgstac's 409 names nothing).
        const first = named !== undefined && existing.has(named) ? named : ids.find((id) => existing.has(id))
        if (first === undefined) {
          // Gone again by the time we looked (a concurrent delete): say what we know.
          return yield* Effect.fail(http.unexpected(reply, { action: `create ${batch.length} item(s) in ${quote(collection)}`, collection }))
        }
        existing.delete(first)
        return yield* conflict(collection, first, existing.size, "this batch")
      })

    const useBulk = (collection: string) =>
      Effect.gen(function* () {
        if (bulkAvailable !== undefined) return bulkAvailable
        const purpose = { action: "find out whether the STAC API serves bulk_items", collection }
        const conformance = yield* http.send({ method: "GET", url: http.url("conformance") }, purpose)
        const uris = Transport.isObject(conformance.body) && Array.isArray(conformance.body["conformsTo"]) ? conformance.body["conformsTo"] : []
        if (uris.some((u) => typeof u === "string" && BULK_CONFORMANCE.test(u))) {
          bulkAvailable = true
          return true
        }
        // pgstac advertises nothing for it: ask with an empty request, which
        // writes nothing and answers 200 where the endpoint exists.
        const probe = yield* http.send(
          { method: "POST", url: http.url(`collections/${enc(collection)}/bulk_items`), body: { items: {}, method: "insert" } },
          purpose
        )
        if (probe.status === 401 || probe.status === 403 || probe.status >= 500) return yield* Effect.fail(http.unexpected(probe, purpose))
        const routeExists =
          isOk(probe.status) || (probe.status === 404 && Transport.isObject(probe.body) && probe.body["code"] === "NotFoundError")
        bulkAvailable = routeExists
        yield* Effect.logDebug(
          `STAC API ${base.display}: ${routeExists ? "bulk_items available" : `no bulk_items (${probe.status}); writing items one by one`}`
        )
        return routeExists
      })

    /**
     * One bulk request per batch, in order. `written` collects what this call
     * created, for the undo of a failed create.
     */
    const writeBulk = (collection: string, prepared: ReadonlyArray<Prepared>, mode: "create" | "replace", written: Written) =>
      Effect.forEach(
        chunks(prepared, batchSize),
        (batch, n) =>
          Effect.gen(function* () {
            const purpose = {
              action: `${mode} items ${n * batchSize + 1}-${n * batchSize + batch.length} of ${prepared.length} in ${quote(collection)}`,
              collection
            }
            const request: Transport.Request = {
              method: "POST",
              url: http.url(`collections/${enc(collection)}/bulk_items`),
              body: { items: Object.fromEntries(batch.map((p) => [p.id, p.json])), method: mode === "create" ? "insert" : "upsert" }
            }
            // Until an answer comes, the batch may or may not be applied; a
            // failed `send` (timeout, connection) leaves it so for the undo.
            written.inFlight = batch
            const reply = yield* http.send(request, purpose)
            // A 5xx (after the retries) may come from a gateway after the
            // server applied the batch: it stays uncertain for the undo.
            if (reply.status < 500) written.inFlight = []
            const created = written.created
            if (isOk(reply.status)) {
              const errors =
                Transport.isObject(reply.body) && Array.isArray(reply.body["errors"]) ? reply.body["errors"].filter(Transport.isObject) : []
              const refused = new Map(errors.map((e) => [String(e["id"]), String(e["msg"] ?? e["message"] ?? "refused")]))
              if (mode === "create") created.push(...batch.filter((p) => !refused.has(p.id)).map((p) => p.id))
              const first = batch.find((p) => refused.has(p.id)) ?? (refused.size > 0 ? { id: [...refused.keys()][0] ?? "" } : undefined)
              if (first !== undefined) {
                return yield* fail({
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
                const mine = yield* storedAsSent(collection, batch)
                if (mine.length === batch.length) {
                  created.push(...batch.map((p) => p.id))
                  return
                }
              }
              return yield* nameConflict(collection, batch, reply)
            }
            return yield* explain(collection, reply, purpose)
          }),
        { discard: true }
      )

    /**
     * One request per item, `concurrency` at a time. Requests already sent are
     * always awaited (never interrupted), so `created` is exact; after a
     * failure no new ones start. Fails with the first failure in request order.
     */
    const writeEach = (collection: string, prepared: ReadonlyArray<Prepared>, mode: "create" | "replace", written: Written) =>
      Effect.gen(function* () {
        const created = written.created
        const failures: Array<ItemFailure> = []
        const one = (p: Prepared, index: number) =>
          Effect.gen(function* () {
            if (failures.length > 0) return
            const purpose = { action: `${mode} item ${quote(p.id)} in ${quote(collection)}`, collection, item: p.id }
            const post = () => http.send({ method: "POST", url: http.url(`collections/${enc(collection)}/items`), body: p.json }, purpose)
            if (mode === "replace") {
              const put = yield* http.send({ method: "PUT", url: itemUrl(collection, p.id), body: p.json }, purpose)
              if (isOk(put.status)) return
              if (put.status !== 404) return yield* explain(collection, put, purpose)
              // pgstac's PUT does not create: a missing item is POSTed.
              const posted = yield* post()
              if (isOk(posted.status)) return
              if (posted.status === 409) {
                // Created meanwhile by someone else: replace it after all.
                const again = yield* http.send({ method: "PUT", url: itemUrl(collection, p.id), body: p.json }, purpose)
                if (isOk(again.status)) return
                return yield* explain(collection, again, purpose)
              }
              return yield* explain(collection, posted, purpose)
            }
            const reply = yield* post()
            if (isOk(reply.status)) {
              created.push(p.id)
              return
            }
            if (reply.status === 409) {
              if (reply.earlierAttemptMayHaveApplied && (yield* storedAsSent(collection, [p])).length === 1) {
                created.push(p.id)
                return
              }
              return yield* conflict(collection, p.id, 0, "this request")
            }
            return yield* explain(collection, reply, purpose)
          }).pipe(
            Effect.catchAll((error) => Effect.sync(() => void failures.push({ index, error }))),
            Effect.uninterruptible
          )
        yield* Effect.forEach(prepared, one, { concurrency, discard: true })
        const first = failures.sort((a, b) => a.index - b.index)[0]
        if (first !== undefined) {
          const conflicts = failures.filter((f) => f.error.status === 409).length
          return yield* Effect.fail(
            first.error.status === 409 && conflicts > 1
              ? withNote(first.error, ` (and ${conflicts - 1} more of this request)`)
              : first.error
          )
        }
      })

    /** Deletes, `concurrency` at a time; a missing item (or collection) is already deleted. */
    const deleteEach = (collection: string, ids: ReadonlyArray<string>) =>
      Effect.forEach(
        ids,
        (id) =>
          Effect.gen(function* () {
            const purpose = { action: `delete item ${quote(id)} from ${quote(collection)}`, collection, item: id }
            const reply = yield* http.send({ method: "DELETE", url: itemUrl(collection, id) }, purpose)
            if (!isOk(reply.status) && reply.status !== 404) return yield* Effect.fail(http.unexpected(reply, purpose))
          }),
        { concurrency, discard: true }
      )

    /**
     * Removes what a failed create wrote and says so in the error. A cut-off
     * batch counts as written for the items stored with exactly our content.
     */
    const undoCreate = (collection: string, written: Written) =>
      Effect.gen(function* () {
        if (written.inFlight.length > 0) {
          const mine = yield* storedAsSent(collection, written.inFlight).pipe(Effect.orElseSucceed(() => []))
          written.created.push(...mine.map((p) => p.id))
          written.inFlight = []
        }
        const created = [...new Set(written.created)]
        if (created.length === 0) return "; nothing was written"
        return yield* deleteEach(collection, created).pipe(
          Effect.as(`; the ${created.length} item(s) this call had written were deleted again, so nothing was written`),
          Effect.catchAll((e) =>
            Effect.succeed(
              `; ${created.length} item(s) this call wrote could not all be deleted again (${e.message}): ${created.slice(0, 10).map(quote).join(", ")}`
            )
          )
        )
      }).pipe(Effect.uninterruptible)

    const putItems: Shape["putItems"] = (collection, items, mode) =>
      Effect.gen(function* () {
        if (items.length === 0) return
        const prepared = yield* prepare(collection, items)
        yield* requireCollection(collection)
        const bulk = yield* useBulk(collection)
        const written: Written = { created: [], inFlight: [] }
        const write = bulk ? writeBulk(collection, prepared, mode, written) : writeEach(collection, prepared, mode, written)
        yield* mode === "replace"
          ? write
          : write.pipe(
              Effect.catchAll((error) => Effect.flatMap(undoCreate(collection, written), (note) => Effect.fail(withNote(error, note)))),
              Effect.onInterrupt(() => undoCreate(collection, written))
            )
        const { found, pending } = yield* awaitSearch(
          collection,
          prepared.map((p) => p.id),
          "present"
        )
        if (pending.length > 0) {
          return yield* fail({
            message: `the STAC API accepted ${prepared.length} item(s) for ${quote(collection)} but ${pending.length} of them are not found after ${visibilityTimeoutMs} ms, e.g. ${quote(pending[0] ?? "")}`,
            collection,
            ...(pending[0] !== undefined ? { item: pending[0] } : {}),
            hint: "an eventually consistent backend (stac-fastapi-opensearch without DATABASE_REFRESH=true) may need longer; otherwise the server lost them"
          })
        }
        const stored = new Map(found.map((f) => [String(f["id"]), f]))
        for (const p of prepared) {
          const s = stored.get(p.id)
          if (s !== undefined) yield* keptCanonical("item", collection, p.json, s)
        }
      })

    const deleteItems: Shape["deleteItems"] = (collection, ids) =>
      Effect.gen(function* () {
        const unique = [...new Set(ids)]
        if (unique.length === 0) return
        yield* deleteEach(collection, unique)
        const { pending } = yield* awaitSearch(collection, unique, "absent")
        if (pending.length > 0) {
          return yield* fail({
            message: `${pending.length} deleted item(s) of ${quote(collection)} are still found after ${visibilityTimeoutMs} ms, e.g. ${quote(pending[0] ?? "")}`,
            collection,
            ...(pending[0] !== undefined ? { item: pending[0] } : {}),
            hint: "an eventually consistent backend may need longer; run the undo again"
          })
        }
      })

    // ---- check -------------------------------------------------------------

    const check: Shape["check"] = () =>
      Effect.gen(function* () {
        const reach = (what: string) => ({ action: `reach the STAC API (${what})` })
        const refused = (reply: Transport.Reply, what: string) =>
          reply.status === 401 || reply.status === 403
            ? fail({
                message: `the STAC API at ${base.display} refused our credentials (${reply.status} on ${what})`,
                status: reply.status,
                hint: auth.hint
              })
            : reply.status === 404
              ? Effect.fail(withHint(http.unexpected(reply, reach(what)), "set STAC_API_URL to the STAC API's root (the URL whose answer lists conformsTo)"))
              : Effect.fail(http.unexpected(reply, reach(what)))
        const landing = yield* http.send({ method: "GET", url: base.href }, reach("GET /"))
        if (!isOk(landing.status)) return yield* refused(landing, "GET /")
        if (!Transport.isObject(landing.body)) {
          return yield* fail({
            message: `${base.display} does not answer like a STAC API: GET / is not a JSON object`,
            hint: "set STAC_API_URL to the STAC API's root (the URL whose answer lists conformsTo)"
          })
        }
        const conformance = yield* http.send({ method: "GET", url: http.url("conformance") }, reach("GET /conformance"))
        let uris: ReadonlyArray<unknown> | undefined
        if (isOk(conformance.status) && Transport.isObject(conformance.body) && Array.isArray(conformance.body["conformsTo"])) {
          uris = conformance.body["conformsTo"]
        } else if (conformance.status === 401 || conformance.status === 403) {
          return yield* refused(conformance, "GET /conformance")
        } else if (Array.isArray(landing.body["conformsTo"])) {
          uris = landing.body["conformsTo"]
        }
        if (uris === undefined) {
          return yield* fail({
            message: `${base.display} is not a STAC API: GET /conformance answered ${conformance.status} and GET / lists no conformsTo`,
            status: conformance.status,
            hint: "set STAC_API_URL to the STAC API's root"
          })
        }
        const strings = uris.filter((u): u is string => typeof u === "string")
        const missing = [
          strings.some((u) => TRANSACTION_ITEMS.test(u)) ? undefined : "item transactions (.../ogcapi-features/extensions/transaction)",
          strings.some((u) => TRANSACTION_COLLECTIONS.test(u)) ? undefined : "collection transactions (.../collections/extensions/transaction)"
        ].filter((m): m is string => m !== undefined)
        if (missing.length > 0) {
          return yield* fail({
            message: `the STAC API at ${base.display} does not accept transactions: its /conformance lacks ${missing.join(" and ")}`,
            hint: "set ENABLE_TRANSACTIONS_EXTENSIONS=true on the server (stac-fastapi-pgstac), or enable its Transactions extension"
          })
        }
        // Reads may be open while writes need the key: try a write that changes
        // nothing (deleting an item of a collection that does not exist).
        const probe = `hysds-stac-check-${randomUUID()}`
        const write = yield* http.send({ method: "DELETE", url: itemUrl(probe, probe) }, reach("a harmless DELETE"))
        if (!isOk(write.status) && write.status !== 404) return yield* refused(write, `DELETE ${itemUrl(probe, probe).slice(base.href.length - 1)}`)
      })

    return {
      // pgstac's: the server this adapter is written to (and checked against by the contract suite).
      rules: StacRegistry.PGSTAC_RULES,
      check,
      getCollection,
      putCollection,
      deleteCollection,
      findItems,
      putItems,
      deleteItems,
      listCollections,
      listItems
    } satisfies Shape
  })

/** StacRegistry on the STAC API at `config.url`, with the HttpClient from the context. */
export const layerWithoutHttpClient = (
  config: StacApiConfig
): Layer.Layer<StacRegistry.StacRegistry, never, HttpClient.HttpClient> => Layer.effect(StacRegistry.StacRegistry, make(config))

/** StacRegistry on the STAC API at `config.url`, over the platform's `fetch`. */
export const layer = (config: StacApiConfig): Layer.Layer<StacRegistry.StacRegistry> =>
  layerWithoutHttpClient(config).pipe(Layer.provide(FetchHttpClient.layer))
