/**
 * The ingests of this process: a bounded set running core's `Ingest.run`, a
 * FIFO queue in front of it, and the records GET /v1/ingests reads.
 *
 * - Admission is decided synchronously when a request arrives (free slot: run
 *   now; else room in the queue: wait; else 429), so concurrent requests can
 *   never overfill the queue.
 * - Each ingest runs in a fiber of its own, not in the request's: a client
 *   that hangs up (or times out on `?wait=true`) does not cancel the ingest;
 *   it can follow it by id.
 * - The ingest id is also core's transaction id, so the server's records, its
 *   logs and the journal (`hysds-stac journal show <id>`) name the same thing.
 * - `drain` is the SIGTERM path: take nothing new, drop what only waits
 *   (nothing of it happened), let what runs finish for the grace period, then
 *   interrupt it. Interrupting makes core roll the ingest back, and core's
 *   rollback is uninterruptible, so awaiting the interrupted fiber awaits a
 *   complete rollback: nothing is left half-done when `drain` returns.
 */
import type { FileSystem, Path } from "@effect/platform"
import type { GrqIndex, Journal, ObjectStore, StacRegistry } from "@hysds-stac/core"
import { Liveness } from "@hysds-stac/adapters"
import { Ingest } from "@hysds-stac/core"
import { Cause, Context, Deferred, Duration, Effect, Exit, Fiber, FiberId, FiberSet, Layer, Metric, Option } from "effect"
import * as os from "node:os"
import { IngestInProgress, NotFound, QueueFull, ShuttingDown } from "./ApiErrors.ts"
import type { IngestRequest, IngestState, IngestStatus } from "./ApiSchemas.ts"
import * as IngestProgress from "./IngestProgress.ts"
import * as IngestRecord from "./IngestRecord.ts"
import * as Metrics from "./Metrics.ts"
import { Redactor } from "./Redactor.ts"
import * as RequestInput from "./RequestInput.ts"
import { ServerConfig } from "./ServerConfig.ts"

export interface Submission {
  readonly request: IngestRequest
  /** The job dir's real path, already checked against the allowed roots. */
  readonly jobDir: string
  readonly requestId?: string
}

export interface IngestsShape {
  readonly submit: (submission: Submission) => Effect.Effect<IngestStatus, QueueFull | ShuttingDown | IngestInProgress>
  readonly status: (id: string) => Effect.Effect<Option.Option<IngestStatus>>
  /** Newest first. */
  readonly list: (state?: IngestState) => Effect.Effect<ReadonlyArray<IngestStatus>>
  /** The final status, once the ingest has ended. */
  readonly awaitEnd: (id: string) => Effect.Effect<IngestStatus, NotFound>
  readonly counts: () => { readonly running: number; readonly queued: number }
  readonly isDraining: () => boolean
  /** Whether this process runs transaction `tx` now (for Liveness.isAlive). */
  readonly runsHere: (tx: string) => boolean
  readonly drain: (grace: Duration.DurationInput) => Effect.Effect<void>
}

export class Ingests extends Context.Tag("@hysds-stac/server/Ingests")<Ingests, IngestsShape>() {}

/** What an ingest needs besides its Progress, provided once for all of them. */
export type Requirements =
  | ObjectStore.ObjectStore
  | GrqIndex.GrqIndex
  | StacRegistry.StacRegistry
  | Journal.Journal
  | FileSystem.FileSystem
  | Path.Path

/** The ingest id is core's transaction id, so `hysds-stac journal show <id>` finds the same ingest. */
export const newId = (now: Date = new Date()): string => Ingest.newTxId(now)

/** Items or documents per registry/index request: the CLI's value. */
const BATCH_SIZE = 500

