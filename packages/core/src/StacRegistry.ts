/**
 * Port: the STAC API that serves collections and items (STAC-FastAPI with the
 * Transactions extension in production). Items always belong to a collection.
 */
import { Context, type Effect, type Option } from "effect"
import type { CatalogApiError } from "./Errors.ts"

export type StacJson = Readonly<Record<string, unknown>>

export interface StacRegistryShape {
  /** Reachable and accepting transactions; fails saying what is missing. */
  readonly check: () => Effect.Effect<void, CatalogApiError>
  readonly getCollection: (id: string) => Effect.Effect<Option.Option<StacJson>, CatalogApiError>
  /** `create` fails when the id exists; `replace` fails when it does not. */
  readonly putCollection: (collection: StacJson, mode: "create" | "replace") => Effect.Effect<void, CatalogApiError>
  /** Deleting a missing collection succeeds. */
  readonly deleteCollection: (id: string) => Effect.Effect<void, CatalogApiError>
  /** The items among `ids` that exist in `collection`. */
  readonly findItems: (
    collection: string,
    ids: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<StacJson>, CatalogApiError>
  /** `create` fails naming the first item that exists; `replace` creates or replaces. */
  readonly putItems: (
    collection: string,
    items: ReadonlyArray<StacJson>,
    mode: "create" | "replace"
  ) => Effect.Effect<void, CatalogApiError>
  /** Deleting missing items succeeds. */
  readonly deleteItems: (collection: string, ids: ReadonlyArray<string>) => Effect.Effect<void, CatalogApiError>
  readonly listCollections: () => Effect.Effect<ReadonlyArray<StacJson>, CatalogApiError>
  readonly listItems: (collection: string) => Effect.Effect<ReadonlyArray<StacJson>, CatalogApiError>
}

export class StacRegistry extends Context.Tag("@hysds-stac/core/StacRegistry")<StacRegistry, StacRegistryShape>() {}
