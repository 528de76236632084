/**
 * Port: the write-ahead journal of an ingest. Each step appends its intent
 * (the Action) before acting and a completion after; the run ends committed or
 * aborted. With a durable implementation, a process killed at any point leaves
 * enough behind for a recovery to undo exactly what was started.
 */
import { Context, Effect, Layer } from "effect"
import type { Action } from "./Action.ts"
import type { InternalError } from "./Errors.ts"

export type JournalRecord =
  | {
      readonly _tag: "Begin"
      readonly tx: string
      readonly at: string
      readonly jobDir: string
      readonly products: ReadonlyArray<string>
    }
  | { readonly _tag: "Intent"; readonly tx: string; readonly step: number; readonly action: Action }
  | { readonly _tag: "Done"; readonly tx: string; readonly step: number }
  | { readonly _tag: "Undone"; readonly tx: string; readonly step: number }
  | { readonly _tag: "UndoFailed"; readonly tx: string; readonly step: number; readonly error: string }
  | {
      readonly _tag: "End"
      readonly tx: string
      readonly at: string
      readonly outcome: "committed" | "aborted" | "abort-incomplete"
    }

export interface JournalShape {
  /** Durable once it succeeds: a step does not act before its intent is appended. */
  readonly append: (record: JournalRecord) => Effect.Effect<void, InternalError>
}

export class Journal extends Context.Tag("@hysds-stac/core/Journal")<Journal, JournalShape>() {
  /** No journal: rollback still happens in-process, but a crash leaves no trail. */
  static readonly none = Layer.succeed(Journal, { append: () => Effect.void })
}
