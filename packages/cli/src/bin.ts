#!/usr/bin/env bun
/**
 * The `hysds-stac` executable. Errors were already printed by the commands; this
 * only maps how the program ended to an exit code (see ExitCode.ts) and keeps
 * stack traces out of sight unless --verbose.
 */
import { BunContext, BunRuntime } from "@effect/platform-bun"
import { EngineMemory, NodeJobTree, Tracing } from "@hysds-stac/adapters"
import { Cause, Console, Effect, Either, Exit, Layer, Logger, Option } from "effect"
import * as ConfigFile from "./ConfigFile.ts"
import * as ExitCode from "./ExitCode.ts"
import * as Output from "./Output.ts"
import { redact } from "./Output.ts"
import { run } from "./Main.ts"

const verbose = process.argv.includes("--verbose")

// The first SIGINT/SIGTERM interrupts the command (runMain does that) and the
// ingest rolls back. runMain then drops its listeners, so a second Ctrl-C would
// get the default action and kill the process half-way through the rollback.
// These listeners keep the process alive until the rollback has finished.
let signals = 0
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (++signals > 1) process.stderr.write(`${signal} again: still rolling back; wait for it to finish (kill -9 leaves the work to \`hysds-stac recover\`)\n`)
  })
}
const argv = process.argv.filter((a) => a !== "--verbose")

// Spans go to an OpenTelemetry collector only when OTEL_EXPORTER_OTLP_ENDPOINT is
// set (see adapters/Tracing.ts). Provided around the whole command, the exporter
// is closed, and its last spans sent, before runMain's teardown exits.
const tracing = Tracing.fromEnv(process.env)
const tracer = Either.match(tracing, {
  onLeft: (e) => Layer.effectDiscard(Output.failure(e, { json: argv.includes("--json") })),
  onRight: Tracing.layerOf
})

const main = run(argv).pipe(
  Effect.catchAllCause((cause) => {
    if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
    const known = Cause.failureOption(cause).pipe(Option.filter((e): e is ExitCode.Exit => (e as { _tag?: string })?._tag === "CliExit"))
    if (Option.isSome(known)) return Effect.fail(known.value)
    // @effect/cli's own usage errors were printed by it already.
    const isCliValidation = Cause.failureOption(cause).pipe(
      Option.exists((e) => typeof e === "object" && e !== null && "_tag" in e && ["CommandMismatch", "CorrectedFlag", "HelpRequested", "InvalidArgument", "InvalidValue", "MissingValue", "MissingFlag", "MultipleValuesDetected", "MissingSubcommand", "NoBuiltInMatch", "UnclusteredFlag"].includes((e as { _tag: string })._tag))
    )
    if (isCliValidation) return Effect.fail(new ExitCode.Exit({ code: ExitCode.codes.usage }))
    return Console.error(
      redact(verbose ? Cause.pretty(cause) : `internal error: ${Cause.squash(cause) instanceof Error ? (Cause.squash(cause) as Error).message : String(Cause.squash(cause))}\n(run again with --verbose for details)`)
    ).pipe(Effect.zipRight(Effect.fail(new ExitCode.Exit({ code: ExitCode.codes.internal }))))
  }),
  // Planning reads the job tree through node:fs in bulk (adapters NodeJobTree), not one async call per file.
  Effect.provide(Layer.mergeAll(BunContext.layer, NodeJobTree.layer, EngineMemory.layer(process.env))),
  Effect.provide(tracer),
  Effect.withConfigProvider(ConfigFile.provider(argv, process.env)),
  // Logs go to stderr: stdout carries the result alone, so --json stays parseable.
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true })))
)

BunRuntime.runMain(main, {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) return onExit(0)
    if (Cause.isInterruptedOnly(exit.cause)) return onExit(ExitCode.codes.interrupted)
    const failure = Cause.failureOption(exit.cause)
    onExit(Option.isSome(failure) && failure.value instanceof ExitCode.Exit ? failure.value.code : ExitCode.codes.internal)
  }
})
