import { Args, Command } from "@effect/cli"
import { Backends, ExtractorProcess } from "@hysds-stac/adapters"
import { DatasetConfig, Validate } from "@hysds-stac/core"
import { Console, Effect, Option } from "effect"
import * as path from "node:path"
import * as Output from "../Output.ts"
import * as Shared from "../Shared.ts"
import { datasets } from "./Ingest.ts"

const target = Args.path({ name: "catalog-or-job-dir", exists: "yes" }).pipe(
  Args.withDescription("A catalog.json/collection.json, or a job dir.")
)

export const command = Command.make("validate", { target, datasets, json: Shared.json }, (o) =>
  Effect.gen(function* () {
    const config = yield* Option.match(o.datasets, {
      onNone: () => Effect.succeed(undefined),
      onSome: (f) => DatasetConfig.load(path.resolve(f), process.env)
    })
    // With datasets.json: the settings (not any backend: validate touches nothing) give the
    // store's schemes every location is checked against, and the extractor's time limit.
    const settings = config === undefined ? undefined : yield* Shared.settings({ stateDir: ".hysds-stac", config: Option.none(), json: o.json })
    const validated = Validate.validate(path.resolve(o.target), config, settings && Backends.storeSchemes(settings), process.env)
    // An entry's extractor runs as it would in an ingest.
    const result = yield* settings === undefined ? validated : Effect.provide(validated, ExtractorProcess.layer({ timeoutMillis: settings.extractorTimeoutMillis }))
    if (o.json) yield* Output.json({ ok: true, ...result })
    else {
      yield* Console.log(`valid: ${result.catalogs} STAC catalog(s), ${result.items} item(s), ${result.products} product(s)`)
      const warnings = Output.warningLines(result.warnings)
      if (warnings.length > 0) yield* Console.log(Output.redact(warnings.join("\n")))
    }
  }).pipe(Effect.catchAll((e) => (e._tag === "CliExit" ? Effect.fail(e) : Output.failure(e, { json: o.json }))))
).pipe(Command.withDescription("Report every problem of a catalog or job dir (all of them, with file and JSON path); publish nothing."))
