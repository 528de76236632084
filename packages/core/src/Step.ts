/**
 * The mechanism every step runs through. The steps themselves (what each does,
 * undoes and commits, in which order) are declared in `steps/`; see
 * `steps/index.ts`. A step is one side effect of an ingest, run inside the
 * ingest's Scope:
 *
 *   1. its record (what it is about to do) is appended to the journal,
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
import type { FileSystem } from "@effect/platform"
import { Context, Duration, Effect, Exit, Metric, MetricBoundaries, Ref, Schema, type Scope } from "effect"
import type { Action } from "./Action.ts"
import { describe, type InternalError, type PublishError } from "./Errors.ts"
import type { FreshItems } from "./FreshItems.ts"
import type { GrqIndex } from "./GrqIndex.ts"
import { Journal } from "./Journal.ts"
import type { ObjectStore } from "./ObjectStore.ts"
import { Progress } from "./Progress.ts"
import { redact } from "./Redact.ts"
import * as Retry from "./Retry.ts"
import type { StacRegistry } from "./StacRegistry.ts"

/**
 * What a step's undo and commit may use: the backends, the job dir's files,
 * and what the transaction's other steps left to them (FreshItems).
 */
export type StepContext = ObjectStore | GrqIndex | StacRegistry | FileSystem.FileSystem | FreshItems

/**
 * What a step declares about its record, the data its journal Intent carries:
 * everything needed to undo it is known before it acts, so the in-process
 * rollback and a crash recovery reading the journal run the same `undo` on
 * the same data. Records are JSON on purpose (see JournalRecord).
 */
export interface Declaration<Tag extends string, Fields extends Schema.Struct.Fields> {
  /** The record's `_tag`: the step's name in the journal, spans and metrics. */
  readonly name: Tag
  /** The record as it is journaled (version 1 of JournalRecord's wire format). */
  readonly Schema: Schema.TaggedStruct<Tag, Fields>
  /** A record of this step; its fields first, then `_tag`, as the journal has always stored them. */
  readonly make: (fields: Omit<Schema.TaggedStruct<Tag, Fields>["Type"], "_tag">) => Schema.TaggedStruct<Tag, Fields>["Type"]
  /** One line a human reads in a rollback report or a journal listing. */
  readonly summary: (action: Schema.TaggedStruct<Tag, Fields>["Type"]) => string
  /**
   * Puts back the state from before the step. Idempotent and safe when the step
   * ran only partly (or not at all): it removes only what the record names and
   * restores only what it saved.
   */
  readonly undo: (action: Schema.TaggedStruct<Tag, Fields>["Type"]) => Effect.Effect<void, PublishError, StepContext>
  /** Cleanup once the whole ingest succeeded (markers, what --force kept aside). */
  readonly commit: (action: Schema.TaggedStruct<Tag, Fields>["Type"]) => Effect.Effect<void, PublishError, StepContext>
  /** Span attributes beyond the generic ones (names and ids only, never data). */
  readonly attributes?: (action: Schema.TaggedStruct<Tag, Fields>["Type"]) => Record<string, string>
}

/** Any step's declaration, for code that dispatches on a record's tag (Action.ts). */
export interface Any {
  readonly name: string
  readonly Schema: Schema.Schema<any, any, any>
  readonly summary: (action: any) => string
  readonly undo: (action: any) => Effect.Effect<void, PublishError, StepContext>
  readonly commit: (action: any) => Effect.Effect<void, PublishError, StepContext>
  readonly attributes?: ((action: any) => Record<string, string>) | undefined
}

/**
 * Declares a step: its record's schema is built from its name and fields, so the
 * two cannot disagree. In two calls because TypeScript, given the fields and the
 * functions taking the record in one object, loses the fields' type when one is
 * a `Schema.optionalWith`; the first call fixes it.
 */
export const declare =
  <const Tag extends string, Fields extends Schema.Struct.Fields>(name: Tag, fields: Fields) =>
  (step: {
    readonly summary: (action: Schema.TaggedStruct<Tag, Fields>["Type"]) => string
    readonly undo: (action: Schema.TaggedStruct<Tag, Fields>["Type"]) => Effect.Effect<void, PublishError, StepContext>
    readonly commit: (action: Schema.TaggedStruct<Tag, Fields>["Type"]) => Effect.Effect<void, PublishError, StepContext>
    readonly attributes?: (action: Schema.TaggedStruct<Tag, Fields>["Type"]) => Record<string, string>
  }): Declaration<Tag, Fields> => ({
    name,
    Schema: Schema.TaggedStruct(name, fields),
    // `_tag` last: the key order Data.taggedEnum gave, so a record's journal line is byte for byte what it was.
    make: (values) => ({ ...values, _tag: name }) as unknown as Schema.TaggedStruct<Tag, Fields>["Type"],
    summary: step.summary,
    undo: step.undo,
    commit: step.commit,
    ...(step.attributes ? { attributes: step.attributes } : {})
  })

