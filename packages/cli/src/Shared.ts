/**
 * Options every command shares, and what they stand on: the state dir, the
 * backend settings (config file < environment < flags) and the backend layer.
 */
import { Options } from "@effect/cli"
import { Backends, ConfigSource, Settings } from "@hysds-stac/adapters"
import type { Errors } from "@hysds-stac/core"
import { Config, Effect, Either, Layer, Option } from "effect"
import * as path from "node:path"
import type * as ExitCode from "./ExitCode.ts"
import * as Output from "./Output.ts"

export const stateDir = Options.text("state-dir").pipe(
  Options.withDescription("Where the embedded store, index and registry live (env HYSDS_STAC_HOME)."),
  Options.withFallbackConfig(Config.string("HYSDS_STAC_HOME")),
  Options.withDefault(".hysds-stac")
)

export const config = Options.file("config", { exists: "yes" }).pipe(
  Options.withDescription(
    "A JSON file of settings (the same names as the environment variables in the README; the environment wins). Env HYSDS_STAC_CONFIG."
  ),
  Options.withFallbackConfig(Config.string("HYSDS_STAC_CONFIG")),
  Options.optional
)

export const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object instead of text."))

/** The options of any command that uses the backends. */
export const backendOptions = { stateDir, config, json }

export interface BackendOptions {
  readonly stateDir: string
  readonly config: Option.Option<string>
  readonly json: boolean
}

/** The settings for this process; a configuration error is printed and becomes the exit code. */
export const settings = (o: BackendOptions): Effect.Effect<Settings.Settings, ExitCode.Exit> =>
  Effect.gen(function* () {
    // bin.ts installed the file under the environment already; a file it could not read is reported here.
    if (Option.isSome(o.config)) {
      const file = Settings.readFile(path.resolve(o.config.value))
      if (Either.isLeft(file)) return yield* Output.failure(file.left, { json: o.json })
    }
    const resolved = yield* Effect.either(Settings.config(path.resolve(o.stateDir)))
    if (Either.isLeft(resolved)) return yield* Output.failure(ConfigSource.toConfigError(resolved.left), { json: o.json })
    return resolved.right
  })

/** Runs `effect` on the configured journal alone (the state dir's, or the shared one); every error is printed. */
export const withJournal = <A, R>(o: BackendOptions, effect: Effect.Effect<A, Errors.PublishError | ExitCode.Exit, R>) =>
  Effect.gen(function* () {
    const chosen = yield* settings(o)
    return yield* effect.pipe(
      Effect.provide(Backends.journalLayer(chosen)),
      Effect.catchAll((e) => (e._tag === "CliExit" ? Effect.fail(e) : Output.failure(e, { json: o.json })))
    )
  })

/** Runs `effect` on the configured backends and journal; every error, a backend that cannot be built included, is printed. */
export const withBackends = <A, R>(
  o: BackendOptions,
  effect: Effect.Effect<A, Errors.PublishError | ExitCode.Exit, R>
) =>
  Effect.gen(function* () {
    const chosen = yield* settings(o)
    return yield* effect.pipe(
      Effect.provide(Layer.merge(Backends.layer(chosen), Backends.journalLayer(chosen))),
      Effect.catchAll((e) => (e._tag === "CliExit" ? Effect.fail(e) : Output.failure(e, { json: o.json })))
    )
  })
