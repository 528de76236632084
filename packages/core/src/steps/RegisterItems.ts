/**
 * Register items: one batch of STAC items of a collection put into the STAC
 * API (a bulk request when the server has one). The items it replaces are
 * read first and kept in the record. An item already in the registry AND in
 * GRQ is a publication (refused unless --force); one in the registry only is
 * an orphan of a failed run and is replaced.
 *
 * Undo deletes the batch's ids, then puts the replaced items back; a `fresh`
 * batch (into a collection this run created, replacing nothing) leaves that to
 * the collection's undo, which follows it and drops the collection whole when
 * it can (FreshItems.ts says why). Nothing to commit.
 */
import { Effect, Schema } from "effect"
import { ConflictError } from "../Errors.ts"
import { FreshItems } from "../FreshItems.ts"
import { Progress } from "../Progress.ts"
import { type StacJson, StacRegistry } from "../StacRegistry.ts"
import * as Step from "../Step.ts"

const declared = Step.declare("RegisterItems", {
  collection: Schema.String,
  ids: Schema.Array(Schema.String),
  previous: Schema.Array(Step.JsonObject),
  /** Into a collection this run created, replacing nothing: undone by the collection's undo. Absent otherwise (and in older journals). */
  fresh: Schema.optionalWith(Schema.Literal(true), { exact: true })
})({
  summary: (a) => `${a.ids.length} STAC item(s) in ${a.collection}`,
  undo: (a) =>
    Effect.gen(function* () {
      if (a.fresh === true) return
      const registry = yield* StacRegistry
      yield* registry.deleteItems(a.collection, a.ids)
      if (a.previous.length > 0) yield* registry.putItems(a.collection, a.previous, "replace")
    }),
  commit: () => Effect.void
})

/**
 * `indexed`: the ids GRQ already has (found by the claims). `created`: the
 * collections this run created (RegisterCollection.run). `ids` are the items'
 * ids, given when the caller already holds them (the plan's), so the record
 * kept until the run ends shares those strings.
 */
const run = (
  collection: string,
  items: ReadonlyArray<StacJson>,
  force: boolean,
  indexed: ReadonlySet<string>,
  created: ReadonlySet<string>,
  ids: ReadonlyArray<string> = items.map((i) => String(i.id))
) =>
  Effect.gen(function* () {
    const registry = yield* StacRegistry
    const progress = yield* Progress
    const previous = yield* registry.findItems(collection, ids)
    const blocking = previous.find((i) => indexed.has(String(i.id)) && !force)
    if (blocking) {
      return yield* Effect.fail(
        new ConflictError({ id: String(blocking.id), message: `STAC item ${String(blocking.id)} already exists in ${collection}`, hint: "use --force to replace it" })
      )
    }
    // An item found in a collection this run created was put there by another
    // writer meanwhile: that batch keeps its own undo, which puts the item back.
    const fresh = created.has(collection) && previous.length === 0
    if (fresh) (yield* FreshItems).add(collection, ids)
    yield* Step.run(
      declared,
      declared.make(fresh ? { collection, ids, previous, fresh } : { collection, ids, previous }),
      Step.settled(registry.putItems(collection, items, previous.length > 0 ? "replace" : "create"))
    )
    yield* progress.emit({ _tag: "ItemsRegistered", collection, count: items.length })
  })

export const RegisterItems = { ...declared, run }
