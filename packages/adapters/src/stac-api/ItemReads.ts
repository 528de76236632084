/**
 * Reading items back from the STAC API: looking ids up, listing a collection,
 * and waiting until writes and deletes are visible (read-your-writes).
 *
 * Observed on stac-fastapi-pgstac 7.2.0 / pgstac 0.10.0:
 * - `POST /search` with `ids` + `collections`: only the named items of that
 *   collection, paginated by `limit` with a `next` link of method POST whose
 *   `body` carries the whole next request (token included); default order is
 *   datetime then id, descending. `GET /collections/{c}/items` pages the same
 *   way with a GET `next` (`token=next:...`). Limits up to at least 100000
 *   were accepted.
 *
 * Choices that follow:
 * - findItems uses `POST /search` with `ids` and `collections`, 500 ids per
 *   request, following `next`: one request per 500 ids instead of one GET per
 *   id, no URL length limit, and on pgstac it reads the same tables the writes
 *   went to. Results are sorted by id, as the embedded registry returns them.
 * - Read-your-writes: after item writes and deletes the ids are searched once
 *   (which also catches a server that acknowledges and drops items, a known
 *   complaint), and only if the search does not yet agree is it repeated with
 *   backoff for up to `visibilityTimeoutMs`. pgstac is transactional and
 *   agrees at once; the opensearch backend without DATABASE_REFRESH=true needs
 *   the wait.
 */
import { Array as Arr, Clock, Duration, Effect } from "effect"
import type { Errors, StacRegistry } from "@hysds-stac/core"
import type { Api } from "./RegistryContext.ts"
import { byId, dedupe, type Json, quote, sameItem, withoutServerLinks } from "./Documents.ts"
import type { Prepared } from "./ItemChecks.ts"

type Shape = StacRegistry.StacRegistryShape

/**
 * Ids per search request in findItems: a whole ingest batch (500 by default)
 * in one search, as the writes are one bulk request of as many.
 */
const SEARCH_CHUNK = 500

/**
 * What a search returns of each item (the Fields extension): `whole`, or only
 * what a check needs. The read-back after a write needs ids and links (the
 * canonical check), after a delete only ids. On pgstac, 500 whole items took
 * a median 351 ms to search (430 KB), as much as writing them; ids and links
 * 223 ms (267 KB). A server without the extension sends whole items, which
 * serve as well.
 */
export type Projection = "whole" | "links" | "ids"

export const FIELDS: Record<Exclude<Projection, "whole">, Json> = {
  links: { include: ["id", "collection", "links"], exclude: ["geometry", "bbox", "properties", "assets"] },
  ids: { include: ["id", "collection"], exclude: ["geometry", "bbox", "properties", "assets", "links"] }
}

const search = (api: Api, collection: string, ids: ReadonlyArray<string>, projection: Projection) =>
  Effect.gen(function* () {
    const wanted = [...new Set(ids)]
    if (wanted.length === 0) return []
    const purpose = { action: `look up ${wanted.length} item(s) in ${quote(collection)}`, collection }
    const fields = projection === "whole" ? {} : { fields: FIELDS[projection] }
    const pages = yield* Effect.forEach(
      Arr.chunksOf(wanted, SEARCH_CHUNK),
      (chunk) =>
        api.http.pages(
          { method: "POST", url: api.http.url("search"), body: { collections: [collection], ids: chunk, limit: chunk.length, ...fields } },
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

export const findItems =
  (api: Api): Shape["findItems"] =>
  (collection, ids) =>
    search(api, collection, ids, "whole")

export const listItems =
  (api: Api): Shape["listItems"] =>
  (collection) =>
    Effect.map(
      api.http.pages(
        { method: "GET", url: api.itemsUrl(collection, { limit: String(api.pageSize) }) },
        "features",
        { action: `list the items of ${quote(collection)}`, collection }
      ),
      (all) => dedupe(all).sort(byId)
    )

/**
 * Searches until `ids` are all visible (or all gone), bounded by
 * `visibilityTimeoutMs`; returns what the last search found.
 */
export const awaitSearch = (
  api: Api,
  collection: string,
  ids: ReadonlyArray<string>,
  expect: "present" | "absent",
  projection: Projection
): Effect.Effect<{ readonly found: ReadonlyArray<Json>; readonly pending: ReadonlyArray<string> }, Errors.CatalogApiError> =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    let wait = 50
    while (true) {
      const found = yield* search(api, collection, ids, projection)
      const have = new Set(found.map((f) => String(f["id"])))
      const pending = expect === "present" ? ids.filter((id) => !have.has(id)) : ids.filter((id) => have.has(id))
      const elapsed = (yield* Clock.currentTimeMillis) - start
      if (pending.length === 0 || elapsed >= api.visibilityTimeoutMs) return { found, pending }
      yield* Effect.sleep(Duration.millis(Math.min(wait, api.visibilityTimeoutMs - elapsed)))
      wait = Math.min(wait * 2, 1000)
    }
  })

/** The ids of `batch` stored with the content we sent (our own earlier attempt). */
export const storedAsSent = (api: Api, collection: string, batch: ReadonlyArray<Prepared>) =>
  Effect.map(
    findItems(api)(
      collection,
      batch.map((p) => p.id)
    ),
    (found) => {
      const stored = new Map(found.map((f) => [String(f["id"]), f]))
      return batch.filter((p) => {
        const s = stored.get(p.id)
        return s !== undefined && sameItem(p.json, s)
      })
    }
  )

/**
 * As storedAsSent, for ids the server just said exist (a 409 or an "already
 * exists" error): waits until search sees them first, as an eventually
 * consistent server may answer the conflict before its search shows the item.
 */
export const existingStoredAsSent = (api: Api, collection: string, batch: ReadonlyArray<Prepared>) =>
  Effect.map(
    awaitSearch(
      api,
      collection,
      batch.map((p) => p.id),
      "present",
      "whole"
    ),
    ({ found }) => {
      const stored = new Map(found.map((f) => [String(f["id"]), f]))
      return batch.filter((p) => {
        const s = stored.get(p.id)
        return s !== undefined && sameItem(p.json, s)
      })
    }
  )
