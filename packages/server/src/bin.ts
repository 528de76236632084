#!/usr/bin/env bun
/**
 * `bun run serve`: the ingest service. Configuration errors are printed as one
 * JSON log line naming every problem, and exit with 3 (the CLI's code for
 * configuration); SIGTERM and SIGINT drain and exit 0.
 */
import { BunRuntime } from "@effect/platform-bun"
import { Tracing } from "@hysds-stac/adapters"
import { Cause, Effect, Either, Exit, Layer, Option } from "effect"
import * as ApiKeys from "./ApiKeys.ts"
import * as JsonLogger from "./JsonLogger.ts"
import * as Redactor from "./Redactor.ts"
import * as Server from "./Server.ts"
import * as ServerConfig from "./ServerConfig.ts"

const EXIT_CONFIG = 3

const config = ServerConfig.fromEnv(process.env)
if (Either.isLeft(config)) {
  JsonLogger.line(Redactor.make([]), "error", config.left.message, { category: "config", hint: config.left.hint })
  process.exit(EXIT_CONFIG)
}

// Spans go to an OpenTelemetry collector only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
const tracing = Tracing.fromEnv(process.env)
if (Either.isLeft(tracing)) {
  JsonLogger.line(Redactor.make([]), "error", tracing.left.message, { category: "config", hint: tracing.left.hint })
  process.exit(EXIT_CONFIG)
}
const secrets = [...config.right.settings.secrets, ...Tracing.secretsOf(tracing.right)]

let redactor: Redactor.RedactorShape = Redactor.make(secrets)
const keys = ApiKeys.make({
  keys: config.right.apiKeys,
  ...(config.right.apiKeysFile ? { file: config.right.apiKeysFile } : {}),
  onReload: (e) => JsonLogger.line(redactor, e.error ? "warn" : "info", e.error ? "API keys file unusable: no key from it" : "API keys file (re)loaded", e)
})
redactor = Redactor.make(secrets, keys)

// runMain handles the first signal (it interrupts the main fiber, which drains). These
// listeners only keep a second signal from killing the process in the middle of a rollback.
let signals = 0
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    signals++
    JsonLogger.line(redactor, "info", signals === 1 ? `${signal}: shutting down` : `${signal} again: still draining (a rollback is never cut short)`)
  })
}

const main = Server.run(config.right, keys, redactor).pipe(
  Effect.scoped,
  Effect.tapErrorCause((cause) =>
    Effect.logError(`the server cannot start: ${Cause.squash(cause) instanceof Error ? (Cause.squash(cause) as Error).message : String(Cause.squash(cause))}`)
  ),
  // Outside the server's scope: the exporter sends its last spans after the drain.
  Effect.provide(tracing.right === undefined ? Layer.empty : Tracing.layer(tracing.right)),
  Effect.provide(JsonLogger.layer(redactor, config.right.logLevel))
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
