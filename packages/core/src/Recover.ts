/**
 * Finishing what a dead process left unfinished, from its journal alone. A
 * transaction with a `Commit` record is rolled forward (the commit cleanup of
 * every step: claims and backups dropped); one without is rolled back (every
 * step's undo, newest first, skipping steps whose undo was already recorded).
 * Both are idempotent, so recovery itself may crash and be run again. Each
 * record's undo and commit are its step's (steps/), found by tag (Action.ts).
 *
 * Who may recover: whoever takes over the transaction's lease (Journal
 * `lease`). A transaction is dead when its lease expired, whatever machine
 * ran it, and taking it over is a conditional write, so of two recoverers
 * exactly one acts; the winner holds the lease (renewed) while it recovers,
 * so a recovery is itself never taken over while it runs.
 */
import { Effect } from "effect"
import * as Action from "./Action.ts"
import { ConflictError, describe, type PublishError } from "./Errors.ts"
import * as FreshItems from "./FreshItems.ts"
import { Journal, type JournalRecord, type LeaseMode, type TxSummary } from "./Journal.ts"
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
    // From every intent, undone or not: a collection's undo deletes the items its fresh batches left to it.
    const fresh = FreshItems.fromActions(intents.map((i) => i.action))
    if (committing) {
      for (const i of intents) {
        const outcome = yield* Effect.either(Retry.undo(Action.commit(i.action)).pipe(Effect.provideService(FreshItems.FreshItems, fresh)))
        if (outcome._tag === "Left") failed.push({ step: i.step, summary: Action.summary(i.action), error: describe(outcome.left) })
      }
    } else {
      for (const i of [...intents].reverse()) {
        if (alreadyUndone.has(i.step)) continue
        const summary = Action.summary(i.action)
        const outcome = yield* Effect.either(Retry.undo(Action.undo(i.action)).pipe(Effect.provideService(FreshItems.FreshItems, fresh)))
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

/**
 * Recovers `tx` if its lease can be taken over (its holder is gone and no
 * other recoverer got there first; `force`: even from a live holder), holding
 * the lease while it runs; undefined when it was not taken.
 */
export const takeOver = (tx: string, mode: Exclude<LeaseMode, "begin"> = "takeover") =>
  Effect.scoped(
    Effect.gen(function* () {
      const journal = yield* Journal
      if (!(yield* journal.lease(tx, mode))) return undefined
      return yield* transaction(tx)
    })
  )

/**
 * An open transaction a recovery did not take: its lease is live (its holder
 * renews it, or it was not renewed for less than the TTL yet), or another
 * recoverer took it first. Reported, so that an operator who expected it
 * recovered learns it is still held and can run recover again after the TTL.
 */
export interface Left {
  readonly tx: string
  readonly state: TxSummary["state"]
  readonly steps: number
  readonly lastAt?: string
  readonly host?: string
  readonly pid?: number
}

/** Recovers every open transaction whose holder is gone (of any machine); live ones are left to finish, and listed. */
export const all = () =>
  Effect.gen(function* () {
    const journal = yield* Journal
    const open = (yield* journal.transactions()).filter(isOpen)
    const recovered: Array<Recovered> = []
    const left: Array<Left> = []
    for (const t of open) {
      const r = yield* takeOver(t.tx)
      if (r !== undefined) recovered.push(r)
      else {
        left.push({
          tx: t.tx,
          state: t.state,
          steps: t.steps,
          ...(t.lastAt !== undefined ? { lastAt: t.lastAt } : {}),
          ...(t.begin?.host !== undefined ? { host: t.begin.host } : {}),
          ...(t.begin?.pid !== undefined ? { pid: t.begin.pid } : {})
        })
      }
    }
    return { recovered, left }
  })

/**
 * Before an ingest: an unfinished earlier attempt at one of `products` is
 * recovered (or, with `recover: false`, refused), and one still running in a
 * live process is a conflict: two ingests of a product never interleave.
 */
export const earlierAttempts = (products: ReadonlyArray<string>, options: { readonly recover: boolean }) =>
  Effect.gen(function* () {
    const journal = yield* Journal
    const wanted = new Set(products)
    const open = (yield* journal.transactions()).filter(
      (t): t is TxSummary & { begin: Begin } => isOpen(t) && t.begin !== undefined && t.begin.products.some((p) => wanted.has(p))
    )
    for (const t of open) {
      const product = t.begin.products.find((p) => wanted.has(p))!
      const by = `transaction ${t.tx}, pid ${t.begin.pid ?? "?"} on ${t.begin.host ?? "?"}`
      if (yield* journal.live(t.tx)) {
        return yield* Effect.fail(
          new ConflictError({ id: product, message: `${product} is being published by another ingest (${by})`, hint: "wait for it to finish" })
        )
      }
      if (!options.recover) {
        return yield* Effect.fail(
          new ConflictError({ id: product, message: `an earlier ingest of ${product} (transaction ${t.tx}) died unfinished`, hint: "run `hysds-stac recover`, or ingest without --no-recover" })
        )
      }
      const r = yield* takeOver(t.tx)
      if (r === undefined) {
        // Its lease expired a moment ago, and another worker took it over first.
        return yield* Effect.fail(
          new ConflictError({ id: product, message: `${product} is being published by another ingest (${by}, taken over by another recoverer)`, hint: "wait for it to finish" })
        )
      }
      if (r.outcome === "incomplete") {
        return yield* Effect.fail(
          new ConflictError({ id: product, message: `could not finish the earlier ingest of ${product} (transaction ${t.tx}): ${r.failed[0]!.error}`, hint: "bring the backend back, then run `hysds-stac recover`" })
        )
      }
    }
  })