/** A JSON object a step saves to put back on undo (a replaced collection, item or document). */
export const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * A request to GRQ or the STAC API runs to its answer even when the ingest is
 * interrupted: a server goes on with a request whose client went away, so an
 * undo sent before it finished could be overtaken by it. Requests are bounded by
 * their timeouts, so this only delays an interruption, never blocks it.
 */
export const settled = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.uninterruptible(effect)

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
const spanAttributes = <A extends Record<string, unknown>>(tx: string, step: number, declared: Any, action: A): Record<string, unknown> => ({
  "hysds_stac.tx": tx,
  "hysds_stac.step": step,
  "hysds_stac.action": declared.name,
  "hysds_stac.summary": redact(declared.summary(action)),
  ...(typeof action.product === "string" ? { "hysds_stac.product": action.product } : {}),
  ...(typeof action.collection === "string" ? { "hysds_stac.collection": action.collection } : {}),
  ...declared.attributes?.(action)
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

const compensate = (tx: TransactionShape, step: number, declared: Any, action: unknown) =>
  Effect.gen(function* () {
    const journal = yield* Journal
    const progress = yield* Progress
    const summary = declared.summary(action)
    const outcome = yield* Retry.undo(declared.undo(action)).pipe(Effect.either)
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
const cleanup = (step: number, declared: Any, action: unknown) =>
  Retry.undo(declared.commit(action)).pipe(
    Effect.catchAll((e) => Effect.logWarning(`cleanup after step ${step} failed: ${message(e)}`))
  )

/** A record maker for a record given as a value; made outside `run` for the reason `release` is. */
const constant =
  <A>(a: A) =>
  () =>
    a

/**
 * The step's finalizer: its undo on failure or interruption, its commit
 * cleanup on success. Made here, outside `run`, so that it closes over the
 * record maker only: a closure made inside `run` would keep `run`'s whole
 * scope alive until the ingest ends, the step's effect with it, and through
 * that effect every item and document the step sent (seen: the heap of a
 * 10,000-item ingest grew by the items' and documents' size).
 */
const release =
  (tx: TransactionShape, step: number, declared: Any, record: () => unknown, attributes: Record<string, unknown>) =>
  (_: void, exit: Exit.Exit<unknown, unknown>) =>
    Exit.isSuccess(exit)
      ? Effect.suspend(() => cleanup(step, declared, record())).pipe(Effect.withSpan(`commit ${declared.name}`, { attributes }))
      : Effect.suspend(() => compensate(tx, step, declared, record())).pipe(Effect.withSpan(`undo ${declared.name}`, { attributes }))

/**
 * Runs one step: `declared` is the step (steps/<Name>.ts), `action` its record
 * for this run, `effect` the work. The same three calls as ever: Intent, the
 * exit-aware release, Done.
 *
 * `action` may be given as a function making the record: it is then made once
 * for the journal and again for the undo or commit, rather than held until the
 * ingest's scope closes. A large ingest has a step per batch, each naming its
 * objects; holding every record would make memory grow with the catalog.
 * Make such a function where the batch's data is out of reach (a function of
 * its own, not a closure in the generator holding the data): a closure keeps
 * its whole enclosing scope alive, and this one lives until the ingest ends.
 */
export const run = <Tag extends string, Fields extends Schema.Struct.Fields, A, E, R>(
  declared: Declaration<Tag, Fields>,
  action: Schema.TaggedStruct<Tag, Fields>["Type"] | (() => Schema.TaggedStruct<Tag, Fields>["Type"]),
  effect: Effect.Effect<A, E, R>
): Effect.Effect<
  A,
  E | InternalError,
  R | Scope.Scope | Transaction | Journal | Progress | StepContext
> =>
  Effect.gen(function* () {
    const tx = yield* Transaction
    const journal = yield* Journal
    const progress = yield* Progress
    const step = yield* tx.nextStep
    const record = typeof action === "function" ? action : constant(action)
    const first = record()
    // The dispatch below is by the declaration in hand, not by looking the tag up.
    const generic: Any = declared
    const attributes = spanAttributes(tx.id, step, generic, first)
    yield* Effect.annotateCurrentSpan(attributes)
    // The undo and the commit cleanup run when the scope closes, after this
    // step's span has ended; each gets its own span, a child of the step's.
    yield* Effect.acquireRelease(journal.append({ _tag: "Intent", tx: tx.id, step, action: first as unknown as Action }), release(tx, step, generic, record, attributes))
    yield* progress.emit({ _tag: "StepStarted", step, summary: declared.summary(first), name: declared.name })
    const [elapsed, result] = yield* Effect.timed(effect)
    yield* journal.append({ _tag: "Done", tx: tx.id, step })
    yield* Metric.update(Metric.tagged(duration, "action", declared.name), Duration.toSeconds(elapsed))
    return result
  }).pipe(Effect.withSpan(`step ${declared.name}`))
