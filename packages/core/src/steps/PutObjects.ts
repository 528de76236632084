/**
 * Put files: a batch of a product's planned files copied to their URLs in the
 * object store, `concurrency` at a time, each from the descriptor planning
 * checked (or, for a generated file, from its bytes). A classic product's
 * files are one batch; a STAC product has its head batch (files no item
 * claims, catalogs and collections), then one per batch of items (their
 * documents and assets), so items are registered while later files go up.
 *
 * The record names every URL before the first copy, so an upload cut off
 * half-way is still undone: undo removes them all (removing one that was never
 * written is harmless). Nothing to commit.
 */
import { Effect, Either, Schema } from "effect"
import { ObjectStore } from "../ObjectStore.ts"
import type * as Plan from "../Plan.ts"
import { Progress } from "../Progress.ts"
import * as Step from "../Step.ts"

const declared = Step.declare("PutObjects", {
  product: Schema.String,
  urls: Schema.Array(Schema.String)
})({
  summary: (a) => `${a.urls.length} object(s) of ${a.product}`,
  undo: (a) => Effect.flatMap(ObjectStore, (store) => store.remove(a.urls)),
  commit: () => Effect.void
})

/**
 * The record, made anew when needed. Made outside `run` on purpose: a closure
 * made inside it would keep the batch's files (and the bytes of its
 * documents) alive until the ingest ends (see Step's `release`).
 */
const recordOf = (product: string, urls: ReadonlyArray<string> | (() => ReadonlyArray<string>)) =>
  typeof urls === "function" ? () => declared.make({ product, urls: urls() }) : declared.make({ product, urls })

/**
 * When one copy fails, the others already under way are let finish (no new one
 * starts) before the step fails: its undo must not run while a copy is still in
 * flight, or that copy would land after the undo removed its URL. Seen: relying
 * on `forEach` interrupting the siblings let the undo overtake a local write
 * about one run in six (test/security/Confinement.test.ts, case e).
 */
const run = (
  product: string,
  files: ReadonlyArray<Plan.PlannedFile>,
  concurrency: number,
  /**
   * The URLs for the record; as a function (made outside the caller's scope
   * for the same reason as `recordOf`), a batch's record is made anew rather
   * than held (see Step.run).
   */
  urls?: () => ReadonlyArray<string>
) =>
  Effect.gen(function* () {
    const record = recordOf(product, urls ?? files.map((f) => f.url))
    const store = yield* ObjectStore
    const progress = yield* Progress
    let failed = false
    const put = (f: Plan.PlannedFile) =>
      (f.source._tag === "File"
        ? store.putFile(f.url, f.source.path, f.source.identity)
        : store.putBytes(f.url, f.source.bytes, f.source.contentType)
      ).pipe(
        Effect.zipRight(progress.emit({ _tag: "FilePublished", url: f.url, bytes: f.size })),
        Effect.tapError(() => Effect.sync(() => (failed = true)))
      )
    yield* Step.run(
      declared,
      record,
      Effect.forEach(files, (f) => Effect.either(Effect.suspend(() => (failed ? Effect.void : put(f)))), { concurrency, discard: false }).pipe(
        Effect.flatMap((outcomes) => {
          const first = outcomes.find(Either.isLeft)
          return first === undefined ? Effect.void : Effect.fail(first.left)
        })
      )
    )
  })

export const PutObjects = { ...declared, run }
