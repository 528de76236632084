/**
 * Drain, the SIGTERM path: take nothing new, drop what only waits (nothing of
 * it happened), let what runs finish for the grace period, then interrupt it.
 * Interrupting makes core roll the ingest back, and core's rollback is
 * uninterruptible, so awaiting the interrupted fiber awaits a complete
 * rollback: nothing is left half-done when `drain` returns.
 */
import { Duration, Effect, Fiber, Option } from "effect"
import { announce, settleNeverStarted } from "./Outcome.ts"
import { type State, gauges } from "./State.ts"

export const drain = (state: State, grace: Duration.DurationInput): Effect.Effect<void> =>
  Effect.gen(function* () {
    state.accepting = false
    const waiting = state.queue.splice(0, state.queue.length)
    yield* Effect.logInfo("draining: no new ingests").pipe(
      Effect.annotateLogs({ running: state.running.size, cancelledQueued: waiting.length, graceMs: Duration.toMillis(grace) })
    )
    for (const entry of waiting) {
      settleNeverStarted(entry)
      yield* announce(state, entry)
    }
    yield* gauges(state)
    const fibers = [...state.running.values()]
    if (fibers.length === 0) return
    // The wait must be interruptible for the timeout to end it: drain runs as a finalizer,
    // where everything is uninterruptible, and a race cannot stop an uninterruptible loser.
    const finished = yield* Fiber.awaitAll(fibers).pipe(Effect.interruptible, Effect.timeout(grace), Effect.option)
    if (Option.isSome(finished)) return yield* Effect.logInfo("drained: every running ingest ended within the grace period")
    const left = [...state.running.values()]
    yield* Effect.logWarning("grace period over: interrupting running ingests, which roll back").pipe(Effect.annotateLogs({ running: left.length }))
    // Returns once each fiber has ended, i.e. once its (uninterruptible) rollback is complete.
    yield* Fiber.interruptAll(left)
    yield* Effect.logInfo("drained: interrupted ingests rolled back")
  }).pipe(Effect.uninterruptible)
