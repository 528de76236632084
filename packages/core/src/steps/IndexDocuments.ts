/**
 * Index documents: one batch of GRQ documents indexed. The documents it
 * replaces (found by the claims, --force only) are kept in the record. A
 * forced re-ingest under another version would leave the old document in its
 * own index next to the new one, so that one is removed first.
 *
 * The aliases its documents' entries name (`index.aliases`) that their index
 * does not have yet are added after the documents, as grq2 does, and kept in
 * the record: undo removes exactly those, never an alias that was there
 * before.
 *
 * Undo removes the aliases it added and the batch's documents, then indexes
 * the replaced ones again. Nothing to commit.
 */
import { Effect, Schema } from "effect"
import { type AliasRef, GrqIndex, type GrqRecord } from "../GrqIndex.ts"
import { Progress } from "../Progress.ts"
import * as Step from "../Step.ts"

const DocRef = Schema.Struct({ index: Schema.String, id: Schema.String })
const AliasRefSchema = Schema.Struct({ index: Schema.String, alias: Schema.String })

const declared = Step.declare("IndexDocuments", {
  refs: Schema.Array(DocRef),
  /** `previous` holds the documents these replace (`--force`), to be put back on undo. */
  previous: Schema.Array(Schema.Struct({ ...DocRef.fields, doc: Step.JsonObject })),
  /** Aliases this batch adds (absent in records of earlier versions: none). */
  aliases: Schema.optionalWith(Schema.Array(AliasRefSchema), { exact: true })
})({
  summary: (a) => `${a.refs.length} GRQ document(s)`,
  undo: (a) =>
    Effect.gen(function* () {
      const index = yield* GrqIndex
      if (a.aliases !== undefined && a.aliases.length > 0) yield* index.removeAliases(a.aliases)
      yield* index.remove(a.refs)
      if (a.previous.length > 0) yield* index.bulkIndex(a.previous)
    }),
  commit: () => Effect.void
})

/**
 * GRQ's own alias: every `grq_*` index gets it from the index template when it
 * is created (`grq init`), so an entry naming it asks for nothing. Never ours
 * to add or to remove: an index this run created (and keeps after a rollback)
 * must stay under it, or its later documents would not be found.
 */
const GRQ_ALIAS = "grq"

/** The (index, alias) pairs the records want that their index does not have now. */
const missingAliases = (records: ReadonlyArray<GrqRecord>) =>
  Effect.gen(function* () {
    const wanted = new Map<string, Set<string>>()
    for (const r of records) {
      for (const alias of r.aliases ?? []) {
        if (alias !== GRQ_ALIAS) wanted.set(r.index, (wanted.get(r.index) ?? new Set()).add(alias))
      }
    }
    const index = yield* GrqIndex
    const missing: Array<AliasRef> = []
    for (const [name, want] of wanted) {
      const has = new Set(yield* index.aliasesOf(name))
      for (const alias of want) if (!has.has(alias)) missing.push({ index: name, alias })
    }
    return missing
  })

/** `previous`: every document the claims found; those `records` replace go into the record. */
const run = (records: ReadonlyArray<GrqRecord>, previous: ReadonlyArray<GrqRecord>) =>
  Effect.gen(function* () {
    const index = yield* GrqIndex
    const progress = yield* Progress
    const ids = new Set(records.map((r) => r.id))
    const replaced = previous.filter((r) => ids.has(r.id))
    const aliases = yield* missingAliases(records)
    yield* Step.run(
      declared,
      declared.make({
        refs: records.map((r) => ({ index: r.index, id: r.id })),
        previous: replaced,
        ...(aliases.length > 0 ? { aliases } : {})
      }),
      Step.settled(
        Effect.gen(function* () {
          const moved = replaced.filter((r) => !records.some((n) => n.id === r.id && n.index === r.index))
          if (moved.length > 0) yield* index.remove(moved)
          // Made visible once for the whole run (Ingest refreshes before the job file), not per batch.
          yield* index.bulkIndex(records, { deferRefresh: true })
          if (aliases.length > 0) yield* index.addAliases(aliases)
        })
      )
    )
    yield* progress.emit({ _tag: "DocumentsIndexed", count: records.length })
  })

export const IndexDocuments = { ...declared, run }
