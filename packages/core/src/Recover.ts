/**
 * Finishing what a dead process left unfinished, from its journal alone. A
 * transaction with a `Commit` record is rolled forward (the commit cleanup of
 * every step: markers and backups dropped); one without is rolled back (every
 * step's undo, newest first, skipping steps whose undo was already recorded).
 * Both are idempotent, so recovery itself may crash and be run again. Each
 * record's undo and commit are its step's (steps/), found by tag (Action.ts).
 */
import { Effect } from "effect"
import * as Action from "./Action.ts"
import { ConflictError, describe, type PublishError } from "./Errors.ts"
import { Journal, type JournalRecord, type TxSummary } from "./Journal.ts"
import { Progress } from "./Progress.ts"
import type { RollbackEntry } from "./Step.ts"
import * as Retry from "./Retry.ts"

export interface Recovered {
  readonly tx: string
  readonly outcome: "rolled-back" | "rolled-forward" | "incomplete" | "nothing-to-do"
  readonly undone: ReadonlyArray<RollbackEntry>
  readonly failed: ReadonlyArray<RollbackEntry & { readonly error: string }>
}

type Begin = Extract<JournalRecord, { _tag: "Begin" }>

/** Unfinished: neither committed nor fully aborted. */
export const isOpen = (t: TxSummary): boolean => t.state === "running" || t.state === "committing" || t.state === "abort-incomplete"

/** Recovers one transaction. A failure to undo a step is reported, never thrown: the others still run. */
export const transaction = (tx: string) =>
  Effect.gen(function* () {
    const journal = yield* Journal
    const progress = yield* Progress
    const records = yield* journal.records(tx)
    const intents = records.flatMap((r) => (r._tag === "Intent" ? [r] : []))
    const alreadyUndone = new Set(records.flatMap((r) => (r._tag === "Undone" ? [r.step] : [])))
    const committing = records.some((r) => r._tag === "Commit")
    const ended = records.findLast((r) => r._tag === "End")
    if (ended?._tag === "End" && ended.outcome !== "abort-incomplete") {
      return { tx, outcome: "nothing-to-do", undone: [], failed: [] } satisfies Recovered
    }
    const undone: Array<RollbackEntry> = []
    const failed: Array<RollbackEntry & { error: string }> = []
    if (committing) {
      for (const i of intents) {
        const outcome = yield* Effect.either(Retry.undo(Action.commit(i.action)))
        if (outcome._tag === "Left") failed.push({ step: i.step, summary: Action.summary(i.action), error: describe(outcome.left) })
      }
    } else {
      for (const i of [...intents].reverse()) {
        if (alreadyUndone.has(i.step)) continue
        const summary = Action.summary(i.action)
        const outcome = yield* Effect.either(Retry.undo(Action.undo(i.action)))
        if (outcome._tag === "Right") {
          undone.push({ step: i.step, summary })
          yield* journal.append({ _tag: "Undone", tx, step: i.step })
          yield* progress.emit({ _tag: "StepUndone", step: i.step, summary })
        } else {
          const error = describe(outcome.left as PublishError)
          failed.push({ step: i.step, summary, error })
          yield* journal.append({ _tag: "UndoFailed", tx, step: i.step, error })
          yield* progress.emit({ _tag: "UndoFailed", step: i.step, summary, error })
        }
      }
    }
    const outcome = failed.length > 0 ? "abort-incomplete" : committing ? "committed" : "aborted"
    yield* journal.append({ _tag: "End", tx, at: new Date().toISOString(), outcome })
    return {
      tx,
      outcome: failed.length > 0 ? "incomplete" : committing ? "rolled-forward" : "rolled-back",
      undone,
      failed
    } satisfies Recovered
  })

/** Who started a transaction: what a liveness check gets to decide by. */
export type Owner = Pick<Begin, "tx" | "host" | "pid">

export interface RecoverOptions {
  /**
   * Whether a transaction's process still runs (same host and a live pid). It gets
   * the transaction id too: a server running several ingests in one process
   * tells its own live transactions from dead ones by id.
   */
  readonly isAlive: (owner: Owner) => boolean
}

/** Recovers every open transaction whose process is gone; live ones are left to finish. */
export const all = (options: RecoverOptions) =>
  Effect.gen(function* () {
    const journal = yield* Journal
    const open = (yield* journal.transactions()).filter(isOpen)
    const results: Array<Recovered> = []
    for (const t of open) {
      if (t.begin && options.isAlive(t.begin)) continue
      results.push(yield* transaction(t.tx))
    }
    return results
  })

/**
 * Before an ingest: an unfinished earlier attempt at one of `products` is
 * recovered (or, with `recover: false`, refused), and one still running in a
 * live process is a conflict: two ingests of a product never interleave.
 */
export const earlierAttempts = (
  products: ReadonlyArray<string>,
  options: RecoverOptions & { readonly recover: boolean }
) =>
  Effect.gen(function* () {
    const journal = yield* Journal
    const wanted = new Set(products)
    const open = (yield* journal.transactions()).filter(
      (t): t is TxSummary & { begin: Begin } => isOpen(t) && t.begin !== undefined && t.begin.products.some((p) => wanted.has(p))
    )
    for (const t of open) {
      const product = t.begin.products.find((p) => wanted.has(p))!
      if (options.isAlive(t.begin)) {
        return yield* Effect.fail(
          new ConflictError({ id: product, message: `${product} is being published by another ingest (transaction ${t.tx}, pid ${t.begin.pid ?? "?"})`, hint: "wait for it to finish" })
        )
      }
      if (!options.recover) {
        return yield* Effect.fail(
          new ConflictError({ id: product, message: `an earlier ingest of ${product} (transaction ${t.tx}) died unfinished`, hint: "run `hysds-stac recover`, or ingest without --no-recover" })
        )
      }
      const r = yield* transaction(t.tx)
      if (r.outcome === "incomplete") {
        return yield* Effect.fail(
          new ConflictError({ id: product, message: `could not finish the earlier ingest of ${product} (transaction ${t.tx}): ${r.failed[0]!.error}`, hint: "bring the backend back, then run `hysds-stac recover`" })
        )
      }
    }
  })
