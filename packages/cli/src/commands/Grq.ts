import { Args, Command, Options } from "@effect/cli"
import { GrqIndex } from "@hysds-stac/core"
import { Console, Effect, Option } from "effect"
import * as ExitCode from "../ExitCode.ts"
import * as Output from "../Output.ts"
import * as Shared from "../Shared.ts"

const get = Command.make(
  "get",
  { id: Args.text({ name: "id" }), ...Shared.backendOptions },
  (o) =>
    Shared.withBackends(
      o,
      Effect.gen(function* () {
        const index = yield* GrqIndex.GrqIndex
        const found = yield* index.find(o.id)
        if (Option.isNone(found)) {
          yield* Console.error(`no GRQ document with id ${o.id}`)
          return yield* Effect.fail(new ExitCode.Exit({ code: 1 }))
        }
        if (o.json) yield* Output.json(found.value)
        else yield* Console.log(`index: ${found.value.index}\n${JSON.stringify(found.value.doc, null, 2)}`)
      })
    )
).pipe(Command.withDescription("Show one GRQ document by id (searched across every grq_* index)."))

const list = Command.make(
  "list",
  {
    dataset: Options.text("dataset").pipe(Options.withDescription("Only documents of this dataset."), Options.optional),
    ...Shared.backendOptions
  },
  (o) =>
    Shared.withBackends(
      o,
      Effect.gen(function* () {
        const index = yield* GrqIndex.GrqIndex
        const records = yield* index.list(Option.isSome(o.dataset) ? { dataset: o.dataset.value } : {})
        if (o.json) return yield* Output.json(records)
        for (const r of records) yield* Console.log(`${r.id}\t${r.index}\t${String(r.doc.dataset ?? "")}`)
        yield* Console.log(`${records.length} document(s)`)
      })
    )
).pipe(Command.withDescription("List GRQ documents: id, index, dataset."))

const init = Command.make("init", { ...Shared.backendOptions }, (o) =>
  Shared.withBackends(
    o,
    Effect.gen(function* () {
      const index = yield* GrqIndex.GrqIndex
      yield* index.init()
      if (o.json) yield* Output.json({ ok: true })
      else yield* Console.log("GRQ index template grq_* and alias grq installed")
    })
  )
).pipe(Command.withDescription("Install the grq_* index template (geo_shape location, dates, keyword fields) and the alias grq, like grq2 does."))

export const command = Command.make("grq").pipe(
  Command.withDescription("Look into the GRQ index, or prepare it (init)."),
  Command.withSubcommands([get, list, init])
)
