/**
 * Turns of the host's event loop during work that never waits.
 *
 * Why: through a synchronous JobTree (the node:fs one the CLI and server use)
 * planning answers everything from memory or the page cache, and Effect's
 * scheduler hands the event loop a turn only after millions of operations. A
 * 100,000-item plan held it for its whole 9 s: the server's `/healthz` took
 * 8.7 s to answer, and its metrics, other ingests' lease renewals and signals
 * waited as long. The loops of planning that grow with the job ask `due()`
 * at each step (a directory, a document, an item) and give a `turn` when it
 * says so: once `Interval` has passed since the last turn.
 *
 * Why 250 ms, not less: a turn is not free. Bun collects garbage at a turn
 * when the heap has grown, and planning grows it all along: at 100,000 items,
 * turns every 50 ms cost the plan 10-25% more CPU (and 15-20% less peak RSS);
 * every 250 ms the cost is a few percent, and a probe waits at most that long
 * plus the longest single step (a batch of reads; the node:fs port lists a
 * directory of 100,000 entries in chunks, with a chance of a turn between them).
 */
import { Context, Effect } from "effect"

/** Milliseconds of work between two turns; 0 gives one at every step (tests). */
export class Interval extends Context.Reference<Interval>()("@hysds-stac/core/EventLoop/Interval", {
  defaultValue: (): number => 250
}) {}

/** When the last turn was given, by any fiber: one turn serves everything waiting on the loop. */
let last = 0

/**
 * A loop's check, read once per loop: a plain function, because a step of
 * these loops takes microseconds and an Effect per step would cost more.
 */
export const pace: Effect.Effect<() => boolean> = Effect.map(Interval, (every) => () => performance.now() - last >= every)

/** A timer, not a yield to Effect's own scheduler: only a macrotask lets I/O and timers in. */
export const turn: Effect.Effect<void> = Effect.sleep(0).pipe(Effect.ensuring(Effect.sync(() => (last = performance.now()))))
