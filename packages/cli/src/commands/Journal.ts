import { Args, Command, Options } from "@effect/cli"
import { Journal, Recover } from "@hysds-stac/core"
import { Console, Effect, Layer, Option } from "effect"
import * as path from "node:path"
import * as ExitCode from "../ExitCode.ts"
import * as Output from "../Output.ts"
import { FileJournal, Liveness } from "@hysds-stac/adapters"
import * as ProgressLine from "../ProgressLine.ts"
import * as Shared from "../Shared.ts"

/** The state dir's journal. */
export const layer = (stateDir: string) => FileJournal.layer({ dir: path.join(path.resolve(stateDir), "journal") })

const show = Command.make("show", { tx: Args.text({ name: "transaction" }), ...Shared.backendOptions }, (o) =>
  Effect.gen(function* () {
    const journal = yield* Journal.Journal
    const records = yield* journal.records(o.tx)
    if (o.json) return yield* Output.json({ ...Journal.summarize(o.tx, records), records })
    const s = Journal.summarize(o.tx, records)
    yield* Console.log(`${s.tx}: ${s.state}, ${s.steps} step(s)${s.begin ? `, job ${s.begin.jobDir}, pid ${s.begin.pid ?? "?"} on ${s.begin.host ?? "?"}` : ""}`)
    for (const r of records) {
      const detail = r._tag === "Intent" ? ` step ${r.step}: ${Output.redact(JSON.stringify(r.action)).slice(0, 300)}` : "step" in r ? ` step ${r.step}` : r._tag === "End" ? ` ${r.outcome}` : ""
      yield* Console.log(`  ${r._tag}${detail}`)
    }
  }).pipe(
    Effect.provide(layer(o.stateDir)),
    Effect.catchAll((e) => Output.failure(e, { json: o.json }))
  )
).pipe(Command.withDescription("Show every record of one transaction: intents (what each step was about to do), completions, undos."))

const list = Command.make(
  "list",
  { all: Options.boolean("all").pipe(Options.withDescription("Also finished transactions (default: open ones and the 20 most recent).")), ...Shared.backendOptions },
  (o) =>
    Effect.gen(function* () {
      const journal = yield* Journal.Journal
      const txs = yield* journal.transactions({ finished: true })
      const shown = o.all ? txs : txs.filter((t, i) => Recover.isOpen(t) || i < 20)
      if (o.json) return yield* Output.json(shown)
      for (const t of shown) {
        const alive = t.begin && Recover.isOpen(t) && Liveness.isAlive()(t.begin) ? " (process alive)" : ""
        yield* Console.log(`${t.tx}\t${t.state}${alive}\t${t.steps} steps\t${t.begin?.products.join(",") ?? ""}`)
      }
      yield* Console.log(`${shown.length} transaction(s); open ones are finished by \`hysds-stac recover\``)
    }).pipe(
      Effect.provide(layer(o.stateDir)),
      Effect.catchAll((e) => Output.failure(e, { json: o.json }))
    )
).pipe(Command.withDescription("List open transactions (not committed, not fully rolled back) and recent ones."))

export const command = Command.make("journal").pipe(
  Command.withDescription("Look into the journal of ingest transactions (under the state dir)."),
  Command.withSubcommands([list, show])
)

export const recover = Command.make(
  "recover",
  {
    tx: Options.text("tx").pipe(
      Options.withDescription("Recover this transaction even if its owner looks alive (e.g. it ran on another host that is gone)."),
      Options.optional
    ),
    ...Shared.backendOptions
  },
  (o) =>
    Effect.gen(function* () {
      const results = yield* Option.match(o.tx, {
        onSome: (tx) => Effect.map(Recover.transaction(tx), (r) => [r]),
        onNone: () => Recover.all({ isAlive: Liveness.isAlive() })
      })
      if (o.json) yield* Output.json({ ok: results.every((r) => r.outcome !== "incomplete"), recovered: results })
      else {
        for (const r of results) yield* Console.log(`${r.tx}: ${r.outcome}${r.undone.length ? `, ${r.undone.length} step(s) undone` : ""}`)
        for (const r of results) for (const f of r.failed) yield* Console.error(Output.redact(`  FAILED step ${f.step} (${f.summary}): ${f.error}`))
        if (results.length === 0) yield* Console.log("nothing to recover")
      }
      if (results.some((r) => r.outcome === "incomplete")) return yield* Effect.fail(new ExitCode.Exit({ code: ExitCode.codes.internal }))
    }).pipe((effect) =>
      Shared.withBackends(
        o,
        effect.pipe(Effect.provide(Layer.mergeAll(layer(o.stateDir), ProgressLine.layer({ tty: false, quiet: o.json }))))
      )
    )
).pipe(
  Command.withDescription(
    "Finish every ingest a dead process left open: roll back what was not committed (objects, documents, items, collections restored to before), finish the cleanup of what was. Safe to run again."
  )
)
