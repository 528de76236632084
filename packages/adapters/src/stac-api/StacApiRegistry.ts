/**
 * StacRegistry on a STAC API with the Transactions extension (STAC-FastAPI in
 * production), over `@effect/platform`'s HttpClient.
 *
 * The code is written to what stac-fastapi-pgstac 7.2.0 on pgstac 0.10.0 was
 * observed to answer (curl against the test service). Each observation is
 * recorded in the header of the module it explains:
 * - Documents.ts: ids pgstac refuses, links it regenerates, fields it drops;
 * - Collections.ts: collection create/replace/delete/list answers, and the
 *   500 for items into a missing collection (hence the lookup first);
 * - ItemChecks.ts: what pgstac refuses in an item (checked before sending);
 * - ItemWrites.ts: single and bulk_items writes, their 409s and 200-with-errors;
 * - CreateCleanup.ts: item deletes, and undoing a failed create;
 * - ItemReads.ts: `POST /search` paging, and read-your-writes;
 * - Capabilities.ts: /conformance, and bulk_items not being advertised.
 * The second server, stac-fastapi-opensearch 8.0.0 ("SFEOS"), differs in
 * create, visibility, ids and error codes: Flavor.ts records each observed
 * difference and how the adapter learns which server it talks to.
 * Items.ts puts the item writes together; RegistryContext.ts is what they all share;
 * Transport.ts and Auth.ts are the HTTP and the credentials.
 *
 * This module is the public face: the configuration, `make` and the layers.
 */
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { Effect, Either, Layer } from "effect"
import { type Errors, Retry as CoreRetry, StacRegistry } from "@hysds-stac/core"
import * as RegistryContext from "./RegistryContext.ts"
import * as Auth from "./Auth.ts"
import * as Capabilities from "./Capabilities.ts"
import * as Collections from "./Collections.ts"
import * as Flavor from "./Flavor.ts"
import * as ItemReads from "./ItemReads.ts"
import * as Items from "./Items.ts"
import * as Transport from "./Transport.ts"

export interface StacApiConfig {
  /** Base URL; may contain `user:pass@` (sent as Basic auth, never printed). */
  readonly url: string
  /** Sent as `X-Api-Key` (HySDS's STAC_API_KEY). */
  readonly apiKey?: string
  /** Re-read when its mtime changes, so keys rotate without a restart; wins over `apiKey`. */
  readonly apiKeyFile?: string
  /** Sent as `Authorization: Bearer`. */
  readonly bearerToken?: string
  /** Same file rule as `apiKeyFile`; wins over `bearerToken`. */
  readonly bearerTokenFile?: string
  /** Bound on every request, body included (STAC_API_TIMEOUT). */
  readonly timeoutMs: number
  /** Items per bulk request (STAC_BATCH_SIZE). */
  readonly batchSize: number
  /** `auto`: probe `POST /collections/{id}/bulk_items` once; `off`: one request per item. */
  readonly bulkItems: "auto" | "on" | "off"
  /** Retries of 429, 5xx, connection failures and timeouts (never other 4xx); default 3. */
  readonly maxRetries?: number
  /** First backoff before jitter; default 250 ms. */
  readonly retryBaseDelayMs?: number
  /** Longest single backoff, Retry-After included; default 10 s. */
  readonly retryMaxDelayMs?: number
  /** Page size when listing; default 500. */
  readonly pageSize?: number
  /** Parallel single-item requests (deletes, writes without bulk_items); default 8. */
  readonly concurrency?: number
  /** How long a write may take to become visible to search; default per flavor (5 s pgstac, 30 s otherwise). */
  readonly visibilityTimeoutMs?: number
  /** Which server this is (STAC_API_FLAVOR): `auto` (default) asks it once, when the registry is built. */
  readonly flavor?: Flavor.Setting
}

type Shape = StacRegistry.StacRegistryShape

export { canonicalHref, RESERVED_ID_CHARS, SERVER_LINK_RELS, withoutServerLinks } from "./Documents.ts"

