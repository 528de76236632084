/**
 * What the ingest queue's parts share: every known ingest, the FIFO of those
 * waiting for a slot, the fibers of those running, and which job dir is busy.
 *
 * Plain mutable structures, not Refs: every change happens synchronously
 * inside one uninterruptible Effect (admission, an ingest's end, drain), so
 * no two changes interleave, and the counts an admission decision reads are
 * the counts it acts on.
 */
import { Effect, type Fiber, Metric } from "effect"
import type { IngestStatus } from "../ApiSchemas.ts"
import * as IngestRecord from "../IngestRecord.ts"
import * as Metrics from "../Metrics.ts"
import type { SecretMaskShape } from "../SecretMask.ts"
import type { Config } from "../ServerConfig.ts"

export interface State {
  readonly config: Config
  readonly mask: SecretMaskShape
  /** Every known ingest, oldest first (a Map keeps insertion order). */
  readonly entries: Map<string, IngestRecord.Entry>
  readonly queue: Array<IngestRecord.Entry>
  readonly running: Map<string, Fiber.RuntimeFiber<void, never>>
  /** Job dir (real path) -> the ingest queued or running on it (dry runs excluded: they touch nothing). */
  readonly byJobDir: Map<string, string>
  /** False once drain began: nothing new is admitted or started. */
  accepting: boolean
}

export const make = (config: Config, mask: SecretMaskShape): State => ({
  config,
  mask,
  entries: new Map(),
  queue: [],
  running: new Map(),
  byJobDir: new Map(),
  accepting: true
})

/** The API's view of an ingest; a queued one says its place in the queue. */
export const view = (state: State, entry: IngestRecord.Entry): IngestStatus => {
  const position = entry.state === "queued" ? state.queue.indexOf(entry) + 1 : 0
  return IngestRecord.toStatus(entry, state.mask, position > 0 ? position : undefined)
}

/** The running and queued gauges, set from the structures whenever they change. */
export const gauges = (state: State) =>
  Effect.suspend(() => Effect.zipRight(Metric.set(Metrics.running, state.running.size), Metric.set(Metrics.queued, state.queue.length)))

/** The job dir is free again once its ingest ended or was dropped (and only if that ingest held it). */
export const releaseJobDir = (state: State, entry: IngestRecord.Entry): void => {
  if (state.byJobDir.get(entry.jobDir) === entry.id) state.byJobDir.delete(entry.jobDir)
}

/** Log fields of every line about an ingest: its id, and the request that submitted it. */
export const annotations = (entry: IngestRecord.Entry) => ({ ingestId: entry.id, ...(entry.requestId ? { requestId: entry.requestId } : {}) })
