/**
 * The STAC items a transaction registered into collections it created itself,
 * replacing nothing: what the undo of such a collection needs to know of its
 * sibling steps (RegisterItems batches) to drop the collection whole.
 *
 * Why: the Transactions extension deletes items one request at a time (about
 * 1 ms each on pgstac, bound by the server), so undoing 10,000 items was most
 * of a rollback, while deleting a collection with them takes milliseconds. So
 * a batch in a fresh collection leaves its undo to the collection's
 * (RegisterCollection), which runs after every batch in it (reverse order) and
 * drops the collection when nothing but these ids is in it; when another
 * writer's item is there too, it deletes these ids one by one and keeps the
 * collection, as every batch's own undo used to.
 *
 * The ids are known two ways that must agree: during the run, from the
 * batches as they start (`tracker`: each is noted before its journal intent,
 * so an id noted but never journaled is at most one a batch was about to
 * write); in a recovery, from the journal's RegisterItems intents marked
 * `fresh` (`fromActions`), whether or not their own undo already ran.
 */
import { Context } from "effect"
import type { Action } from "./Action.ts"

export interface FreshItemsShape {
  /** Notes a batch of `collection`'s items (it created the collection; the batch replaced nothing). */
  readonly add: (collection: string, ids: ReadonlyArray<string>) => void
  /** Every id noted for `collection`, in the order noted. */
  readonly of: (collection: string) => ReadonlyArray<string>
}

export class FreshItems extends Context.Tag("@hysds-stac/core/FreshItems")<FreshItems, FreshItemsShape>() {}

/**
 * Batches by collection. The batches' id arrays are kept as given, not copied:
 * they are the plan's (see RegisterItems.run), held until the run ends anyway.
 */
export const tracker = (): FreshItemsShape => {
  const batches = new Map<string, Array<ReadonlyArray<string>>>()
  return {
    add: (collection, ids) => {
      const known = batches.get(collection)
      if (known === undefined) batches.set(collection, [ids])
      else known.push(ids)
    },
    of: (collection) => (batches.get(collection) ?? []).flat()
  }
}

/** What a dead run's journal says: its RegisterItems intents marked fresh. */
export const fromActions = (actions: Iterable<Action>): FreshItemsShape => {
  const found = tracker()
  for (const a of actions) if (a._tag === "RegisterItems" && a.fresh === true) found.add(a.collection, a.ids)
  return found
}
