/**
 * Index documents: one batch of GRQ documents indexed. The documents it
 * replaces (found by the claims, --force only) are kept in the record. A
 * forced re-ingest under another version would leave the old document in its
 * own index next to the new one, so that one is removed first.
 *
 * Undo removes the batch's documents, then indexes the replaced ones again.
 * Nothing to commit.
 */
import { Effect, Schema } from "effect"
import { GrqIndex, type GrqRecord } from "../GrqIndex.ts"
import { Progress } from "../Progress.ts"
import * as Step from "../Step.ts"

const DocRef = Schema.Struct({ index: Schema.String, id: Schema.String })

const declared = Step.declare("IndexDocuments", {
  refs: Schema.Array(DocRef),
  /** `previous` holds the documents these replace (`--force`), to be put back on undo. */
  previous: Schema.Array(Schema.Struct({ ...DocRef.fields, doc: Step.JsonObject }))
})({
  summary: (a) => `${a.refs.length} GRQ document(s)`,
  undo: (a) =>
    Effect.gen(function* () {
      const index = yield* GrqIndex
      yield* index.remove(a.refs)
      if (a.previous.length > 0) yield* index.bulkIndex(a.previous)
    }),
  commit: () => Effect.void
})

/** `previous`: every document the claims found; those `records` replace go into the record. */
const run = (records: ReadonlyArray<GrqRecord>, previous: ReadonlyArray<GrqRecord>) =>
  Effect.gen(function* () {
    const index = yield* GrqIndex
    const progress = yield* Progress
    const ids = new Set(records.map((r) => r.id))
    const replaced = previous.filter((r) => ids.has(r.id))
    yield* Step.run(
      declared,
      declared.make({ refs: records.map((r) => ({ index: r.index, id: r.id })), previous: replaced }),
      Step.settled(
        Effect.gen(function* () {
          const moved = replaced.filter((r) => !records.some((n) => n.id === r.id && n.index === r.index))
          if (moved.length > 0) yield* index.remove(moved)
          yield* index.bulkIndex(records)
        })
      )
    )
    yield* progress.emit({ _tag: "DocumentsIndexed", count: records.length })
  })

export const IndexDocuments = { ...declared, run }
