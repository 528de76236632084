/**
 * What the server knows about one ingest while it is queued, runs and after it
 * ended: a small mutable record owned by the IngestQueue service (one writer: the
 * ingest's own fiber, through IngestProgress and `finish`), turned into the
 * immutable `IngestStatus` of the API on every read.
 *
 * How an ended ingest is named, from core's outcome:
 * - succeeded: `Ingest.run` returned a result;
 * - rolled_back: it failed or was interrupted after at least one step, and
 *   every step was undone;
 * - failed: it failed before any step (nothing was published), or some undo
 *   failed (then `rollback.complete` is false and `rollback.failed` says what).
 */
import type { Errors, Ingest } from "@hysds-stac/core"
import type { Deferred } from "effect"
import type { ErrorCategory, ErrorInfo, IngestState, Rollback } from "./ApiSchemas.ts"
import { IngestStatus } from "./ApiSchemas.ts"
import type { SecretMaskShape } from "./SecretMask.ts"

/** The request as submitted, defaults filled in. */
export interface Request {
  readonly jobDir: string
  readonly force: boolean
  readonly dryRun: boolean
  readonly noStac: boolean
}

export interface Counter {
  done: number
  total?: number
}

export interface Entry {
  readonly id: string
  readonly request: Request
  /** Real path of the job dir: what is ingested. */
  readonly jobDir: string
  readonly requestId?: string
  readonly createdAt: Date
  state: IngestState
  phase?: "planning" | "publishing" | "rolling_back"
  startedAt?: Date
  finishedAt?: Date
  readonly progress: {
    products: Counter
    files: Counter
    bytes: Counter
    items: Counter
    documents: Counter
    steps: number
  }
  readonly undone: Array<{ step: number; summary: string }>
  readonly undoFailed: Array<{ step: number; summary: string; error: string }>
  result?: Ingest.IngestResult
  error?: ErrorInfo
  /** Completed with the final status when the ingest has ended (for `?wait=true`). */
  readonly done: Deferred.Deferred<IngestStatus>
}

export const make = (options: {
  readonly id: string
  readonly request: Request
  readonly jobDir: string
  readonly requestId?: string
  readonly done: Deferred.Deferred<IngestStatus>
}): Entry => ({
  ...options,
  createdAt: new Date(),
  state: "queued",
  progress: {
    products: { done: 0 },
    files: { done: 0 },
    bytes: { done: 0 },
    items: { done: 0 },
    documents: { done: 0 },
    steps: 0
  },
  undone: [],
  undoFailed: []
})

export const isFinal = (state: IngestState): boolean => state === "succeeded" || state === "failed" || state === "rolled_back"

/** core's error as the API shows it: category, message, hint, problems; no cause, no stack, redacted. */
export const errorInfo = (error: Errors.PublishError, mask: SecretMaskShape): ErrorInfo => {
  const info: ErrorInfo = {
    category: error.category,
    message: error.message,
    ...("hint" in error && error.hint ? { hint: error.hint } : {}),
    ...(error._tag === "ValidationError" && error.problems.length > 0 ? { problems: error.problems } : {})
  }
  return mask.deep(info) as ErrorInfo
}

export const otherError = (category: ErrorCategory, message: string, hint?: string): ErrorInfo => ({
  category,
  message,
  ...(hint ? { hint } : {})
})

/** Records how the ingest ended. Rollback lists come from the progress events seen. */
export const settle = (
  entry: Entry,
  outcome:
    | { readonly _tag: "Succeeded"; readonly result: Ingest.IngestResult }
    | { readonly _tag: "Failed"; readonly error: ErrorInfo; readonly rollback?: Ingest.IngestFailed["rollback"] }
) => {
  entry.finishedAt = new Date()
  delete entry.phase
  if (outcome._tag === "Succeeded") {
    entry.result = outcome.result
    entry.state = "succeeded"
    const t = outcome.result.totals
    // Planned totals do not include documents; the result does.
    entry.progress.documents.total = t.documents
    if (!outcome.result.dryRun) entry.progress.products.done = t.products
    return
  }
  entry.error = outcome.error
  if (outcome.rollback) {
    // The report is authoritative when core gave one; the events said the same, as they came.
    entry.undone.splice(0, entry.undone.length, ...outcome.rollback.undone)
    entry.undoFailed.splice(0, entry.undoFailed.length, ...outcome.rollback.failed)
  }
  entry.state = entry.undoFailed.length === 0 && entry.undone.length > 0 ? "rolled_back" : "failed"
}

const rollbackOf = (entry: Entry): Rollback | undefined =>
  entry.undone.length === 0 && entry.undoFailed.length === 0
    ? undefined
    : { complete: entry.undoFailed.length === 0, undone: [...entry.undone], failed: [...entry.undoFailed] }

const counter = (c: Counter) => ({ done: c.done, ...(c.total !== undefined ? { total: c.total } : {}) })

/** The API's view of `entry`; `queuePosition` is given by the service (it owns the queue). */
export const toStatus = (entry: Entry, mask: SecretMaskShape, queuePosition?: number): IngestStatus => {
  const rollback = rollbackOf(entry)
  const p = entry.progress
  return new IngestStatus({
    id: entry.id,
    state: entry.state,
    ...(entry.phase ? { phase: entry.phase } : {}),
    // Request input (and the real path it names) as submitted, never redacted: see RequestInput.ts.
    request: { ...entry.request },
    jobDir: entry.jobDir,
    createdAt: entry.createdAt.toISOString(),
    ...(entry.startedAt ? { startedAt: entry.startedAt.toISOString() } : {}),
    ...(entry.finishedAt ? { finishedAt: entry.finishedAt.toISOString() } : {}),
    ...(queuePosition !== undefined ? { queuePosition } : {}),
    progress: {
      products: counter(p.products),
      files: counter(p.files),
      bytes: counter(p.bytes),
      items: counter(p.items),
      documents: counter(p.documents),
      steps: p.steps
    },
    ...(entry.result ? { result: mask.deep(entry.result) as IngestStatus["result"] & object } : {}),
    ...(entry.error ? { error: entry.error } : {}),
    ...(rollback ? { rollback: mask.deep(rollback) as Rollback } : {})
  })
}

/** The message a failed ingest is summed up by, for logs and awaited responses. */
export const describe = (status: IngestStatus): string =>
  status.state === "succeeded"
    ? `ingest ${status.id} succeeded`
    : `ingest ${status.id} ${status.state === "rolled_back" ? "was rolled back" : "failed"}: ${status.error?.message ?? "unknown error"}`

