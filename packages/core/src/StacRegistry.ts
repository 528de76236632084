/**
 * Port: the STAC API that serves collections and items (STAC-FastAPI with the
 * Transactions extension in production). Items always belong to a collection.
 */
import { Context, type Effect, type Option } from "effect"
import type { CatalogApiError } from "./Errors.ts"

export type StacJson = Readonly<Record<string, unknown>>

/**
 * What a registry refuses, as plain data, so planning can refuse the same
 * collections and items before anything is claimed or copied (a refusal found
 * only by `putItems` comes after the files were published and costs a rollback).
 * The contract suite checks that each registry's rules are true of its server.
 */
export interface StacRules {
  /** Characters no collection or item id may contain. */
  readonly forbiddenIdChars: string
  /** Longest id accepted, in characters; no limit when absent. */
  readonly maxIdLength?: number
  /** Whether an item with a null geometry is refused. */
  readonly geometryRequired: boolean
}

/**
 * pgstac's rules (STAC-FastAPI's usual backend, and what the embedded registry
 * emulates): ids may not contain `: / ? # [ ] @ ! $ & ' ( ) * + , ; =` (answered
 * 400) and every item needs a geometry ("Geometry is required in pgstac").
 * Also what `validate` checks when no registry is at hand.
 */
export const PGSTAC_RULES: StacRules = { forbiddenIdChars: ":/?#[]@!$&'()*+,;=", geometryRequired: true }

export interface StacRegistryShape {
  /** What this registry refuses; planning checks the job against it before any side effect. */
  readonly rules: StacRules
  /** Reachable and accepting transactions; fails saying what is missing. */
  readonly check: () => Effect.Effect<void, CatalogApiError>
  readonly getCollection: (id: string) => Effect.Effect<Option.Option<StacJson>, CatalogApiError>
  /** `create` fails when the id exists; `replace` fails when it does not. */
  readonly putCollection: (collection: StacJson, mode: "create" | "replace") => Effect.Effect<void, CatalogApiError>
  /** Deleting a missing collection succeeds. */
  readonly deleteCollection: (id: string) => Effect.Effect<void, CatalogApiError>
  /**
   * Deletes the collection unless it holds an item; answers whether it is gone
   * (a missing one is). Why: deleting a collection deletes its items, and a
   * collection one run created may since hold another job's, which that job
   * reported published. A backend that cannot check and delete in one
   * transaction leaves a window of one request between the two.
   */
  readonly deleteCollectionIfEmpty: (id: string) => Effect.Effect<boolean, CatalogApiError>
  /**
   * Deletes the collection, and its items with it, when every item it holds has
   * one of `ids` (or it holds none); answers whether it is gone. False, with
   * nothing deleted, when it holds another item, or when the server cannot
   * tell (then the caller deletes its items one by one). Why: a rollback of a
   * collection it created and filled alone drops it in one request instead of
   * one request per item (the Transactions extension has no bulk delete).
   * The same window of one request as `deleteCollectionIfEmpty` on a backend
   * that cannot check and delete in one transaction.
   */
  readonly deleteCollectionIfOnly: (id: string, ids: ReadonlyArray<string>) => Effect.Effect<boolean, CatalogApiError>
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
