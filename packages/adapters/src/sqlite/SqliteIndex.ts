/**
 * GrqIndex in the embedded SQLite file: the default GRQ when no Elasticsearch
 * or OpenSearch is configured.
 *
 * It keeps what the real index would reject rejected (see DynamicMapping.ts):
 * mapping conflicts in `metadata.*`, invalid index names, over-long ids, so a
 * configuration that works embedded also works against a server.
 *
 * Like GRQ, every index named `grq_*` is under the alias `grq`: `find` and
 * `list` look across all of them, and documents written to any other index are
 * kept but invisible to both (as they would be to a search on the alias).
 * Other aliases (a datasets.json entry's `index.aliases`) are recorded per
 * index, with Elasticsearch's name rules; an index exists once it has held a
 * document.
 */
import { Effect, Either, Layer, Option } from "effect"
import { Errors, GrqIndex } from "@hysds-stac/core"
import { Database, type DatabaseShape, hintFor, writeTransaction } from "./Database.ts"
import * as DynamicMapping from "./DynamicMapping.ts"

export interface Options {
  /** ES's `date_detection` (default true, as in ES, OpenSearch and GRQ's template). */
  readonly dateDetection?: boolean
  /** ES's `index.mapping.total_fields.limit` (default 1000). */
  readonly totalFieldsLimit?: number
  /** Object paths mapped `enabled: false`, never parsed (default `["metadata.context"]`, as GRQ's template). */
  readonly unmappedPaths?: ReadonlyArray<string>
}

const ALIAS_FILTER = "index_name LIKE 'grq\\_%' ESCAPE '\\'"

