/**
 * The ingests of this process: a bounded set running core's `Ingest.run`, a
 * FIFO queue in front of it, and the records GET /v1/ingests reads. This
 * module is the service (its Tag, shape and layer); each concern lives in
 * queue/, one file each:
 *
 * - queue/State.ts      what the parts share, and the API's view of a record
 * - queue/Admission.ts  a request admitted, queued or refused, synchronously
 * - queue/Slots.ts      running one ingest in its own fiber; a freed slot goes to the queue
 * - queue/Outcome.ts    an ended ingest's record settled, then metrics, log and waiters told
 * - queue/History.ts    status, listing, waiting for the end, bounded history
 * - queue/Drain.ts      shutdown: nothing new, drop the queue, grace, then interrupt (rollback)
 *
 * The ingest id is also core's transaction id, so the server's records, its
 * logs and the journal (`hysds-stac journal show <id>`) name the same thing.
 */
import { Context, type Duration, Effect, FiberSet, Layer, type Option } from "effect"
import type { IngestInProgress, NotFound, QueueFull, ShuttingDown } from "./ApiErrors.ts"
import type { IngestState, IngestStatus } from "./ApiSchemas.ts"
import * as Admission from "./queue/Admission.ts"
import * as Drain from "./queue/Drain.ts"
import * as History from "./queue/History.ts"
import * as Slots from "./queue/Slots.ts"
import * as State from "./queue/State.ts"
import { SecretMask } from "./SecretMask.ts"
import { ServerConfig } from "./ServerConfig.ts"

export type Submission = Admission.Submission
export type Requirements = Slots.Requirements
export const newId = Admission.newId

export interface IngestQueueShape {
  readonly submit: (submission: Submission) => Effect.Effect<IngestStatus, QueueFull | ShuttingDown | IngestInProgress>
  readonly status: (id: string) => Effect.Effect<Option.Option<IngestStatus>>
  /** Newest first. */
  readonly list: (state?: IngestState) => Effect.Effect<ReadonlyArray<IngestStatus>>
  /** The final status, once the ingest has ended. */
  readonly awaitEnd: (id: string) => Effect.Effect<IngestStatus, NotFound>
  readonly counts: () => { readonly running: number; readonly queued: number }
  readonly isDraining: () => boolean
  /** Whether this process runs transaction `tx` now. */
  readonly runsHere: (tx: string) => boolean
  readonly drain: (grace: Duration.DurationInput) => Effect.Effect<void>
}

export class IngestQueue extends Context.Tag("@hysds-stac/server/IngestQueue")<IngestQueue, IngestQueueShape>() {}

export const make = Effect.gen(function* () {
  const state = State.make(yield* ServerConfig, yield* SecretMask)
  const context = yield* Effect.context<Requirements>()
  // Forks into a set owned by this layer's scope: a root fiber per ingest, detached from the request.
  const runFork = yield* FiberSet.makeRuntime<never, void, never>()
  const slots = Slots.make(state, context, runFork)
  return IngestQueue.of({
    submit: (submission) => Admission.submit(state, slots, submission),
    status: (id) => History.status(state, id),
    list: (filter) => History.list(state, filter),
    awaitEnd: (id) => History.awaitEnd(state, id),
    counts: () => ({ running: state.running.size, queued: state.queue.length }),
    isDraining: () => !state.accepting,
    runsHere: (tx) => state.running.has(tx),
    drain: (grace) => Drain.drain(state, grace)
  })
})

export const layer = Layer.scoped(IngestQueue, make)
