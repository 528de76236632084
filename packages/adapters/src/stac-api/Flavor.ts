/**
 * Which STAC-FastAPI backend answers at the configured URL, and what the
 * adapter does differently for it. Learned once, when the registry is built:
 * from `STAC_API_FLAVOR` (`pgstac`, `sfeos`), or with `auto` by asking the
 * server what it is (never by guessing from an error an ingest ran into).
 *
 * - `pgstac`: stac-fastapi-pgstac; `GET /_mgmt/health` names `pgstac`.
 * - `sfeos`: stac-fastapi-opensearch / -elasticsearch ("SFEOS"); its
 *   conformance lists the aggregation extension
 *   (`https://api.stacspec.org/v0.3.0/aggregation`), which pgstac does not
 *   serve, and its default landing title is `stac-fastapi-opensearch` or
 *   `-elasticsearch`.
 * - `unknown`: anything else (or no answer): written to as carefully as SFEOS
 *   (wait long for visibility) with pgstac's id rules, the stricter ones.
 *
 * Observed on stac-fastapi-opensearch 8.0.0 on OpenSearch 3.8.0, with
 * `DATABASE_REFRESH` unset (false, its default), curl against the test
 * service; where pgstac (7.2.0 / 0.10.0) differs it is said:
 * - "Create" where PUT might upsert: `PUT /collections/{c}/items/{id}` of a
 *   missing item → 404 (no upsert in 8.0.0, as pgstac), so `create` never uses
 *   PUT on either; `POST .../items` of an existing id → 409
 *   `ItemAlreadyExistsError` naming it. But `bulk_items` with `method:
 *   insert` is NOT all or nothing: an existing id comes back as 200 with
 *   `errors: [{id, msg: "...version conflict, document already exists..."}]`
 *   while the other items of the request ARE written (pgstac: 409 for the
 *   whole request, nothing written). ItemWrites turns such an error into a
 *   409 naming the item, and the create's undo deletes what the batch wrote.
 * - Visibility: item writes and deletes become visible to `/search` and to
 *   `GET .../items/{id}` only after the index refreshes (about 1 s; 1.9 s
 *   measured on the loaded test machine; the GET is a search too, not a
 *   real-time get). Collections are read by id at once, but the listing
 *   lags like items (Collections.ts waits for it with a collection search). The
 *   server offers no per-request refresh, so before a write reports success
 *   the adapter searches until it sees it (ItemReads.awaitSearch), for up to
 *   `visibilityTimeoutMs` (default 30 s here, 5 s on pgstac, which is
 *   transactional). Deletes of an undo are awaited the same way.
 * - A collection delete takes its items with it (204; the items' index is
 *   dropped, and a collection re-created under the same id starts empty), as
 *   on pgstac (200). A missing collection → 404.
 * - Ids: every character pgstac refuses is accepted (201), but an item or
 *   collection whose id holds `/` cannot be read or deleted by its URL
 *   afterwards (404 even percent-encoded), so `/` is refused before sending.
 *   Null geometry is accepted (201, also in bulk_items).
 * - Items into a missing collection → 404 `NotFoundError` naming it (pgstac:
 *   500), also for an empty bulk_items request (pgstac: 200).
 * - `DELETE` of a missing item of an existing collection → 204 (pgstac: 404).
 * - Each write stamps `properties.updated` with the time of the write, and
 *   `properties.created` when the item has none: an item put back by an undo
 *   keeps its `created` but gets a new `updated` (pgstac stores what it is
 *   sent). sameItem ignores these stamps.
 * - bulk_items: a key that differs from the item's id → 200, written under
 *   the item's id; a foreign `collection` → 200 with an error for it; an item
 *   without datetime → 200 and written (pgstac: a bare 500). A bad `method` →
 *   400. Transactions and bulk transactions are on by default
 *   (`ENABLE_TRANSACTIONS_EXTENSIONS`), and advertised in /conformance as on
 *   pgstac (bulk_items is not advertised by either).
 * - PUT collection → 200 and keeps its items, as on pgstac.
 */
import { Effect, Predicate } from "effect"
import { StacRegistry } from "@hysds-stac/core"
import type { Api } from "./RegistryContext.ts"
import { isOk } from "./Documents.ts"

export type Setting = "auto" | "pgstac" | "sfeos"
export type Flavor = "pgstac" | "sfeos" | "unknown"

/**
 * SFEOS's rules: it stores any id, but one holding `/` cannot be addressed
 * in a URL afterwards, and a null geometry is accepted.
 */
export const SFEOS_RULES: StacRegistry.StacRules = { forbiddenIdChars: "/", geometryRequired: false }

export interface Behaviour {
  readonly flavor: Flavor
  readonly rules: StacRegistry.StacRules
  /** How long a write may take to become visible to search, unless configured. */
  readonly visibilityTimeoutMs: number
}

export const behaviour = (flavor: Flavor): Behaviour =>
  flavor === "pgstac"
    ? { flavor, rules: StacRegistry.PGSTAC_RULES, visibilityTimeoutMs: 5_000 }
    : flavor === "sfeos"
      ? { flavor, rules: SFEOS_RULES, visibilityTimeoutMs: 30_000 }
      : { flavor, rules: StacRegistry.PGSTAC_RULES, visibilityTimeoutMs: 30_000 }

const AGGREGATION = /\/aggregation\/?$/
const SFEOS_TITLE = /stac-fastapi-(opensearch|elasticsearch)/i

/**
 * What the server says it is. Any failure (down, refused, not JSON) is
 * `unknown`: `check` reports the server's problems, this only picks defaults.
 */
export const detect = (api: Api): Effect.Effect<Flavor> =>
  Effect.gen(function* () {
    const purpose = { action: "find out which STAC API serves this URL" }
    const health = yield* api.http.send({ method: "GET", url: api.http.url("_mgmt/health") }, purpose)
    if (isOk(health.status) && Predicate.isRecord(health.body) && "pgstac" in health.body) return "pgstac" as const
    const landing = yield* api.http.send({ method: "GET", url: api.base.href }, purpose)
    const page = isOk(landing.status) && Predicate.isRecord(landing.body) ? landing.body : {}
    const text = [page["title"], page["description"]].filter((t) => typeof t === "string").join(" ")
    if (SFEOS_TITLE.test(text)) return "sfeos" as const
    const conformance = yield* api.http.send({ method: "GET", url: api.http.url("conformance") }, purpose)
    const listed = Predicate.isRecord(conformance.body) && Array.isArray(conformance.body["conformsTo"]) ? conformance.body["conformsTo"] : page["conformsTo"]
    const uris = Array.isArray(listed) ? listed : []
    return uris.some((u) => typeof u === "string" && AGGREGATION.test(u)) ? ("sfeos" as const) : ("unknown" as const)
  }).pipe(Effect.orElseSucceed(() => "unknown" as const))

/** The flavor for `setting`: fixed, or probed once. */
export const resolve = (api: Api, setting: Setting): Effect.Effect<Flavor> =>
  setting === "auto"
    ? Effect.tap(detect(api), (f) => Effect.logDebug(`STAC API ${api.base.display}: flavor ${f}`))
    : Effect.succeed(setting)
