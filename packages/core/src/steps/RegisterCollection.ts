/**
 * Register collection: a STAC collection put into the STAC API. A collection
 * is shared by many jobs: one that exists is used as is (no step), and
 * replaced only on --force, keeping the one it replaces in the record.
 *
 * Undo deletes the collection this run created, unless another job has
 * published items into it meanwhile (deleting it would delete them), or puts
 * the replaced one back. A collection that existed before the run is never
 * deleted. The items this run put into a collection it created are deleted
 * here too, after their batches' undo (FreshItems.ts): with the collection in
 * one request when nothing else is in it, else one by one. Nothing to commit.
 */
import { Effect, Option, Schema } from "effect"
import { FreshItems } from "../FreshItems.ts"
import { type StacJson, StacRegistry } from "../StacRegistry.ts"
import * as Step from "../Step.ts"

const declared = Step.declare("RegisterCollection", {
  id: Schema.String,
  /** `previous` is the collection this run replaced (`--force`); absent when it created it. */
  previous: Schema.optionalWith(Step.JsonObject, { exact: true })
})({
  summary: (a) => `STAC collection ${a.id}${a.previous ? " (replaced)" : ""}`,
  undo: (a) =>
    Effect.flatMap(StacRegistry, (registry) =>
      a.previous
        ? registry.putCollection(a.previous, "replace")
        : Effect.gen(function* () {
            // The fresh batches left their items to this undo; any other batch of this run undid its own before (reverse order).
            const ours = (yield* FreshItems).of(a.id)
            if (ours.length > 0) {
              if (yield* registry.deleteCollectionIfOnly(a.id, ours)) return
              yield* registry.deleteItems(a.id, ours)
            }
            // What is left is another job's, published into the collection once it existed.
            if (!(yield* registry.deleteCollectionIfEmpty(a.id))) {
              yield* Effect.logWarning(`STAC collection ${a.id} was created by this run but kept: another job has published items into it since`)
            }
          })
    ),
  commit: () => Effect.void,
  attributes: (a) => ({ "hysds_stac.collection": a.id })
})

/** Answers whether this run created the collection (its items are then fresh, see RegisterItems). */
const run = (collection: StacJson, force: boolean) =>
  Effect.gen(function* () {
    const registry = yield* StacRegistry
    const id = String(collection.id)
    const existing = yield* registry.getCollection(id)
    if (Option.isNone(existing)) {
      yield* Step.run(declared, declared.make({ id }), Step.settled(registry.putCollection(collection, "create")))
      return true
    } else if (force) {
      yield* Step.run(
        declared,
        declared.make({ id, previous: existing.value }),
        Step.settled(registry.putCollection(collection, "replace"))
      )
    }
    return false
  })

export const RegisterCollection = { ...declared, run }
