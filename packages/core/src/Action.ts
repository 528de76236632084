/**
 * A step's record by its tag: what recovery has when it reads the journal of a
 * dead process. The records, and each step's summary, undo and commit, are
 * declared with their step in `steps/` (see `steps/index.ts`); this module only
 * finds the step of a record and dispatches to it.
 */
import type { Effect } from "effect"
import type { PublishError } from "./Errors.ts"
import type * as Step from "./Step.ts"
import * as Steps from "./steps/index.ts"

/** Any step's record (the union of the steps' records). */
export type Action = Steps.Action

/** What undo and commit may use. */
export type ActionContext = Step.StepContext

const byTag: ReadonlyMap<string, Step.Any> = new Map(Steps.steps.map((s): [string, Step.Any] => [s.name, s]))

// Records reaching here were decoded against the union of the steps' schemas, so every tag has its step.
const stepOf = (action: Action): Step.Any => byTag.get(action._tag)!

/** One line a human reads in a rollback report or a journal listing. */
export const summary = (action: Action): string => stepOf(action).summary(action)

/** Puts back the state from before the record's step (see Step.Declaration's `undo`). */
export const undo = (action: Action): Effect.Effect<void, PublishError, ActionContext> => stepOf(action).undo(action)

/** Cleanup once the whole ingest succeeded (see Step.Declaration's `commit`). */
export const commit = (action: Action): Effect.Effect<void, PublishError, ActionContext> => stepOf(action).commit(action)
