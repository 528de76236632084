/**
 * The slots: at most `maxConcurrent` ingests run, each core's `Ingest.run` in
 * a root fiber of its own (forked into a FiberSet the queue's layer owns), not
 * in the request's: a client that hangs up, or times out on `?wait=true`,
 * does not cancel the ingest; it can follow it by id.
 *
 * When an ingest ends its slot is handed to the oldest queued one in the same
 * uninterruptible step that settles it, so a slot is never free while
 * something waits (unless the queue is draining).
 *
 * The ingest id is core's transaction id, and each running ingest holds and
 * renews its transaction's lease, so recovering an earlier attempt of the
 * same products (here, in another replica or a worker's CLI) never rolls back
 * one that runs here.
 */
import { Liveness } from "@hysds-stac/adapters"
import { Ingest } from "@hysds-stac/core"
import type { FileSystem, Path } from "@effect/platform"
import type { GrqIndex, Journal, ObjectStore, StacRegistry } from "@hysds-stac/core"
import { type Context, Effect, type Exit, type Fiber, Metric } from "effect"
import * as os from "node:os"
import * as IngestProgress from "../IngestProgress.ts"
import type * as IngestRecord from "../IngestRecord.ts"
import * as Metrics from "../Metrics.ts"
import * as RequestInput from "../RequestInput.ts"
import * as History from "./History.ts"
import { announce, settleFromExit } from "./Outcome.ts"
import { type State, annotations, gauges } from "./State.ts"

/** Items or documents per registry/index request: the CLI's value. */
const BATCH_SIZE = 500

/** What an ingest needs besides its Progress, provided once for all of them. */
export type Requirements =
  | ObjectStore.ObjectStore
  | GrqIndex.GrqIndex
  | StacRegistry.StacRegistry
  | Journal.Journal
  | FileSystem.FileSystem
  | Path.Path

/** Forks an ingest as a root fiber owned by the queue's scope (FiberSet.makeRuntime). */
export type RunFork = (effect: Effect.Effect<void>, options?: { readonly immediate?: boolean }) => Fiber.RuntimeFiber<void, never>

export interface Slots {
  /** Takes a slot for `entry` and starts it; the caller checked that one is free. */
  readonly start: (entry: IngestRecord.Entry) => Effect.Effect<void>
}

export const make = (state: State, context: Context.Context<Requirements>, runFork: RunFork): Slots => {
  /** Settles and tells the end, frees the slot and gives it to the oldest waiting ingest. */
  const finish = (entry: IngestRecord.Entry, exit: Exit.Exit<Ingest.IngestResult, Ingest.IngestFailed>) =>
    Effect.gen(function* () {
      yield* settleFromExit(state, entry, exit)
      state.running.delete(entry.id)
      yield* announce(state, entry)
      History.forget(state)
      while (state.accepting && state.running.size < state.config.maxConcurrent && state.queue.length > 0) yield* start(state.queue.shift()!)
      yield* gauges(state)
    })

  const execute = (entry: IngestRecord.Entry): Effect.Effect<void> =>
    Effect.gen(function* () {
      yield* Effect.logInfo("ingest started").pipe(
        Effect.annotateLogs({ jobDir: RequestInput.verbatim(entry.jobDir), force: entry.request.force, dryRun: entry.request.dryRun })
      )
      yield* Ingest.run({
        jobDir: entry.jobDir,
        datasetsFile: state.config.datasetsFile,
        force: entry.request.force,
        dryRun: entry.request.dryRun,
        stac: state.config.stac && !entry.request.noStac,
        concurrency: state.config.fileConcurrency,
        batchSize: BATCH_SIZE,
        hostname: os.hostname(),
        env: process.env,
        owner: Liveness.thisProcess(),
        recoverEarlier: true,
        tx: entry.id
      }).pipe(
        IngestProgress.service(entry),
        Effect.provide(context),
        Effect.onExit((exit) => finish(entry, exit)),
        Effect.ignore
      )
    }).pipe(Effect.annotateLogs(annotations(entry)))

  const start = (entry: IngestRecord.Entry): Effect.Effect<void> =>
    Effect.gen(function* () {
      entry.state = "running"
      entry.phase = "planning"
      entry.startedAt = new Date()
      yield* Metric.update(Metrics.queueWait, (entry.startedAt.getTime() - entry.createdAt.getTime()) / 1000)
      // Created here but started on the next tick (immediate: false): `running` holds the fiber
      // before the ingest can possibly end, so its end always finds it there.
      state.running.set(entry.id, runFork(Effect.interruptible(execute(entry)), { immediate: false }))
    })

  return { start }
}
