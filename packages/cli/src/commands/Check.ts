import { Command } from "@effect/cli"
import { Backends, Settings } from "@hysds-stac/adapters"
import { Checks, DatasetConfig, Errors } from "@hysds-stac/core"
import { Console, Effect, Option } from "effect"
import * as path from "node:path"
import * as ExitCode from "../ExitCode.ts"
import * as Output from "../Output.ts"
import * as Shared from "../Shared.ts"
import { datasets } from "./Ingest.ts"

export const command = Command.make("check", { datasets, ...Shared.backendOptions }, (o) =>
  Effect.gen(function* () {
    const settings = yield* Shared.settings(o)
    const config = Option.isSome(o.datasets)
      ? yield* DatasetConfig.load(path.resolve(o.datasets.value), process.env).pipe(
          Effect.catchAll((e) => Output.failure(e, { json: o.json }))
        )
      : undefined
    const probe = config ? Checks.probeLocations(config) : []
    // A backend whose layer cannot even be built (bad settings) is a failed check, not a crash.
    const results = yield* Checks.run(probe).pipe(
      Effect.provide(Backends.layer(settings)),
      Effect.catchAll((e: Errors.PublishError) =>
        Effect.succeed([{ backend: "store" as const, target: "configuration", ok: false, error: e }])
      )
    )
    const describe = Object.fromEntries(Settings.describe(settings))
    if (o.json) {
      yield* Output.json({
        ok: results.every((r) => r.ok),
        backends: describe,
        checks: results.map((r) => ({
          backend: r.backend,
          target: r.target,
          ok: r.ok,
          ...(r.error ? { error: { category: r.error.category, message: r.error.message, hint: "hint" in r.error ? r.error.hint : undefined } } : {})
        }))
      })
    } else {
      for (const [port, what] of Settings.describe(settings)) yield* Console.log(`${port.padEnd(9)} ${what}`)
      if (!config) yield* Console.log("(no --datasets: publish locations not probed for writability)")
      for (const r of results) {
        const line = `${r.ok ? "ok  " : "FAIL"}  ${r.backend.padEnd(8)} ${r.target}`
        yield* r.ok ? Console.log(line) : Console.log(Output.redact(`${line}\n      ${Errors.describe(r.error!).replaceAll("\n", "\n      ")}`))
      }
    }
    const failed = results.find((r) => !r.ok)
    if (failed) return yield* Effect.fail(new ExitCode.Exit({ code: ExitCode.forCategory(failed.error!.category) }))
  })
).pipe(
  Command.withDescription(
    "Check the configured backends before publishing: the store writable at every location of --datasets (a probe object written and removed), GRQ reachable with its index template, the STAC API accepting transactions. Each failure names the backend and the fix."
  )
)
