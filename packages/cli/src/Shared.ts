/**
 * Options every command shares, and what they stand on: the state dir, the
 * backend settings (config file < environment < flags) and the backend layer.
 */
import { Options } from "@effect/cli"
import { Backends, Settings } from "@hysds-stac/adapters"
import type { Errors } from "@hysds-stac/core"
import { Config, Effect, Either, Option } from "effect"
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
    const file = Option.isSome(o.config) ? Settings.readFile(path.resolve(o.config.value)) : Either.right(undefined)
    const resolved = Either.flatMap(file, (f) =>
      Settings.resolve({ env: process.env, stateDir: path.resolve(o.stateDir), ...(f ? { file: f } : {}) })
    )
    if (Either.isLeft(resolved)) return yield* Output.failure(resolved.left, { json: o.json })
    Output.addSecrets(resolved.right.secrets)
    return resolved.right
  })

/** Runs `effect` on the configured backends; every error, a backend that cannot be built included, is printed. */
export const withBackends = <A, R>(
  o: BackendOptions,
  effect: Effect.Effect<A, Errors.PublishError | ExitCode.Exit, R>
) =>
  Effect.gen(function* () {
    const chosen = yield* settings(o)
    return yield* effect.pipe(
      Effect.provide(Backends.layer(chosen)),
      Effect.catchAll((e) => (e._tag === "CliExit" ? Effect.fail(e) : Output.failure(e, { json: o.json })))
    )
  })
