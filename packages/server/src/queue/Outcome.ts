/**
 * How an ingest's end is settled and told: its record gets the final state
 * (from core's Exit, or "dropped before it started"), then the metrics, the
 * "ingest ended" log line and every `?wait=true` waiter learn it, in that
 * order, so a waiter never sees an ingest the metrics do not count yet.
 *
 * An interruption is not a failure of the job: it is the shutdown's doing,
 * and the message says what the rollback left (nothing, or what could not be
 * undone). A defect is a bug of ours: its cause goes to the log only, the
 * client gets an id to look for.
 */
import type { Ingest } from "@hysds-stac/core"
import { Cause, Deferred, Effect, Exit, Metric, Option } from "effect"
import type { IngestStatus } from "../ApiSchemas.ts"
import * as IngestRecord from "../IngestRecord.ts"
import * as IngestProgress from "../IngestProgress.ts"
import * as Metrics from "../Metrics.ts"
import * as RequestInput from "../RequestInput.ts"
import { type State, annotations, releaseJobDir, view } from "./State.ts"

/** Settles the record of an ingest that ran, from how `Ingest.run` ended. */
export const settleFromExit = (state: State, entry: IngestRecord.Entry, exit: Exit.Exit<Ingest.IngestResult, Ingest.IngestFailed>) =>
  Effect.gen(function* () {
    if (Exit.isSuccess(exit)) return IngestRecord.settle(entry, { _tag: "Succeeded", result: exit.value })
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) {
      return IngestRecord.settle(entry, {
        _tag: "Failed",
        error: IngestRecord.errorInfo(failure.value.error, state.mask),
        rollback: failure.value.rollback
      })
    }
    if (Cause.isInterruptedOnly(exit.cause)) {
      const undone = entry.undone.length
      return IngestRecord.settle(entry, {
        _tag: "Failed",
        error: IngestRecord.otherError(
          "interrupted",
          entry.undoFailed.length > 0
            ? "the server shut down during this ingest; some of its steps could not be undone (see rollback)"
            : undone > 0
              ? `the server shut down during this ingest; its ${undone} step(s) were rolled back, nothing of it is left`
              : "the server shut down during this ingest, before it published anything",
          "submit it again"
        )
      })
    }
    yield* Effect.logError("ingest died: a bug in hysds-stac", exit.cause)
    IngestRecord.settle(entry, {
      _tag: "Failed",
      error: IngestRecord.otherError("internal", `internal error in ingest ${entry.id}; the server log has the details`)
    })
  })

/** Settles the record of an ingest that never started (dropped at shutdown): nothing of it happened. */
export const settleNeverStarted = (entry: IngestRecord.Entry): void =>
  IngestRecord.settle(entry, {
    _tag: "Failed",
    error: IngestRecord.otherError("interrupted", "the server shut down before this ingest started; nothing was published", "submit it again")
  })

/** Frees the job dir, then tells the settled end to the metrics, the log and the waiters. */
export const announce = (state: State, entry: IngestRecord.Entry) =>
  Effect.gen(function* () {
    releaseJobDir(state, entry)
    const status = view(state, entry)
    yield* record(entry, status)
    yield* Deferred.succeed(entry.done, status)
  })

/** Metrics and the "ingest ended" line of one ended ingest. */
const record = (entry: IngestRecord.Entry, status: IngestStatus) =>
  Effect.gen(function* () {
    const dryRun = String(entry.request.dryRun)
    yield* Metric.increment(Metric.tagged(Metric.tagged(Metrics.ingests, "outcome", status.state), "dry_run", dryRun))
    if (entry.startedAt) {
      const seconds = ((entry.finishedAt ?? new Date()).getTime() - entry.startedAt.getTime()) / 1000
      yield* Metric.update(Metric.tagged(Metrics.ingestDuration, "outcome", status.state), seconds)
    }
    for (const [phase, seconds] of Object.entries(IngestProgress.phaseTimes(entry))) {
      yield* Metric.update(Metric.tagged(Metrics.phaseDuration, "phase", phase), seconds)
    }
    if (status.state === "succeeded" && !entry.request.dryRun && entry.result) {
      const t = entry.result.totals
      yield* Metric.incrementBy(Metrics.products, t.products)
      yield* Metric.incrementBy(Metrics.items, t.items)
      yield* Metric.incrementBy(Metrics.files, t.files)
      yield* Metric.incrementBy(Metrics.bytes, t.bytes)
      yield* Metric.incrementBy(Metrics.documents, t.documents)
    }
    if (status.error) yield* Metric.increment(Metric.tagged(Metrics.errors, "category", status.error.category))
    if (entry.undone.length + entry.undoFailed.length > 0) {
      yield* Metric.increment(Metrics.rollbacks)
      yield* Metric.incrementBy(Metric.tagged(Metrics.rollbackSteps, "result", "undone"), entry.undone.length)
      yield* Metric.incrementBy(Metric.tagged(Metrics.rollbackSteps, "result", "failed"), entry.undoFailed.length)
    }
    const fields = {
      state: status.state,
      jobDir: RequestInput.verbatim(entry.jobDir),
      ...(status.error ? { category: status.error.category, reason: status.error.message } : {}),
      ...(status.result ? { products: status.result.totals.products, files: status.result.totals.files, bytes: status.result.totals.bytes } : {}),
      ...(status.rollback ? { undone: status.rollback.undone.length, undoFailed: status.rollback.failed.length } : {})
    }
    const log = status.state === "succeeded" ? Effect.logInfo : status.rollback?.complete === false ? Effect.logError : Effect.logWarning
    yield* log("ingest ended").pipe(Effect.annotateLogs(fields))
  }).pipe(Effect.annotateLogs(annotations(entry)))