/** Every method fails with `error`: for a configuration that cannot work (bad URL). */
const failing = (error: Errors.CatalogApiError): Shape => {
  const fail = () => Effect.fail(error)
  return {
    rules: StacRegistry.PGSTAC_RULES,
    check: fail,
    getCollection: fail,
    putCollection: fail,
    deleteCollection: fail,
    deleteCollectionIfEmpty: fail,
    deleteCollectionIfOnly: fail,
    findItems: fail,
    putItems: fail,
    deleteItems: fail,
    listCollections: fail,
    listItems: fail
  }
}

export const make = (config: StacApiConfig): Effect.Effect<Shape, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const parsed = yield* Effect.either(Auth.parseBaseUrl(config.url))
    if (Either.isLeft(parsed)) return failing(parsed.left)
    const base = parsed.right
    const auth = Auth.make(base, config)
    const http = yield* Transport.make(base, auth, {
      timeoutMs: config.timeoutMs,
      retry: {
        retries: Math.max(0, config.maxRetries ?? CoreRetry.requestDefaults.retries),
        baseMillis: config.retryBaseDelayMs ?? CoreRetry.requestDefaults.baseMillis,
        maxMillis: config.retryMaxDelayMs ?? CoreRetry.requestDefaults.maxMillis
      }
    })
    const sizes = {
      pageSize: Math.max(1, config.pageSize ?? 500),
      batchSize: Math.max(1, config.batchSize),
      concurrency: Math.max(1, config.concurrency ?? 8)
    }
    // The flavor is asked once, with one untraced try and a short bound: a
    // server that is down is `unknown` here and reported by `check`.
    const probeHttp = yield* Transport.make(base, auth, {
      timeoutMs: Math.min(config.timeoutMs, 10_000),
      retry: { retries: 0, baseMillis: CoreRetry.requestDefaults.baseMillis, maxMillis: CoreRetry.requestDefaults.maxMillis }
    })
    const flavor = yield* Flavor.resolve(RegistryContext.make(base, auth, probeHttp, { ...sizes, visibilityTimeoutMs: 0, rules: StacRegistry.PGSTAC_RULES, flavor: "unknown" }), config.flavor ?? "auto").pipe(
      Effect.withTracerEnabled(false)
    )
    const behaviour = Flavor.behaviour(flavor)
    const api = RegistryContext.make(base, auth, http, {
      ...sizes,
      visibilityTimeoutMs: Math.max(0, config.visibilityTimeoutMs ?? behaviour.visibilityTimeoutMs),
      rules: behaviour.rules,
      flavor
    })
    return {
      // The server's own (see Flavor.ts), checked against it by the contract suite.
      rules: behaviour.rules,
      check: Capabilities.check(api),
      getCollection: Collections.getCollection(api),
      putCollection: Collections.putCollection(api),
      deleteCollection: Collections.deleteCollection(api),
      deleteCollectionIfEmpty: Collections.deleteCollectionIfEmpty(api),
      deleteCollectionIfOnly: Collections.deleteCollectionIfOnly(api),
      findItems: ItemReads.findItems(api),
      putItems: Items.putItems(api, Capabilities.bulkProbe(api, config.bulkItems)),
      deleteItems: Items.deleteItems(api),
      listCollections: Collections.listCollections(api),
      listItems: ItemReads.listItems(api)
    } satisfies Shape
  })

/** StacRegistry on the STAC API at `config.url`, with the HttpClient from the context. */
export const layerWithoutHttpClient = (
  config: StacApiConfig
): Layer.Layer<StacRegistry.StacRegistry, never, HttpClient.HttpClient> => Layer.effect(StacRegistry.StacRegistry, make(config))

/** StacRegistry on the STAC API at `config.url`, over the platform's `fetch`. */
export const layer = (config: StacApiConfig): Layer.Layer<StacRegistry.StacRegistry> =>
  layerWithoutHttpClient(config).pipe(Layer.provide(FetchHttpClient.layer))