/** ES's index name rules; HySDS lower-cases the names it makes, this catches those it forgot. */
export const indexNameProblem = (name: string): string | undefined => {
  if (name === "") return "must not be empty"
  if (name !== name.toLowerCase()) return "must be lowercase"
  if (name === "." || name === "..") return "must not be '.' or '..'"
  if (/^[-_+]/.test(name)) return "must not start with '_', '-', or '+'"
  const bad = /[\\/*?"<>| ,#:]/.exec(name)
  if (bad) return `must not contain '${bad[0]}'`
  if (new TextEncoder().encode(name).length > 255) return "index name is too long, must be no longer than 255 bytes"
  return undefined
}

/** ES refuses `_id`s longer than 512 bytes. */
const idProblem = (id: string): string | undefined => {
  if (id === "") return "if _id is specified it must not be empty"
  const bytes = new TextEncoder().encode(id).length
  if (bytes > 512) return `id [${id.slice(0, 40)}...] is too long, must be no longer than 512 bytes but was: ${bytes}`
  return undefined
}

const datasetOf = (doc: Readonly<Record<string, unknown>>): string | null =>
  typeof doc["dataset"] === "string" ? doc["dataset"] : null

const indexError = (db: DatabaseShape, action: string, cause: unknown): Errors.IndexError =>
  new Errors.IndexError({
    message: `embedded GRQ index: could not ${action}: ${cause instanceof Error ? cause.message : String(cause)}`,
    hint: hintFor(db, cause),
    cause
  })

interface Rejection {
  readonly index: string
  readonly id: string
  readonly reason: string
}

interface DocRow {
  readonly index_name: string
  readonly id: string
  readonly doc: string
}

const toRecord = (row: DocRow): GrqIndex.GrqRecord => ({
  index: row.index_name,
  id: row.id,
  doc: JSON.parse(row.doc) as Record<string, unknown>
})

export const make = (options: Options = {}): Effect.Effect<GrqIndex.GrqIndexShape, never, Database> =>
  Effect.map(Database, (db): GrqIndex.GrqIndexShape => {
    const mappingOptions: DynamicMapping.Options = {
      dateDetection: options.dateDetection ?? DynamicMapping.defaults.dateDetection,
      totalFieldsLimit: options.totalFieldsLimit ?? DynamicMapping.defaults.totalFieldsLimit,
      unmappedPaths: options.unmappedPaths ?? DynamicMapping.defaults.unmappedPaths
    }
    const sql = db.connection
    const attempt = <A>(action: string, body: () => A): Effect.Effect<A, Errors.IndexError> =>
      Effect.try({ try: body, catch: (cause) => indexError(db, action, cause) })

    const find: GrqIndex.GrqIndexShape["find"] = (id) =>
      Effect.gen(function* () {
        const rows = yield* attempt(`look up "${id}"`, () =>
          sql
            .query<DocRow, [string]>(
              `SELECT index_name, id, doc FROM grq_docs WHERE id = ? AND ${ALIAS_FILTER} ORDER BY index_name LIMIT 2`
            )
            .all(id)
        )
        const [first, second] = rows
        if (!first) return Option.none()
        // Several indexes under the alias may hold the same _id (a product re-ingested
        // under a new version); GRQ's search then answers with whichever scores first.
        // We answer with the first index name in byte order, always the same one.
        if (second) {
          yield* Effect.logWarning(
            `GRQ id "${id}" is in several indexes under the alias grq (${first.index_name}, ${second.index_name}, ...); using ${first.index_name}`
          )
        }
        return Option.some(toRecord(first))
      })

    // Embedded lookups are local queries: one per id costs what one IN query would.
    const findMany: GrqIndex.GrqIndexShape["findMany"] = (ids) =>
      Effect.map(
        Effect.forEach([...new Set(ids)], find),
        (found) => found.flatMap((r) => (Option.isSome(r) ? [r.value] : []))
      )

    // Writes are visible when they commit: nothing to refresh.
    const refresh: GrqIndex.GrqIndexShape["refresh"] = () => Effect.void

    const bulkIndex: GrqIndex.GrqIndexShape["bulkIndex"] = (records) =>
      Effect.gen(function* () {
        if (records.length === 0) return
        const rejections = yield* attempt(`index ${records.length} document(s)`, () =>
          // Like an ES bulk request, every document stands alone: the rejected ones
          // are reported, all the others are written (before and after them). The
          // transaction is for speed and for keeping mappings and documents in step.
          writeTransaction(db, () => {
            const loadMapping = sql.query<{ path: string; type: DynamicMapping.FieldType }, [string]>(
              "SELECT path, type FROM grq_mappings WHERE index_name = ?"
            )
            const addField = sql.query<unknown, [string, string, string]>(
              "INSERT OR REPLACE INTO grq_mappings (index_name, path, type) VALUES (?, ?, ?)"
            )
            const upsert = sql.query<unknown, [string, string, string | null, string]>(
              "INSERT OR REPLACE INTO grq_docs (index_name, id, dataset, doc) VALUES (?, ?, ?, ?)"
            )
            const mappings = new Map<string, Map<string, DynamicMapping.FieldType>>()
            const mappingOf = (index: string) => {
              let mapping = mappings.get(index)
              if (!mapping) {
                mapping = new Map(loadMapping.all(index).map((r) => [r.path, r.type] as const))
                mappings.set(index, mapping)
              }
              return mapping
            }
            const rejected: Array<Rejection> = []
            for (const { index, id, doc } of records) {
              const nameProblem = indexNameProblem(index)
              if (nameProblem !== undefined) {
                rejected.push({ index, id, reason: `invalid_index_name_exception: Invalid index name [${index}], ${nameProblem}` })
                continue
              }
              const badId = idProblem(id)
              if (badId !== undefined) {
                rejected.push({ index, id, reason: `illegal_argument_exception: ${badId}` })
                continue
              }
              const mapping = mappingOf(index)
              const parsed = DynamicMapping.parse(mapping, id, doc, mappingOptions)
              if (Either.isLeft(parsed)) {
                rejected.push({ index, id, reason: parsed.left })
                continue
              }
              for (const [path, type] of parsed.right) {
                mapping.set(path, type)
                addField.run(index, path, type)
              }
              upsert.run(index, id, datasetOf(doc), JSON.stringify(doc))
            }
            return rejected
          })
        )
        const first = rejections[0]
        if (first) {
          return yield* new Errors.IndexError({
            message:
              `GRQ rejected ${rejections.length} of ${records.length} document(s); the first is "${first.id}" ` +
              `in ${first.index}: ${first.reason}`,
            id: first.id,
            hint: first.reason.startsWith("mapper_parsing_exception")
              ? "a field has another type (object or value; number, boolean, date or text) than in the documents " +
                `already in ${first.index}: make the product's metadata types consistent, or index it under a new version`
              : first.reason.startsWith("illegal_argument_exception: Limit of total fields")
                ? "the products' metadata has too many distinct keys; keep free-form data under metadata.context"
                : "fix the index name or the product id"
          })
        }
      })

    const remove: GrqIndex.GrqIndexShape["remove"] = (refs) =>
      refs.length === 0
        ? Effect.void
        : attempt(`delete ${refs.length} document(s)`, () =>
            writeTransaction(db, () => {
              const del = sql.query<unknown, [string, string]>("DELETE FROM grq_docs WHERE index_name = ? AND id = ?")
              for (const ref of refs) del.run(ref.index, ref.id)
            })
          )

    const list: GrqIndex.GrqIndexShape["list"] = (filter) =>
      attempt("list documents", () => {
        const rows =
          filter.dataset === undefined
            ? sql
                .query<DocRow, []>(`SELECT index_name, id, doc FROM grq_docs WHERE ${ALIAS_FILTER} ORDER BY id, index_name`)
                .all()
            : sql
                .query<DocRow, [string]>(
                  `SELECT index_name, id, doc FROM grq_docs WHERE dataset = ? AND ${ALIAS_FILTER} ORDER BY id, index_name`
                )
                .all(filter.dataset)
        return rows.map(toRecord)
      })

    const exists = (index: string): boolean =>
      sql.query<{ n: number }, [string, string]>(
        "SELECT (EXISTS (SELECT 1 FROM grq_mappings WHERE index_name = ?) OR EXISTS (SELECT 1 FROM grq_docs WHERE index_name = ?)) AS n"
      ).get(index, index)!.n === 1

    const aliasesOf: GrqIndex.GrqIndexShape["aliasesOf"] = (index) =>
      attempt(`read the aliases of ${index}`, () => {
        if (!exists(index)) return []
        const own = sql
          .query<{ alias: string }, [string]>("SELECT alias FROM grq_aliases WHERE index_name = ? ORDER BY alias")
          .all(index)
          .map((r) => r.alias)
        return index.startsWith("grq_") && !own.includes("grq") ? ["grq", ...own] : own
      })

    const addAliases: GrqIndex.GrqIndexShape["addAliases"] = (refs) =>
      attempt(`add ${refs.length} alias(es)`, () =>
        writeTransaction(db, () => {
          for (const { index, alias } of refs) {
            const problem = indexNameProblem(alias)
            if (problem !== undefined) throw new Error(`invalid_alias_name_exception: Invalid alias name [${alias}], ${problem}`)
            if (exists(alias)) throw new Error(`invalid_alias_name_exception: Invalid alias name [${alias}], an index exists with the same name as the alias`)
            if (!exists(index)) throw new Error(`index_not_found_exception: no such index [${index}]`)
            sql.query<unknown, [string, string]>("INSERT OR IGNORE INTO grq_aliases (index_name, alias) VALUES (?, ?)").run(index, alias)
          }
        })
      )

    const removeAliases: GrqIndex.GrqIndexShape["removeAliases"] = (refs) =>
      refs.length === 0
        ? Effect.void
        : attempt(`remove ${refs.length} alias(es)`, () =>
            writeTransaction(db, () => {
              const del = sql.query<unknown, [string, string]>("DELETE FROM grq_aliases WHERE index_name = ? AND alias = ?")
              for (const ref of refs) del.run(ref.index, ref.alias)
            })
          )

    // The embedded index creates its tables when opened: there is no template to install.
    const check = () => Effect.void
    const init = () => Effect.void
    return { check, init, find, findMany, bulkIndex, refresh, remove, list, aliasesOf, addAliases, removeAliases }
  })

/** GrqIndex over the shared {@link Database}. */
export const layer = (options: Options = {}): Layer.Layer<GrqIndex.GrqIndex, never, Database> =>
  Layer.effect(GrqIndex.GrqIndex, make(options))

