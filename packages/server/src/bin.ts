#!/usr/bin/env bun
/**
 * `bun run serve`: the ingest service. Configuration errors are printed as one
 * JSON log line naming every problem, and exit with 3 (the CLI's code for
 * configuration); SIGTERM and SIGINT drain and exit 0.
 */
import { BunRuntime } from "@effect/platform-bun"
import { Settings, Tracing } from "@hysds-stac/adapters"
import { Cause, Effect, Either, Exit, Option, Redacted } from "effect"
import * as ApiKeys from "./ApiKeys.ts"
import * as JsonLogger from "./JsonLogger.ts"
import * as SecretMask from "./SecretMask.ts"
import * as Server from "./Server.ts"
import * as ServerConfig from "./ServerConfig.ts"

const EXIT_CONFIG = 3

// One provider, the CLI's layering (config file < environment), read once here and
// installed under the whole program so any Config read later sees the same settings.
const loaded = Either.flatMap(ServerConfig.provider(process.env), (provider) => Either.map(ServerConfig.load(provider), (config) => ({ provider, config })))
if (Either.isLeft(loaded)) {
  JsonLogger.line(SecretMask.make([]), "error", loaded.left.message, { category: "config", hint: loaded.left.hint })
  process.exit(EXIT_CONFIG)
}
const { config, provider } = loaded.right

// Spans go to an OpenTelemetry collector only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
const tracing = Tracing.fromEnv(process.env)
if (Either.isLeft(tracing)) {
  JsonLogger.line(SecretMask.make([]), "error", tracing.left.message, { category: "config", hint: tracing.left.hint })
  process.exit(EXIT_CONFIG)
}
const secrets = [...Settings.secrets(config.settings), ...Tracing.secretsOf(tracing.right)]

let mask: SecretMask.SecretMaskShape = SecretMask.make(secrets)
const keys = ApiKeys.make({
  // Compared with what requests send: the one place the configured keys are unwrapped.
  keys: config.apiKeys.map(Redacted.value),
  ...(config.apiKeysFile ? { file: config.apiKeysFile } : {}),
  onReload: (e) => JsonLogger.line(mask, e.error ? "warn" : "info", e.error ? "API keys file unusable: no key from it" : "API keys file (re)loaded", e)
})
mask = SecretMask.make(secrets, keys)

// runMain handles the first signal (it interrupts the main fiber, which drains). These
// listeners only keep a second signal from killing the process in the middle of a rollback.
let signals = 0
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    signals++
    JsonLogger.line(mask, "info", signals === 1 ? `${signal}: shutting down` : `${signal} again: still draining (a rollback is never cut short)`)
  })
}

const main = Server.run(config, keys, mask).pipe(
  Effect.scoped,
  Effect.tapErrorCause((cause) =>
    Effect.logError(`the server cannot start: ${Cause.squash(cause) instanceof Error ? (Cause.squash(cause) as Error).message : String(Cause.squash(cause))}`)
  ),
  // Outside the server's scope: the exporter sends its last spans after the drain.
  Effect.provide(Tracing.layerOf(tracing.right)),
  Effect.provide(JsonLogger.layer(mask, config.logLevel)),
  Effect.withConfigProvider(provider)
)

BunRuntime.runMain(main, {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause)) return onExit(0)
    const failure = Cause.failureOption(exit.cause)
    const tag = Option.isSome(failure) ? (failure.value as { readonly _tag?: unknown })._tag : undefined
    onExit(tag === "ConfigError" ? EXIT_CONFIG : 1)
  }
})
