/**
 * Claim: the publish marker that makes one ingest the owner of a product's
 * location, then the decision whether what is already published may be
 * replaced. The marker is created only if absent, so of two ingests of one
 * product exactly one goes on; a product GRQ already has is refused unless
 * --force.
 *
 * Undo and commit both drop the marker, but only if this transaction wrote it:
 * when the claim lost the race, the marker there belongs to another ingest.
 */
import { Effect, Schema } from "effect"
import { ConflictError } from "../Errors.ts"
import { GrqIndex, type GrqRecord } from "../GrqIndex.ts"
import type * as JobInfo from "../JobInfo.ts"
import { ObjectStore } from "../ObjectStore.ts"
import * as Plan from "../Plan.ts"
import * as Step from "../Step.ts"

const releaseMarker = (action: { readonly marker: string; readonly tx: string }) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const content = yield* store.read(action.marker).pipe(Effect.option)
    if (content._tag === "None") return
    const owner = (() => {
      try {
        return (JSON.parse(new TextDecoder().decode(content.value)) as { tx?: unknown }).tx
      } catch {
        return undefined
      }
    })()
    if (owner === action.tx) yield* store.remove([action.marker])
  })

const declared = Step.declare("ClaimProduct", {
  product: Schema.String,
  marker: Schema.String,
  tx: Schema.String
})({
  summary: (a) => `publish marker ${a.marker}`,
  undo: releaseMarker,
  commit: releaseMarker
})

/**
 * Claims `p` for transaction `tx`; returns the GRQ documents it will replace
 * (some only with `force`, else the claim fails with "already exists").
 */
const run = (p: Plan.PlannedProduct, tx: string, force: boolean, job: JobInfo.JobInfo) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const index = yield* GrqIndex
    const marker = new TextEncoder().encode(
      JSON.stringify({ tx, product: p.id, payload_task_id: job.payloadTaskId, payload_hash: job.payloadHash, task_id: job.taskId }, null, 2)
    )
    yield* Step.run(
      declared,
      declared.make({ product: p.id, marker: p.marker, tx }),
      Effect.gen(function* () {
        const created = yield* store.create(p.marker, marker)
        if (!created) {
          return yield* Effect.fail(
            new ConflictError({
              id: p.id,
              message: `${p.id} is being published by another ingest (marker ${p.marker} exists)`,
              hint: "wait for the other ingest; if none is running, an earlier one crashed: run `hysds-stac recover`, or remove the marker"
            })
          )
        }
      })
    )
    // One lookup for all of the product's documents (a STAC product has one per item).
    const previous: ReadonlyArray<GrqRecord> = yield* index.findMany(Plan.documentIds(p))
    if (previous.length > 0 && !force) {
      return yield* Effect.fail(
        new ConflictError({
          id: previous[0]!.id,
          message: `${p.id}: dataset already exists (GRQ has ${previous[0]!.id} in ${previous[0]!.index})`,
          hint: "it was published before; use --force to publish it again"
        })
      )
    }
    return previous
  })

export const ClaimProduct = { ...declared, run }
