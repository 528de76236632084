/**
 * Startup recovery (the server's use of core's `Recover`). At start, before the first request: every transaction a dead process left
 * unfinished in the journal is finished (core `Recover.all`: rolled back, or
 * rolled forward past its commit record), as `hysds-stac recover` would. A
 * crashed server (or a killed worker's CLI) thus never leaves half an ingest
 * behind for long, and the next ingest of those products is not refused.
 * Dead means a lease that expired: with the shared journal (HYSDS_STAC_JOURNAL)
 * that includes what any other machine or replica left; transactions whose
 * holder still renews its lease are left alone.
 *
 * A transaction that cannot be finished (a backend down) does not stop the
 * server: it is logged, and an ingest of its products is refused with a
 * conflict naming it until it is recovered.
 */
import { Progress, Recover } from "@hysds-stac/core"
import { Effect, Metric } from "effect"
import * as Metrics from "./Metrics.ts"

const logged: Progress.ProgressShape = {
  emit: (event) => {
    switch (event._tag) {
      case "StepUndone":
        return Effect.logInfo("recovery: step undone").pipe(Effect.annotateLogs({ step: event.step, summary: event.summary }))
      case "UndoFailed":
        return Effect.logError("recovery: undo failed").pipe(Effect.annotateLogs({ step: event.step, summary: event.summary, reason: event.error }))
      default:
        return Effect.void
    }
  }
}

export const run =
  Effect.gen(function* () {
    const { recovered: results, left } = yield* Recover.all().pipe(
      Effect.provideService(Progress.Progress, logged)
    )
    // Held by a live process (another server or worker on the shared journal): theirs to finish.
    for (const l of left) {
      yield* Effect.logInfo("recovery: left a live transaction to its holder").pipe(
        Effect.annotateLogs({ ingestId: l.tx, state: l.state, steps: l.steps, host: l.host ?? "?", pid: l.pid ?? "?" })
      )
    }
    for (const r of results) {
      yield* Metric.increment(Metric.tagged(Metrics.recovered, "outcome", r.outcome))
      const log = r.outcome === "incomplete" ? Effect.logError : Effect.logInfo
      yield* log(`recovered an unfinished transaction: ${r.outcome}`).pipe(
        Effect.annotateLogs({ ingestId: r.tx, undone: r.undone.length, failed: r.failed.length })
      )
    }
    if (results.length === 0) yield* Effect.logDebug("recovery: nothing to recover")
  }).pipe(
    Effect.catchAll((e) =>
      // A damaged journal must not keep the service down; it is reported for a human.
      Effect.logError(`recovery failed: ${e.message}`)
    ),
    Effect.withLogSpan("recovery")
  )

