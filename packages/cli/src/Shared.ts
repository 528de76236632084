/**
 * Options every command shares, and the layers they stand on: the state dir,
 * the chosen backends and the runtime's FileSystem/Path.
 */
import { Options } from "@effect/cli"
import { Backends } from "@hysds-stac/adapters"
import { Errors } from "@hysds-stac/core"
import { Config, Effect, Either } from "effect"
import * as path from "node:path"
import * as ExitCode from "./ExitCode.ts"
import * as Output from "./Output.ts"

export const stateDir = Options.text("state-dir").pipe(
  Options.withDescription("Where the embedded store, index and registry live (env HYSDS_STAC_HOME)."),
  Options.withFallbackConfig(Config.string("HYSDS_STAC_HOME")),
  Options.withDefault(".hysds-stac")
)

export const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object instead of text."))

export const verbose = Options.boolean("verbose").pipe(
  Options.withDescription("On failure, also print the full cause with stack traces.")
)

/** The backends for this process, or a printed configuration error. */
export const backends = (dir: string, asJson: boolean) =>
  Either.match(Backends.resolve(process.env, path.resolve(dir)), {
    onLeft: (error) => Output.failure(error, { json: asJson }),
    onRight: (b) => Effect.succeed(b)
  })

/** Runs `effect` with the backend layer; every error, a layer that cannot be built included, is printed. */
export const withBackends = <A, R>(
  dir: string,
  asJson: boolean,
  effect: Effect.Effect<A, Errors.PublishError | ExitCode.Exit, R>
) =>
  Effect.gen(function* () {
    const chosen = yield* backends(dir, asJson)
    return yield* effect.pipe(
      Effect.provide(Backends.layer(chosen)),
      Effect.catchAll((e) => (e._tag === "CliExit" ? Effect.fail(e) : Output.failure(e, { json: asJson })))
    )
  })
