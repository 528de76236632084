/**
 * Deleting items, and undoing a failed create with it.
 *
 * `create` is all-or-nothing per call: when a later batch fails, or the call
 * is interrupted, the items the earlier batches created are deleted again.
 * They did not exist before (the insert would have failed), so deleting them
 * puts back exactly what was there. `replace` cannot be undone that way (the
 * old versions are gone) and needs none: it is idempotent, so a re-run
 * converges.
 *
 * Observed on stac-fastapi-pgstac 7.2.0 / pgstac 0.10.0:
 * `DELETE /collections/{c}/items/{id}`: 200 `{"deleted item": id}`; missing
 * item or collection → 404, which therefore counts as deleted.
 */
import { Effect } from "effect"
import type { Api } from "./RegistryContext.ts"
import { isOk, quote } from "./Documents.ts"
import { awaitSearch, storedAsSent } from "./ItemReads.ts"
import type { Written } from "./ItemWrites.ts"

/** Deletes, `concurrency` at a time; a missing item (or collection) is already deleted. */
export const deleteEach = (api: Api, collection: string, ids: ReadonlyArray<string>) =>
  Effect.forEach(
    ids,
    (id) =>
      Effect.gen(function* () {
        const purpose = { action: `delete item ${quote(id)} from ${quote(collection)}`, collection, item: id }
        const reply = yield* api.http.send({ method: "DELETE", url: api.itemUrl(collection, id) }, purpose)
        if (!isOk(reply.status) && reply.status !== 404) return yield* Effect.fail(api.http.unexpected(reply, purpose))
      }),
    { concurrency: api.concurrency, discard: true }
  )

/**
 * Removes what a failed create wrote and answers with the note for the error.
 * A cut-off batch counts as written for the items stored with exactly our
 * content.
 */
export const undoCreate = (api: Api, collection: string, written: Written) =>
  Effect.gen(function* () {
    if (written.inFlight.length > 0) {
      const mine = yield* storedAsSent(api, collection, written.inFlight).pipe(Effect.orElseSucceed(() => []))
      written.created.push(...mine.map((p) => p.id))
      written.inFlight = []
    }
    const created = [...new Set(written.created)]
    if (created.length === 0) return "; nothing was written"
    // Deleted only once search sees them: stac-fastapi-opensearch (no
    // DATABASE_REFRESH) answers a delete of an item it wrote a moment ago but
    // has not refreshed yet with 404 and deletes nothing, and the item shows
    // up afterwards (seen: 64 of 249 left behind). Then awaited until search
    // agrees, as every write is: the caller's next read must not see them.
    return yield* awaitSearch(api, collection, created, "present", "ids").pipe(
      Effect.zipRight(deleteEach(api, collection, created)),
      Effect.zipRight(awaitSearch(api, collection, created, "absent", "ids")),
      Effect.flatMap(({ pending }) =>
        pending.length === 0
          ? Effect.succeed(`; the ${created.length} item(s) this call had written were deleted again, so nothing was written`)
          : Effect.succeed(`; ${pending.length} item(s) this call wrote and deleted again are still found after ${api.visibilityTimeoutMs} ms: ${pending.slice(0, 10).map(quote).join(", ")}`)
      ),
      Effect.catchAll((e) =>
        Effect.succeed(
          `; ${created.length} item(s) this call wrote could not all be deleted again (${e.message}): ${created.slice(0, 10).map(quote).join(", ")}`
        )
      )
    )
  }).pipe(Effect.uninterruptible)
