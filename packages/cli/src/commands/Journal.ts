import { Args, Command, Options } from "@effect/cli"
import { Errors, Journal, Recover } from "@hysds-stac/core"
import { Console, Effect, Option } from "effect"
import * as ExitCode from "../ExitCode.ts"
import * as Output from "../Output.ts"
import * as ProgressLine from "../ProgressLine.ts"
import * as Shared from "../Shared.ts"

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
  }).pipe((effect) => Shared.withJournal(o, effect))
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
        const alive = Recover.isOpen(t) && (yield* journal.live(t.tx)) ? " (lease live: running)" : ""
        yield* Console.log(`${t.tx}\t${t.state}${alive}\t${t.steps} steps\t${t.begin?.products.join(",") ?? ""}`)
      }
      yield* Console.log(`${shown.length} transaction(s); open ones are finished by \`hysds-stac recover\``)
    }).pipe((effect) => Shared.withJournal(o, effect))
).pipe(Command.withDescription("List open transactions (not committed, not fully rolled back) and recent ones."))

export const command = Command.make("journal").pipe(
  Command.withDescription("Look into the journal of ingest transactions (the state dir's, or the shared one HYSDS_STAC_JOURNAL names)."),
  Command.withSubcommands([list, show])
)

export const recover = Command.make(
  "recover",
  {
    tx: Options.text("tx").pipe(
      Options.withDescription("Recover this transaction even if its lease looks live (its holder is known gone); still one recoverer at a time."),
      Options.optional
    ),
    ...Shared.backendOptions
  },
  (o) =>
    Effect.gen(function* () {
      const { recovered: results, left } = yield* Option.match(o.tx, {
        onSome: (tx) =>
          Effect.flatMap(Recover.takeOver(tx, "force"), (r) =>
            r === undefined
              ? Effect.fail(new Errors.ConflictError({ id: tx, message: `transaction ${tx} is being recovered by another worker right now`, hint: "let it finish; run recover again to check" }))
              : Effect.succeed({ recovered: [r], left: [] })
          ),
        onNone: () => Recover.all()
      })
      if (o.json) yield* Output.json({ ok: results.every((r) => r.outcome !== "incomplete"), recovered: results, left })
      else {
        for (const r of results) yield* Console.log(`${r.tx}: ${r.outcome}${r.undone.length ? `, ${r.undone.length} step(s) undone` : ""}`)
        for (const r of results) for (const f of r.failed) yield* Console.error(Output.redact(`  FAILED step ${f.step} (${f.summary}): ${f.error}`))
        // Open but held: a live ingest, or a dead one whose lease has not expired yet (HYSDS_STAC_LEASE_TTL_SECONDS).
        for (const l of left) {
          yield* Console.log(
            `${l.tx}: left alone, its lease is live (${l.state}, ${l.steps} steps, pid ${l.pid ?? "?"} on ${l.host ?? "?"}${l.lastAt ? `, last record ${l.lastAt}` : ""}); ` +
              "if its process is gone, run recover again once the lease TTL has passed"
          )
        }
        if (results.length === 0 && left.length === 0) yield* Console.log("nothing to recover")
      }
      if (results.some((r) => r.outcome === "incomplete")) return yield* Effect.fail(new ExitCode.Exit({ code: ExitCode.codes.internal }))
    }).pipe((effect) =>
      Shared.withBackends(
        o,
        effect.pipe(Effect.provide(ProgressLine.layer({ tty: false, quiet: o.json })))
      )
    )
).pipe(
  Command.withDescription(
    "Finish every ingest a dead worker left open (its lease expired; with a shared journal, of any machine): roll back what was not committed (objects, documents, items, collections restored to before), finish the cleanup of what was. One still held by a live process (its lease renewed within the TTL) is named and left alone. Safe to run again."
  )
)
