/**
 * Port: GRQ, the HySDS product index (Elasticsearch or OpenSearch in production).
 * One document per product, `_id` = product id, in `grq_<version>_<dataset>`
 * under the alias `grq`.
 */
import { Context, type Effect, type Option } from "effect"
import type { IndexError } from "./Errors.ts"

export interface DocRef {
  readonly index: string
  readonly id: string
}

export interface GrqRecord extends DocRef {
  readonly doc: Readonly<Record<string, unknown>>
  /** Aliases the index must have (a datasets.json entry's `index.aliases`); added by the IndexDocuments step. */
  readonly aliases?: ReadonlyArray<string>
}

/** One alias of one index. */
export interface AliasRef {
  readonly index: string
  readonly alias: string
}

export interface GrqIndexShape {
  /** Reachable, the right engine, and the `grq_*` index template installed; fails saying which. */
  readonly check: () => Effect.Effect<void, IndexError>
  /** Installs (or updates) the `grq_*` index template and the alias `grq`, like grq2 does. */
  readonly init: () => Effect.Effect<void, IndexError>
  /** The document with this `_id` in any index under the alias `grq` (HySDS's "exists" check). */
  readonly find: (id: string) => Effect.Effect<Option.Option<GrqRecord>, IndexError>
  /**
   * `find` for many ids at once: the documents found, at most one per id (the one
   * `find` would answer), in the order of `ids`. One request per large chunk of
   * ids instead of one per id: the claim looks up every document of a job.
   */
  readonly findMany: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<GrqRecord>, IndexError>
  /**
   * Indexes (creates or replaces) every record. When any is rejected it fails naming
   * the document and the reason; the others may or may not have been written.
   * With `deferRefresh` the writes may stay invisible to `find` and `list` until
   * `refresh` of their indexes (no per-request refresh wait); otherwise they are
   * visible when it succeeds (as the index is configured).
   */
  readonly bulkIndex: (
    records: ReadonlyArray<GrqRecord>,
    options?: { readonly deferRefresh?: boolean }
  ) => Effect.Effect<void, IndexError>
  /**
   * Makes every write so far to these indexes visible to `find` and `list` (one
   * index refresh), unless the index is configured never to refresh. A missing
   * index is skipped.
   */
  readonly refresh: (indexes: ReadonlyArray<string>) => Effect.Effect<void, IndexError>
  /** Deletes documents; deleting a missing one succeeds, so undo can be repeated. */
  readonly remove: (refs: ReadonlyArray<DocRef>) => Effect.Effect<void, IndexError>
  /** The aliases `index` has now; none when the index does not exist. */
  readonly aliasesOf: (index: string) => Effect.Effect<ReadonlyArray<string>, IndexError>
  /** Adds each alias to its index (which exists by then). */
  readonly addAliases: (refs: ReadonlyArray<AliasRef>) => Effect.Effect<void, IndexError>
  /** Removes each alias from its index; a missing alias or index succeeds, so undo can be repeated. */
  readonly removeAliases: (refs: ReadonlyArray<AliasRef>) => Effect.Effect<void, IndexError>
  readonly list: (filter: { readonly dataset?: string }) => Effect.Effect<ReadonlyArray<GrqRecord>, IndexError>
}

export class GrqIndex extends Context.Tag("@hysds-stac/core/GrqIndex")<GrqIndex, GrqIndexShape>() {}
