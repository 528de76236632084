/**
 * Admission: a request is decided synchronously when it arrives, in one
 * uninterruptible step, so concurrent requests can never overfill the queue:
 * draining -> 503; the same job dir queued or running -> 409 naming that
 * ingest (two ingests of one job dir would race on its products); a free slot
 * -> run now; room in the queue -> wait; else 429.
 */
import { Ingest } from "@hysds-stac/core"
import { Deferred, Effect, FiberId } from "effect"
import { IngestInProgress, QueueFull, ShuttingDown } from "../ApiErrors.ts"
import type { IngestRequest, IngestStatus } from "../ApiSchemas.ts"
import * as IngestRecord from "../IngestRecord.ts"
import * as Metrics from "../Metrics.ts"
import * as RequestInput from "../RequestInput.ts"
import type { Slots } from "./Slots.ts"
import { type State, gauges, view } from "./State.ts"

export interface Submission {
  readonly request: IngestRequest
  /** The job dir's real path, already checked against the allowed roots. */
  readonly jobDir: string
  readonly requestId?: string
}

/** The ingest id is core's transaction id, so `hysds-stac journal show <id>` finds the same ingest. */
export const newId = (now: Date = new Date()): string => Ingest.newTxId(now)

export const submit = (
  state: State,
  slots: Slots,
  submission: Submission
): Effect.Effect<IngestStatus, QueueFull | ShuttingDown | IngestInProgress> =>
  Effect.gen(function* () {
    const { config, queue, running } = state
    if (!state.accepting) {
      yield* Metrics.reject("shutting_down")
      return yield* new ShuttingDown({ message: "the server is shutting down and takes no new ingest; submit it to another instance" })
    }
    const dryRun = submission.request.dryRun ?? false
    const active = dryRun ? undefined : state.byJobDir.get(submission.jobDir)
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
    state.entries.set(entry.id, entry)
    if (!dryRun) state.byJobDir.set(entry.jobDir, entry.id)
    if (running.size < config.maxConcurrent) yield* slots.start(entry)
    else queue.push(entry)
    yield* gauges(state)
    yield* Effect.logInfo(entry.state === "queued" ? "ingest queued" : "ingest accepted").pipe(
      Effect.annotateLogs({ ingestId: entry.id, jobDir: RequestInput.verbatim(entry.jobDir), queued: queue.length })
    )
    return view(state, entry)
  }).pipe(Effect.uninterruptible)
