/**
 * StacRegistry in the embedded SQLite file: the default STAC API when no
 * STAC-FastAPI is configured.
 *
 * It enforces what pgstac (the usual STAC-FastAPI backend) enforces, with the
 * same status codes, so the embedded default fails where the real server would
 * instead of accepting a catalog that production then refuses:
 * - ids containing any of `: / ? # [ ] @ ! $ & ' ( ) * + , ; =` → 400;
 * - items without geometry (null or missing) → 400;
 * - an item whose `collection` names another collection than the target → 400;
 * - items into a missing collection → 424 (pgstac's foreign key failure);
 * - creating an existing collection → 409, replacing a missing one → 404;
 * - creating an existing item → 409 naming it, and nothing of that call is
 *   written (pgstac runs a bulk insert all-or-nothing);
 * - deleting a collection deletes its items;
 * - listing the items of a missing collection → 404.
 * Deleting what is missing succeeds (the port asks for that, so undo can be
 * repeated; the HTTP adapters turn the server's 404 into success).
 *
 * Stored JSON is returned as given, except that items get `collection` set,
 * as STAC-FastAPI does; links are not regenerated.
 */
import { Effect, Layer, Option } from "effect"
import { Errors, StacRegistry } from "@hysds-stac/core"
import { Database, type DatabaseShape, hintFor, isBusy, writeTransaction } from "./Database.ts"

/** The characters pgstac refuses in collection and item ids (the rules this registry exposes to planning). */
export const RESERVED_ID_CHARS = StacRegistry.PGSTAC_RULES.forbiddenIdChars

/** SQLite's bound-parameter limit is 32766 (999 before 3.32); stay far below it. */
const CHUNK = 500

const chunks = <A>(all: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size))
  return out
}

const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ")

const idProblem = (id: unknown): string | undefined => {
  if (typeof id !== "string" || id === "") return "has no id (a non-empty string is required)"
  for (const c of id) {
    if (RESERVED_ID_CHARS.includes(c)) return `id "${id}" contains '${c}', which pgstac does not allow (${RESERVED_ID_CHARS.split("").join(" ")})`
  }
  return undefined
}

const parse = (row: { readonly doc: string }): StacRegistry.StacJson => JSON.parse(row.doc) as StacRegistry.StacJson

/** Thrown inside a transaction to roll it back and fail with this error. */
class Abort {
  constructor(readonly error: Errors.CatalogApiError) {}
}

