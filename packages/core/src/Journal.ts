/**
 * Port: the write-ahead journal of an ingest. Each step appends its intent
 * (the Action) before acting and a completion after; the run ends committed or
 * aborted. With a durable implementation, a process killed at any point leaves
 * enough behind for a recovery to undo exactly what was started.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import type { Action } from "./Action.ts"
import type { InternalError } from "./Errors.ts"

export type JournalRecord =
  | {
      readonly _tag: "Begin"
      readonly tx: string
      readonly at: string
      readonly jobDir: string
      readonly products: ReadonlyArray<string>
      /** Who runs it: recovery leaves a transaction alone while its process is alive. */
      readonly host?: string
      readonly pid?: number
    }
  | { readonly _tag: "Intent"; readonly tx: string; readonly step: number; readonly action: Action }
  | { readonly _tag: "Done"; readonly tx: string; readonly step: number }
  /** The decision: every step is done, the ingest will commit. Recovery rolls forward past it. */
  | { readonly _tag: "Commit"; readonly tx: string; readonly at: string }
  | { readonly _tag: "Undone"; readonly tx: string; readonly step: number }
  | { readonly _tag: "UndoFailed"; readonly tx: string; readonly step: number; readonly error: string }
  | {
      readonly _tag: "End"
      readonly tx: string
      readonly at: string
      readonly outcome: "committed" | "aborted" | "abort-incomplete"
    }

/** How a transaction stands, from its records. */
export type TxState = "running" | "committing" | "committed" | "aborted" | "abort-incomplete"

/** Nothing is left to do for it: it committed, or every step was undone. */
export const isFinished = (state: TxState): boolean => state === "committed" || state === "aborted"

export interface TxSummary {
  readonly tx: string
  readonly state: TxState
  readonly begin?: Extract<JournalRecord, { _tag: "Begin" }>
  readonly steps: number
  readonly lastAt?: string
}

/**
 * How a transaction's lease is taken (see `JournalShape.lease`): for a
 * transaction about to begin; to take over one whose holder is gone; or, by an
 * operator's explicit request (`recover --tx`), even from a live holder.
 */
export type LeaseMode = "begin" | "takeover" | "force"

export interface JournalShape {
  /** Durable once it succeeds: a step does not act before its intent is appended. */
  readonly append: (record: JournalRecord) => Effect.Effect<void, InternalError>
  /**
   * The open transactions (not committed, not fully rolled back), newest
   * first; with `finished`, also the finished ones the journal still keeps
   * (see its retention). Open ones are what recovery and every ingest look at,
   * so they are kept apart and reading them stays cheap however long the
   * history.
   */
  readonly transactions: (options?: { readonly finished?: boolean }) => Effect.Effect<ReadonlyArray<TxSummary>, InternalError>
  /** The records of one transaction in order (a torn last record is dropped). */
  readonly records: (tx: string) => Effect.Effect<ReadonlyArray<JournalRecord>, InternalError>
  /**
   * Holds `tx`'s lease until the enclosing scope closes, renewed in the
   * background meanwhile; succeeds with whether it was taken. Liveness is the
   * lease alone: a transaction whose lease expired is dead, whatever machine
   * ran it. `takeover` (and `force`) is a conditional write, so of several
   * callers at once exactly one gets true. A holder that fails to renew in
   * time has lost its lease: its further appends are refused, so it starts
   * no step a recoverer may already be undoing.
   */
  readonly lease: (tx: string, mode: LeaseMode) => Effect.Effect<boolean, InternalError, Scope.Scope>
  /** Whether `tx` has a live holder (its lease is held and not expired). */
  readonly live: (tx: string) => Effect.Effect<boolean, InternalError>
}

export class Journal extends Context.Tag("@hysds-stac/core/Journal")<Journal, JournalShape>() {
  /** No journal: rollback still happens in-process, but a crash leaves no trail. */
  static readonly none = Layer.succeed(Journal, {
    append: () => Effect.void,
    transactions: () => Effect.succeed([]),
    records: () => Effect.succeed([]),
    lease: () => Effect.succeed(true),
    live: () => Effect.succeed(false)
  })
}

/** A transaction's state from its records (shared by every journal implementation). */
export const summarize = (tx: string, records: ReadonlyArray<JournalRecord>): TxSummary => {
  const begin = records.find((r): r is Extract<JournalRecord, { _tag: "Begin" }> => r._tag === "Begin")
  const end = records.findLast((r) => r._tag === "End")
  const committing = records.some((r) => r._tag === "Commit")
  const state: TxState = end?._tag === "End" ? end.outcome : committing ? "committing" : "running"
  const times = records.flatMap((r) => ("at" in r ? [r.at] : []))
  return {
    tx,
    state,
    steps: records.filter((r) => r._tag === "Intent").length,
    ...(begin ? { begin } : {}),
    ...(times.length > 0 ? { lastAt: times[times.length - 1]! } : {})
  }
}

/** Leases of one process: held while their scope is open (what a journal in memory needs). */
const leasesInMemory = (): Pick<JournalShape, "lease" | "live"> => {
  const held = new Set<string>()
  return {
    lease: (tx, mode) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          if (held.has(tx) && mode !== "force") return false
          held.add(tx)
          return true
        }),
        (taken) => Effect.sync(() => void (taken && held.delete(tx)))
      ),
    live: (tx) => Effect.sync(() => held.has(tx))
  }
}

/** A journal in memory: what a run recorded can be read back, but it dies with the process. */
export const memory = (records: Array<JournalRecord> = []) =>
  Layer.succeed(Journal, {
    ...leasesInMemory(),
    append: (r) => Effect.sync(() => void records.push(r)),
    records: (tx) => Effect.sync(() => records.filter((r) => r.tx === tx)),
    transactions: (options) =>
      Effect.sync(() =>
        [...new Set(records.map((r) => r.tx))]
          .reverse()
          .map((tx) => summarize(tx, records.filter((r) => r.tx === tx)))
          .filter((t) => options?.finished === true || !isFinished(t.state))
      )
  })
