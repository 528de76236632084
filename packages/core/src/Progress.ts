/**
 * Port: progress events of an ingest, for a CLI progress line or an HTTP status
 * endpoint. Emitting never fails and never slows the ingest down.
 */
import { Context, Effect, Layer } from "effect"

export type ProgressEvent =
  | {
      readonly _tag: "Planned"
      readonly products: number
      readonly items: number
      readonly files: number
      readonly bytes: number
    }
  | { readonly _tag: "FilePublished"; readonly url: string; readonly bytes: number }
  | { readonly _tag: "ItemsRegistered"; readonly collection: string; readonly count: number }
  | { readonly _tag: "DocumentsIndexed"; readonly count: number }
  /** `name`: the step's kind (ClaimProduct, PutObjects, ...), what PhaseClock sorts phases by. */
  | { readonly _tag: "StepStarted"; readonly step: number; readonly summary: string; readonly name?: string }
  | { readonly _tag: "RollingBack"; readonly steps: number }
  | { readonly _tag: "StepUndone"; readonly step: number; readonly summary: string }
  | { readonly _tag: "UndoFailed"; readonly step: number; readonly summary: string; readonly error: string }

export interface ProgressShape {
  readonly emit: (event: ProgressEvent) => Effect.Effect<void>
}

export class Progress extends Context.Tag("@hysds-stac/core/Progress")<Progress, ProgressShape>() {
  static readonly none = Layer.succeed(Progress, { emit: () => Effect.void })
}