export const make: Effect.Effect<StacRegistry.StacRegistryShape, never, Database> = Effect.map(
  Database,
  (db: DatabaseShape): StacRegistry.StacRegistryShape => {
    const sql = db.connection

    const attempt = <A>(
      action: string,
      where: { readonly collection?: string; readonly item?: string },
      body: () => A
    ): Effect.Effect<A, Errors.CatalogApiError> =>
      Effect.try({
        try: body,
        catch: (cause) =>
          cause instanceof Abort
            ? cause.error
            : new Errors.CatalogApiError({
                message: `embedded STAC registry: could not ${action}: ${cause instanceof Error ? cause.message : String(cause)}`,
                ...where,
                status: isBusy(cause) ? 503 : 500,
                hint: hintFor(db, cause),
                cause
              })
      })

    const collectionExists = (id: string): boolean =>
      sql.query<{ one: number }, [string]>("SELECT 1 AS one FROM stac_collections WHERE id = ?").get(id) !== null

    const getCollection: StacRegistry.StacRegistryShape["getCollection"] = (id) =>
      attempt(`read collection "${id}"`, { collection: id }, () => {
        const row = sql.query<{ doc: string }, [string]>("SELECT doc FROM stac_collections WHERE id = ?").get(id)
        return row === null ? Option.none() : Option.some(parse(row))
      })

    const putCollection: StacRegistry.StacRegistryShape["putCollection"] = (collection, mode) => {
      const id = collection["id"]
      const problem = idProblem(id)
      if (problem !== undefined || typeof id !== "string") {
        return Effect.fail(
          new Errors.CatalogApiError({
            message: `collection ${problem ?? "has no id"}`,
            ...(typeof id === "string" ? { collection: id } : {}),
            status: 400,
            hint: "rename the collection in the catalog"
          })
        )
      }
      return attempt(`${mode} collection "${id}"`, { collection: id }, () =>
        writeTransaction(db, () => {
          const doc = JSON.stringify(collection)
          if (mode === "create") {
            if (collectionExists(id)) {
              throw new Abort(
                new Errors.CatalogApiError({
                  message: `collection "${id}" already exists`,
                  collection: id,
                  status: 409,
                  hint: "replace it instead (--force), or delete it first"
                })
              )
            }
            sql.query<unknown, [string, string]>("INSERT INTO stac_collections (id, doc) VALUES (?, ?)").run(id, doc)
          } else {
            const { changes } = sql
              .query<unknown, [string, string]>("UPDATE stac_collections SET doc = ? WHERE id = ?")
              .run(doc, id)
            if (changes === 0) {
              throw new Abort(
                new Errors.CatalogApiError({
                  message: `collection "${id}" does not exist, so it cannot be replaced`,
                  collection: id,
                  status: 404,
                  hint: "create it instead"
                })
              )
            }
          }
        })
      )
    }

    /** The collection and its items, inside the caller's write transaction. */
    const drop = (id: string) => {
      // Explicitly: the schema's foreign key would cascade, but connections leave
      // foreign keys off (Database.ts says why).
      sql.query<unknown, [string]>("DELETE FROM stac_items WHERE collection = ?").run(id)
      sql.query<unknown, [string]>("DELETE FROM stac_collections WHERE id = ?").run(id)
    }

    const deleteCollection: StacRegistry.StacRegistryShape["deleteCollection"] = (id) =>
      attempt(`delete collection "${id}"`, { collection: id }, () => writeTransaction(db, () => drop(id)))

    const deleteCollectionIfEmpty: StacRegistry.StacRegistryShape["deleteCollectionIfEmpty"] = (id) =>
      attempt(`delete collection "${id}" unless it holds items`, { collection: id }, () =>
        // One write transaction: no item can arrive between the look and the delete.
        writeTransaction(db, () => {
          if (sql.query<unknown, [string]>("SELECT 1 FROM stac_items WHERE collection = ? LIMIT 1").get(id) !== null) return false
          sql.query<unknown, [string]>("DELETE FROM stac_collections WHERE id = ?").run(id)
          return true
        })
      )

    const deleteCollectionIfOnly: StacRegistry.StacRegistryShape["deleteCollectionIfOnly"] = (id, ids) =>
      attempt(`delete collection "${id}" unless it holds other items`, { collection: id }, () =>
        // One write transaction: no item can arrive between the look and the delete.
        writeTransaction(db, () => {
          const ours = new Set(ids)
          for (const row of sql.query<{ id: string }, [string]>("SELECT id FROM stac_items WHERE collection = ?").iterate(id)) {
            if (!ours.has(row.id)) return false
          }
          drop(id)
          return true
        })
      )

    const findItems: StacRegistry.StacRegistryShape["findItems"] = (collection, ids) =>
      attempt(`look up ${ids.length} item(s) in "${collection}"`, { collection }, () => {
        const found: Array<{ readonly id: string; readonly doc: string }> = []
        for (const chunk of chunks([...new Set(ids)], CHUNK)) {
          found.push(
            ...sql
              .query<{ id: string; doc: string }, Array<string>>(
                `SELECT id, doc FROM stac_items WHERE collection = ? AND id IN (${placeholders(chunk.length)})`
              )
              .all(collection, ...chunk)
          )
        }
        return found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map(parse)
      })

    const putItems: StacRegistry.StacRegistryShape["putItems"] = (collection, items, mode) =>
      Effect.gen(function* () {
        if (items.length === 0) return
        const seen = new Set<string>()
        const prepared: Array<readonly [string, string]> = []
        for (const item of items) {
          const id = item["id"]
          const fail = (message: string, hint: string) =>
            new Errors.CatalogApiError({
              message,
              collection,
              ...(typeof id === "string" ? { item: id } : {}),
              status: 400,
              hint
            })
          const problem = idProblem(id)
          if (problem !== undefined || typeof id !== "string") {
            return yield* fail(`item ${problem ?? "has no id"}`, "rename the item in the catalog")
          }
          if (item["geometry"] === null || item["geometry"] === undefined) {
            return yield* fail(
              `item "${id}" has no geometry; pgstac does not accept items with a null geometry`,
              "give the item a geometry (its footprint, or at least a point)"
            )
          }
          if (item["collection"] !== undefined && item["collection"] !== collection) {
            return yield* fail(
              `item "${id}" says it belongs to collection ${JSON.stringify(item["collection"])}, not "${collection}"`,
              "fix the item's collection field or publish it into its own collection"
            )
          }
          if (seen.has(id)) {
            return yield* fail(`item "${id}" appears twice in one request`, "item ids must be unique within a collection")
          }
          seen.add(id)
          prepared.push([id, JSON.stringify({ ...item, collection })])
        }
        yield* attempt(`${mode} ${items.length} item(s) in "${collection}"`, { collection }, () =>
          writeTransaction(db, () => {
            if (!collectionExists(collection)) {
              throw new Abort(
                new Errors.CatalogApiError({
                  message: `collection "${collection}" does not exist, so its items cannot be written`,
                  collection,
                  status: 424,
                  hint: "create the collection before its items"
                })
              )
            }
            if (mode === "create") {
              const existing = new Set<string>()
              for (const chunk of chunks([...seen], CHUNK)) {
                for (const row of sql
                  .query<{ id: string }, Array<string>>(
                    `SELECT id FROM stac_items WHERE collection = ? AND id IN (${placeholders(chunk.length)})`
                  )
                  .all(collection, ...chunk)) {
                  existing.add(row.id)
                }
              }
              const first = prepared.find(([id]) => existing.has(id))
              if (first) {
                throw new Abort(
                  new Errors.CatalogApiError({
                    message:
                      `item "${first[0]}" already exists in collection "${collection}"` +
                      (existing.size > 1 ? ` (and ${existing.size - 1} more of this request); nothing was written` : "; nothing was written"),
                    collection,
                    item: first[0],
                    status: 409,
                    hint: "replace the items instead (--force), or delete them first"
                  })
                )
              }
            }
            const write = sql.query<unknown, [string, string, string]>(
              mode === "create"
                ? "INSERT INTO stac_items (collection, id, doc) VALUES (?, ?, ?)"
                : "INSERT INTO stac_items (collection, id, doc) VALUES (?, ?, ?) ON CONFLICT (collection, id) DO UPDATE SET doc = excluded.doc"
            )
            for (const [id, doc] of prepared) write.run(collection, id, doc)
          })
        )
      })

    const deleteItems: StacRegistry.StacRegistryShape["deleteItems"] = (collection, ids) =>
      ids.length === 0
        ? Effect.void
        : attempt(`delete ${ids.length} item(s) from "${collection}"`, { collection }, () =>
            writeTransaction(db, () => {
              for (const chunk of chunks([...new Set(ids)], CHUNK)) {
                sql
                  .query<unknown, Array<string>>(
                    `DELETE FROM stac_items WHERE collection = ? AND id IN (${placeholders(chunk.length)})`
                  )
                  .run(collection, ...chunk)
              }
            })
          )

    const listCollections: StacRegistry.StacRegistryShape["listCollections"] = () =>
      attempt("list collections", {}, () =>
        sql.query<{ doc: string }, []>("SELECT doc FROM stac_collections ORDER BY id").all().map(parse)
      )

    const listItems: StacRegistry.StacRegistryShape["listItems"] = (collection) =>
      attempt(`list the items of "${collection}"`, { collection }, () => {
        // One read transaction, so the existence check and the list see the same state.
        return sql.transaction(() => {
          if (!collectionExists(collection)) {
            throw new Abort(
              new Errors.CatalogApiError({
                message: `collection "${collection}" does not exist`,
                collection,
                status: 404
              })
            )
          }
          return sql
            .query<{ doc: string }, [string]>("SELECT doc FROM stac_items WHERE collection = ? ORDER BY id")
            .all(collection)
            .map(parse)
        })()
      })

    // Transactions are always on in the embedded registry.
    const check = () => Effect.void
    return { rules: StacRegistry.PGSTAC_RULES, check, getCollection, putCollection, deleteCollection, deleteCollectionIfEmpty, deleteCollectionIfOnly, findItems, putItems, deleteItems, listCollections, listItems }
  }
)

/** StacRegistry over the shared {@link Database}. */
export const layer = (): Layer.Layer<StacRegistry.StacRegistry, never, Database> =>
  Layer.effect(StacRegistry.StacRegistry, make)
