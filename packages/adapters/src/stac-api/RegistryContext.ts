/**
 * What every part of the STAC API adapter shares once the configuration is
 * read: the transport to one server, its credentials (for redaction), the
 * sizes and bounds from the configuration with their defaults applied, and the
 * few error builders all of them use.
 *
 * The other modules (Collections, ItemReads, ItemChecks, ItemWrites,
 * CreateCleanup, Capabilities) take an `Api` and may assume its numbers are
 * already clamped to usable values and its messages go through redaction.
 */
import { Effect } from "effect"
import { Errors, type StacRegistry } from "@hysds-stac/core"
import type * as Auth from "./Auth.ts"
import { canonicalHref, quote, type Json } from "./Documents.ts"
import type * as Transport from "./Transport.ts"

export interface Settings {
  /** Page size when listing. */
  readonly pageSize: number
  /** Items per bulk request. */
  readonly batchSize: number
  /** Parallel single-item requests. */
  readonly concurrency: number
  /** How long a write may take to become visible to search. */
  readonly visibilityTimeoutMs: number
  /** What the server refuses (ids, geometry), checked before sending. */
  readonly rules: StacRegistry.StacRules
  /** Which server this is (see Flavor.ts); for messages. */
  readonly flavor: "pgstac" | "sfeos" | "unknown"
}

export interface Api extends Settings {
  readonly base: Auth.BaseUrl
  readonly auth: Auth.Auth
  readonly http: Transport.Transport
  readonly collectionUrl: (id: string) => string
  readonly itemUrl: (collection: string, id: string) => string
  readonly itemsUrl: (collection: string, query?: Readonly<Record<string, string>>) => string
  readonly bulkItemsUrl: (collection: string) => string
  /** Fails with a CatalogApiError whose message has been through redaction. */
  readonly fail: (fields: ConstructorParameters<typeof Errors.CatalogApiError>[0]) => Effect.Effect<never, Errors.CatalogApiError>
}

export const make = (base: Auth.BaseUrl, auth: Auth.Auth, http: Transport.Transport, settings: Settings): Api => {
  const enc = encodeURIComponent
  return {
    ...settings,
    base,
    auth,
    http,
    collectionUrl: (id) => http.url(`collections/${enc(id)}`),
    itemUrl: (collection, id) => http.url(`collections/${enc(collection)}/items/${enc(id)}`),
    itemsUrl: (collection, query) => http.url(`collections/${enc(collection)}/items`, query),
    bulkItemsUrl: (collection) => http.url(`collections/${enc(collection)}/bulk_items`),
    fail: (fields) => Effect.fail(new Errors.CatalogApiError({ ...fields, message: auth.redact(fields.message) }))
  }
}

/** `error` with `note` appended to its message. */
export const withNote = (error: Errors.CatalogApiError, note: string) =>
  new Errors.CatalogApiError({
    message: `${error.message}${note}`,
    ...(error.collection !== undefined ? { collection: error.collection } : {}),
    ...(error.item !== undefined ? { item: error.item } : {}),
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.hint !== undefined ? { hint: error.hint } : {})
  })

/** `error` with its hint replaced. */
export const withHint = (error: Errors.CatalogApiError, hint: string) =>
  new Errors.CatalogApiError({
    message: error.message,
    ...(error.collection !== undefined ? { collection: error.collection } : {}),
    ...(error.item !== undefined ? { item: error.item } : {}),
    ...(error.status !== undefined ? { status: error.status } : {}),
    hint
  })

/** The canonical link we sent must come back: it is the way from the API to the static JSON. */
export const keptCanonical = (api: Api, kind: "collection" | "item", collection: string, sent: Json, stored: Json) => {
  const href = canonicalHref(sent)
  if (href === undefined || canonicalHref(stored) === href) return Effect.void
  const id = String(sent["id"])
  return api.fail({
    message: `the STAC API dropped the canonical link of ${kind} ${quote(id)} (${href}), so its published JSON cannot be found from the API`,
    collection,
    ...(kind === "item" ? { item: id } : {}),
    hint: "the server must keep links other than self/root/parent/collection/items; check its version and link handling"
  })
}
