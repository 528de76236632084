import { Args, Command } from "@effect/cli"
import { Backends } from "@hysds-stac/adapters"
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
    // The configured store's schemes, without building any backend: validate touches nothing.
    const schemes = config === undefined ? undefined : Backends.storeSchemes(yield* Shared.settings({ stateDir: ".hysds-stac", config: Option.none(), json: o.json }))
    const result = yield* Validate.validate(path.resolve(o.target), config, schemes)
    if (o.json) yield* Output.json({ ok: true, ...result })
    else {
      yield* Console.log(`valid: ${result.catalogs} STAC catalog(s), ${result.items} item(s), ${result.products} product(s)`)
      const warnings = Output.warningLines(result.warnings)
      if (warnings.length > 0) yield* Console.log(Output.redact(warnings.join("\n")))
    }
  }).pipe(Effect.catchAll((e) => (e._tag === "CliExit" ? Effect.fail(e) : Output.failure(e, { json: o.json }))))
).pipe(Command.withDescription("Report every problem of a catalog or job dir (all of them, with file and JSON path); publish nothing."))
