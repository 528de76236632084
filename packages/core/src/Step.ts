/**
 * A step is one side effect of an ingest, run inside the ingest's Scope:
 *
 *   1. its Action (what it is about to do) is appended to the journal,
 *   2. a finalizer is registered that, when the scope closes, undoes the action
 *      on failure or interruption and runs the action's commit cleanup on success,
 *   3. only then the effect runs.
 *
 * Registering the undo BEFORE acting (rather than after, as a plain
 * acquire/release would) is deliberate: a bulk request that fails half-way, or an
 * upload interrupted by Ctrl-C, still gets undone. Undo is idempotent, so undoing
 * something that never happened is harmless. Scope finalizers run in reverse
 * order of registration, which gives the reverse-order rollback.
 */
import { Context, Duration, Effect, Exit, Metric, MetricBoundaries, Ref, type Scope } from "effect"
import * as Action from "./Action.ts"
import { describe, type InternalError, type PublishError } from "./Errors.ts"
import { Journal } from "./Journal.ts"
import { Progress } from "./Progress.ts"
import { redact } from "./Redact.ts"
import * as Retry from "./Retry.ts"

/**
 * How long each completed step took, by action tag (label `action`), measured
 * where the step's span is. The server's /metrics shows it under this name,
 * which dashboards already query; a failed or interrupted step is not counted.
 */
export const duration = Metric.histogram(
  "hysds_stac_step_duration_seconds",
  MetricBoundaries.exponential({ start: 0.001, factor: 4, count: 10 }),
  "Duration of each completed side-effect step, by action (journal intent to completion)."
)

/**
 * What a step's spans say about it: names and ids only, never the data (no
 * documents, no item bodies). The summary can quote a location URL, so it is
 * redacted like every other message that leaves the process.
 */
const spanAttributes = (tx: string, step: number, action: Action.Action): Record<string, unknown> => ({
  "hysds_stac.tx": tx,
  "hysds_stac.step": step,
  "hysds_stac.action": action._tag,
  "hysds_stac.summary": redact(Action.summary(action)),
  ...("product" in action ? { "hysds_stac.product": action.product } : {}),
  ...("collection" in action ? { "hysds_stac.collection": action.collection } : {}),
  ...(action._tag === "RegisterCollection" ? { "hysds_stac.collection": action.id } : {})
})

export interface RollbackEntry {
  readonly step: number
  readonly summary: string
}

export interface RollbackReport {
  /** Steps undone, in the order they were undone (reverse of the order they ran). */
  readonly undone: ReadonlyArray<RollbackEntry>
  /** Steps whose undo failed even after retries: these need attention. */
  readonly failed: ReadonlyArray<RollbackEntry & { readonly error: string }>
}

export interface TransactionShape {
  readonly id: string
  readonly nextStep: Effect.Effect<number>
  readonly report: Ref.Ref<RollbackReport>
}

/** The ingest under way: its id (journal key) and what its rollback did. */
export class Transaction extends Context.Tag("@hysds-stac/core/Transaction")<Transaction, TransactionShape>() {}

export const makeTransaction = (id: string): Effect.Effect<TransactionShape> =>
  Effect.gen(function* () {
    const counter = yield* Ref.make(0)
    const report = yield* Ref.make<RollbackReport>({ undone: [], failed: [] })
    return { id, nextStep: Ref.updateAndGet(counter, (n) => n + 1), report }
  })

const message = (error: PublishError): string => describe(error)

const compensate = (tx: TransactionShape, step: number, action: Action.Action) =>
  Effect.gen(function* () {
    const journal = yield* Journal
    const progress = yield* Progress
    const summary = Action.summary(action)
    const outcome = yield* Retry.undo(Action.undo(action)).pipe(Effect.either)
    if (outcome._tag === "Right") {
      yield* Ref.update(tx.report, (r) => ({ ...r, undone: [...r.undone, { step, summary }] }))
      yield* progress.emit({ _tag: "StepUndone", step, summary })
      yield* journal.append({ _tag: "Undone", tx: tx.id, step }).pipe(Effect.ignoreLogged)
    } else {
      const error = message(outcome.left)
      yield* Effect.logError(`rollback of step ${step} (${summary}) failed: ${error}`)
      yield* Ref.update(tx.report, (r) => ({ ...r, failed: [...r.failed, { step, summary, error }] }))
      yield* progress.emit({ _tag: "UndoFailed", step, summary, error })
      yield* journal.append({ _tag: "UndoFailed", tx: tx.id, step, error }).pipe(Effect.ignoreLogged)
    }
  })

/** A failed commit cleanup loses nothing (the data is published); it is logged, not raised. */
const cleanup = (step: number, action: Action.Action) =>
  Retry.undo(Action.commit(action)).pipe(
    Effect.catchAll((e) => Effect.logWarning(`cleanup after step ${step} failed: ${message(e)}`))
  )

export const run = <A, E, R>(
  action: Action.Action,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<
  A,
  E | InternalError,
  R | Scope.Scope | Transaction | Journal | Progress | Action.ActionContext
> =>
  Effect.gen(function* () {
    const tx = yield* Transaction
    const journal = yield* Journal
    const progress = yield* Progress
    const step = yield* tx.nextStep
    const attributes = spanAttributes(tx.id, step, action)
    yield* Effect.annotateCurrentSpan(attributes)
    // The undo and the commit cleanup run when the scope closes, after this
    // step's span has ended; each gets its own span, a child of the step's.
    yield* Effect.acquireRelease(journal.append({ _tag: "Intent", tx: tx.id, step, action }), (_, exit) =>
      Exit.isSuccess(exit)
        ? cleanup(step, action).pipe(Effect.withSpan(`commit ${action._tag}`, { attributes }))
        : compensate(tx, step, action).pipe(Effect.withSpan(`undo ${action._tag}`, { attributes }))
    )
    yield* progress.emit({ _tag: "StepStarted", step, summary: Action.summary(action) })
    const [elapsed, result] = yield* Effect.timed(effect)
    yield* journal.append({ _tag: "Done", tx: tx.id, step })
    yield* Metric.update(Metric.tagged(duration, "action", action._tag), Duration.toSeconds(elapsed))
    return result
  }).pipe(Effect.withSpan(`step ${action._tag}`))
