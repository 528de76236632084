/**
 * The port's item writes, put together: check every item, require the
 * collection, write by bulk request or one by one, undo a failed create, then
 * read the ids back until the server agrees (see ItemReads for why).
 *
 * The readback also checks that each item's `canonical` link survived: it is
 * the only link back to the published static JSON.
 */
import { Effect } from "effect"
import type { Errors, StacRegistry } from "@hysds-stac/core"
import { type Api, keptCanonical, withNote } from "./RegistryContext.ts"
import { requireCollection } from "./Collections.ts"
import { deleteEach, undoCreate } from "./CreateCleanup.ts"
import { quote } from "./Documents.ts"
import { prepare } from "./ItemChecks.ts"
import { awaitSearch } from "./ItemReads.ts"
import { writeBulk, writeEach, type Written } from "./ItemWrites.ts"

type Shape = StacRegistry.StacRegistryShape

/** `useBulk` says, per collection, whether bulk_items serves it (see Capabilities). */
export const putItems =
  (api: Api, useBulk: (collection: string) => Effect.Effect<boolean, Errors.CatalogApiError>): Shape["putItems"] =>
  (collection, items, mode) =>
    Effect.gen(function* () {
      if (items.length === 0) return
      const prepared = yield* prepare(api, collection, items)
      yield* requireCollection(api, collection)
      const bulk = yield* useBulk(collection)
      const written: Written = { created: [], inFlight: [] }
      const write = bulk ? writeBulk(api, collection, prepared, mode, written) : writeEach(api, collection, prepared, mode, written)
      yield* mode === "replace"
        ? write
        : write.pipe(
            Effect.catchAll((error) => Effect.flatMap(undoCreate(api, collection, written), (note) => Effect.fail(withNote(error, note)))),
            Effect.onInterrupt(() => undoCreate(api, collection, written))
          )
      const { found, pending } = yield* awaitSearch(
        api,
        collection,
        prepared.map((p) => p.id),
        "present",
        "links"
      )
      if (pending.length > 0) {
        return yield* api.fail({
          message: `the STAC API accepted ${prepared.length} item(s) for ${quote(collection)} but ${pending.length} of them are not found after ${api.visibilityTimeoutMs} ms, e.g. ${quote(pending[0] ?? "")}`,
          collection,
          ...(pending[0] !== undefined ? { item: pending[0] } : {}),
          hint: "an eventually consistent backend (stac-fastapi-opensearch without DATABASE_REFRESH=true) may need longer; otherwise the server lost them"
        })
      }
      const stored = new Map(found.map((f) => [String(f["id"]), f]))
      for (const p of prepared) {
        const s = stored.get(p.id)
        if (s !== undefined) yield* keptCanonical(api, "item", collection, p.json, s)
      }
    })

export const deleteItems =
  (api: Api): Shape["deleteItems"] =>
  (collection, ids) =>
    Effect.gen(function* () {
      const unique = [...new Set(ids)]
      if (unique.length === 0) return
      yield* deleteEach(api, collection, unique)
      const { pending } = yield* awaitSearch(api, collection, unique, "absent", "ids")
      if (pending.length > 0) {
        return yield* api.fail({
          message: `${pending.length} deleted item(s) of ${quote(collection)} are still found after ${api.visibilityTimeoutMs} ms, e.g. ${quote(pending[0] ?? "")}`,
          collection,
          ...(pending[0] !== undefined ? { item: pending[0] } : {}),
          hint: "an eventually consistent backend may need longer; run the undo again"
        })
      }
    })
