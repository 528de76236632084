/**
 * Set aside: the objects already at a product's location (what --force
 * replaces, or orphans of an earlier failed publish, which have no index
 * record) are copied to a backup and removed, so a failing run can put them
 * back. Runs right after the product's claim, before any file is put.
 *
 * Undo copies each one back before removing any backup, so a crash in between
 * loses nothing. Commit drops the backups: the new publication stands.
 */
import { Effect, Schema } from "effect"
import { ObjectStore } from "../ObjectStore.ts"
import type * as Plan from "../Plan.ts"
import * as Step from "../Step.ts"

export interface BackedUpObject {
  readonly url: string
  readonly backup: string
}

const declared = Step.declare("BackupObjects", {
  product: Schema.String,
  objects: Schema.Array(Schema.Struct({ url: Schema.String, backup: Schema.String }))
})({
  summary: (a) => `backup of ${a.objects.length} existing object(s) of ${a.product}`,
  undo: (a) =>
    Effect.gen(function* () {
      const store = yield* ObjectStore
      // A backup already gone was restored by an earlier undo (its removal comes
      // after every copy), or never made, in which case its original was never removed.
      for (const o of a.objects) {
        yield* store.copy(o.backup, o.url).pipe(Effect.catchIf((e) => e.missing === true, () => Effect.void))
      }
      // A copy (aside or back) cut off by a crash left temp files next to its target.
      yield* store.discardPartials(a.objects.map((o) => o.url))
      yield* store.remove(a.objects.map((o) => o.backup))
    }),
  commit: (a) => Effect.flatMap(ObjectStore, (store) => store.remove(a.objects.map((o) => o.backup)))
})

/** Sets aside whatever is under `p`'s roots besides its claim and publish context; no step when there is nothing. */
const run = (p: Plan.PlannedProduct, tx: string) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const listed = yield* Effect.forEach(p.roots, (root) => store.list(root))
    // The claim and the publish context are the claim step's (a replaced publish context is kept aside there).
    const existing = listed.flat().filter((o) => o.url !== p.marker && o.url !== p.claim)
    if (existing.length === 0) return
    const objects: ReadonlyArray<BackedUpObject> = existing.map((o) => ({ url: o.url, backup: store.backupUrl(o.url, tx) }))
    yield* Step.run(
      declared,
      declared.make({ product: p.id, objects }),
      Effect.gen(function* () {
        for (const o of objects) yield* store.copy(o.url, o.backup)
        yield* store.remove(objects.map((o) => o.url))
      })
    )
  })

export const BackupObjects = { ...declared, run }
