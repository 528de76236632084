import { Args, Command } from "@effect/cli"
import { StacRegistry } from "@hysds-stac/core"
import { Console, Effect } from "effect"
import * as Output from "../Output.ts"
import * as Shared from "../Shared.ts"

const collections = Command.make("collections", { ...Shared.backendOptions }, (o) =>
  Shared.withBackends(
    o,
    Effect.gen(function* () {
      const registry = yield* StacRegistry.StacRegistry
      const list = yield* registry.listCollections()
      if (o.json) return yield* Output.json(list)
      for (const c of list) yield* Console.log(`${String(c.id)}\t${String(c.title ?? c.description ?? "")}`)
      yield* Console.log(`${list.length} collection(s)`)
    })
  )
).pipe(Command.withDescription("List the STAC collections."))

const items = Command.make(
  "items",
  { collection: Args.text({ name: "collection" }), ...Shared.backendOptions },
  (o) =>
    Shared.withBackends(
      o,
      Effect.gen(function* () {
        const registry = yield* StacRegistry.StacRegistry
        const list = yield* registry.listItems(o.collection)
        if (o.json) return yield* Output.json(list)
        for (const i of list) {
          const p = (i.properties ?? {}) as Record<string, unknown>
          yield* Console.log(`${String(i.id)}\t${String(p.datetime ?? p.start_datetime ?? "")}`)
        }
        yield* Console.log(`${list.length} item(s) in ${o.collection}`)
      })
    )
).pipe(Command.withDescription("List the items of a STAC collection."))

export const command = Command.make("stac").pipe(
  Command.withDescription("Look into the STAC registry."),
  Command.withSubcommands([collections, items])
)