export const make = Effect.gen(function* () {
  const config = yield* ServerConfig
  const redactor = yield* Redactor
  const context = yield* Effect.context<Requirements>()
  // Forks into a set owned by this layer's scope: a root fiber per ingest, detached from the request.
  const runFork = yield* FiberSet.makeRuntime<never, void, never>()

  /** Every known ingest, oldest first (a Map keeps insertion order). */
  const entries = new Map<string, IngestRecord.Entry>()
  const queue: Array<IngestRecord.Entry> = []
  const running = new Map<string, Fiber.RuntimeFiber<void, never>>()
  /** Job dir (real path) -> the ingest queued or running on it (dry runs excluded: they touch nothing). */
  const byJobDir = new Map<string, string>()
  let accepting = true

  const view = (entry: IngestRecord.Entry): IngestStatus => {
    const position = entry.state === "queued" ? queue.indexOf(entry) + 1 : 0
    return IngestRecord.toStatus(entry, redactor, position > 0 ? position : undefined)
  }

  const gauges = Effect.suspend(() => Effect.zipRight(Metric.set(Metrics.running, running.size), Metric.set(Metrics.queued, queue.length)))

  const isAlive = Liveness.isAlive((tx) => running.has(tx))

  /** Log fields of every line about an ingest: its id, and the request that submitted it. */
  const annotations = (entry: IngestRecord.Entry) => ({ ingestId: entry.id, ...(entry.requestId ? { requestId: entry.requestId } : {}) })

  const forget = () => {
    let finished = 0
    for (const e of entries.values()) if (IngestRecord.isFinal(e.state)) finished++
    for (const [id, e] of entries) {
      if (finished <= config.history) break
      if (IngestRecord.isFinal(e.state)) {
        entries.delete(id)
        finished--
      }
    }
  }

  /** Records the end, publishes it to waiters and metrics, and starts what waits. */
  const finish = (entry: IngestRecord.Entry, exit: Exit.Exit<Ingest.IngestResult, Ingest.IngestFailed>) =>
    Effect.gen(function* () {
      if (Exit.isSuccess(exit)) {
        IngestRecord.settle(entry, { _tag: "Succeeded", result: exit.value })
      } else {
        const failure = Cause.failureOption(exit.cause)
        if (Option.isSome(failure)) {
          IngestRecord.settle(entry, { _tag: "Failed", error: IngestRecord.errorInfo(failure.value.error, redactor), rollback: failure.value.rollback })
        } else if (Cause.isInterruptedOnly(exit.cause)) {
          const undone = entry.undone.length
          IngestRecord.settle(entry, {
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
        } else {
          yield* Effect.logError("ingest died: a bug in hysds-stac", exit.cause)
          IngestRecord.settle(entry, {
            _tag: "Failed",
            error: IngestRecord.otherError("internal", `internal error in ingest ${entry.id}; the server log has the details`)
          })
        }
      }
      running.delete(entry.id)
      if (byJobDir.get(entry.jobDir) === entry.id) byJobDir.delete(entry.jobDir)
      const status = view(entry)
      yield* record(entry, status)
      yield* Deferred.succeed(entry.done, status)
      forget()
      while (accepting && running.size < config.maxConcurrent && queue.length > 0) yield* start(queue.shift()!)
      yield* gauges
    })

  const record = (entry: IngestRecord.Entry, status: IngestStatus) =>
    Effect.gen(function* () {
      const dryRun = String(entry.request.dryRun)
      yield* Metric.increment(Metric.tagged(Metric.tagged(Metrics.ingests, "outcome", status.state), "dry_run", dryRun))
      if (entry.startedAt) {
        const seconds = ((entry.finishedAt ?? new Date()).getTime() - entry.startedAt.getTime()) / 1000
        yield* Metric.update(Metric.tagged(Metrics.ingestDuration, "outcome", status.state), seconds)
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

  const execute = (entry: IngestRecord.Entry): Effect.Effect<void> =>
    Effect.gen(function* () {
      yield* Effect.logInfo("ingest started").pipe(Effect.annotateLogs({ jobDir: RequestInput.verbatim(entry.jobDir), force: entry.request.force, dryRun: entry.request.dryRun }))
      yield* Ingest.run({
        jobDir: entry.jobDir,
        datasetsFile: config.datasetsFile,
        force: entry.request.force,
        dryRun: entry.request.dryRun,
        stac: config.stac && !entry.request.noStac,
        concurrency: config.fileConcurrency,
        batchSize: BATCH_SIZE,
        hostname: os.hostname(),
        env: process.env,
        owner: Liveness.thisProcess(),
        isAlive,
        recoverEarlier: true,
        tx: entry.id
      }).pipe(
        IngestProgress.service(entry),
        Effect.provide(context),
        Effect.onExit((exit) => finish(entry, exit)),
        Effect.ignore
      )
    }).pipe(Effect.annotateLogs(annotations(entry)))

  const start = (entry: IngestRecord.Entry) =>
    Effect.gen(function* () {
      entry.state = "running"
      entry.phase = "planning"
      entry.startedAt = new Date()
      yield* Metric.update(Metrics.queueWait, (entry.startedAt.getTime() - entry.createdAt.getTime()) / 1000)
      // Created here but started on the next tick (immediate: false): `running` holds the fiber
      // before the ingest can possibly end, so its end always finds it there.
      running.set(entry.id, runFork(Effect.interruptible(execute(entry)), { immediate: false }))
    })

  /** An ingest that never started is dropped at shutdown: nothing of it happened. */
  const cancel = (entry: IngestRecord.Entry) =>
    Effect.gen(function* () {
      IngestRecord.settle(entry, {
        _tag: "Failed",
        error: IngestRecord.otherError("interrupted", "the server shut down before this ingest started; nothing was published", "submit it again")
      })
      if (byJobDir.get(entry.jobDir) === entry.id) byJobDir.delete(entry.jobDir)
      const status = view(entry)
      yield* record(entry, status)
      yield* Deferred.succeed(entry.done, status)
    })

  const submit: IngestsShape["submit"] = (submission) =>
    Effect.gen(function* () {
      if (!accepting) {
        yield* Metrics.reject("shutting_down")
        return yield* new ShuttingDown({ message: "the server is shutting down and takes no new ingest; submit it to another instance" })
      }
      const dryRun = submission.request.dryRun ?? false
      const active = dryRun ? undefined : byJobDir.get(submission.jobDir)
      if (active !== undefined) {
        yield* Metrics.reject("in_progress")
        return yield* new IngestInProgress({ id: active, message: `this job dir is already being ingested (ingest ${active}); follow it with GET /v1/ingests/${active}` })
      }
      if (running.size >= config.maxConcurrent && queue.length >= config.queueLength) {
        yield* Metrics.reject("queue_full")
        return yield* new QueueFull({
          message: `${running.size} ingest(s) running and ${queue.length} queued, the limit: retry later`,
          running: running.size,
          queued: queue.length
        })
      }
      const entry = IngestRecord.make({
        id: newId(),
        request: { jobDir: submission.request.jobDir, force: submission.request.force ?? false, dryRun, noStac: submission.request.noStac ?? false },
        jobDir: submission.jobDir,
        ...(submission.requestId ? { requestId: submission.requestId } : {}),
        done: Deferred.unsafeMake<IngestStatus>(FiberId.none)
      })
      entries.set(entry.id, entry)
      if (!dryRun) byJobDir.set(entry.jobDir, entry.id)
      if (running.size < config.maxConcurrent) yield* start(entry)
      else queue.push(entry)
      yield* gauges
      yield* Effect.logInfo(entry.state === "queued" ? "ingest queued" : "ingest accepted").pipe(
        Effect.annotateLogs({ ingestId: entry.id, jobDir: RequestInput.verbatim(entry.jobDir), queued: queue.length })
      )
      return view(entry)
    }).pipe(Effect.uninterruptible)

  const drain: IngestsShape["drain"] = (grace) =>
    Effect.gen(function* () {
      accepting = false
      const waiting = queue.splice(0, queue.length)
      yield* Effect.logInfo("draining: no new ingests").pipe(
        Effect.annotateLogs({ running: running.size, cancelledQueued: waiting.length, graceMs: Duration.toMillis(grace) })
      )
      for (const entry of waiting) yield* cancel(entry)
      yield* gauges
      const fibers = [...running.values()]
      if (fibers.length === 0) return
      // The wait must be interruptible for the timeout to end it: drain runs as a finalizer,
      // where everything is uninterruptible, and a race cannot stop an uninterruptible loser.
      const finished = yield* Fiber.awaitAll(fibers).pipe(Effect.interruptible, Effect.timeout(grace), Effect.option)
      if (Option.isSome(finished)) return yield* Effect.logInfo("drained: every running ingest ended within the grace period")
      const left = [...running.values()]
      yield* Effect.logWarning("grace period over: interrupting running ingests, which roll back").pipe(Effect.annotateLogs({ running: left.length }))
      // Returns once each fiber has ended, i.e. once its (uninterruptible) rollback is complete.
      yield* Fiber.interruptAll(left)
      yield* Effect.logInfo("drained: interrupted ingests rolled back")
    }).pipe(Effect.uninterruptible)

  return Ingests.of({
    submit,
    status: (id) => Effect.sync(() => Option.map(Option.fromNullable(entries.get(id)), view)),
    list: (state) =>
      Effect.sync(() =>
        [...entries.values()]
          .reverse()
          .filter((e) => state === undefined || e.state === state)
          .map(view)
      ),
    awaitEnd: (id) =>
      Effect.suspend(() => {
        const entry = entries.get(id)
        return entry ? Deferred.await(entry.done) : Effect.fail(new NotFound({ message: `no ingest ${id}` }))
      }),
    counts: () => ({ running: running.size, queued: queue.length }),
    isDraining: () => !accepting,
    runsHere: (tx) => running.has(tx),
    drain
  })
})

export const layer = Layer.scoped(Ingests, make)
