/**
 * The few calls GRQ needs from a search engine, independent of the client.
 *
 * Elasticsearch and OpenSearch speak the same REST dialect for everything
 * hysds-stac does (bulk, search with scroll, composable index templates,
 * aliases, cluster health), but their official clients differ and refuse each
 * other's servers. So each engine module only builds its client and adapts
 * one raw request function ({@link Send}); the calls themselves, and the
 * reading of responses and errors, are written once here. Both clients are
 * used without their own retries: {@link SearchIndex} retries, the same way
 * for both, with backoff the clients do not have.
 */
import { Data, Effect, Option, Predicate } from "effect"
import type { Refresh } from "./Config.ts"

export type Kind = "opensearch" | "elasticsearch"

export const productName = (kind: Kind): string => (kind === "opensearch" ? "OpenSearch" : "Elasticsearch")

/**
 * A failed call, already stripped of credentials. `response`: the server
 * answered with an error status; `connection`/`timeout`: no usable answer;
 * `product`: the Elasticsearch client refused a server that is not Elasticsearch.
 */
export class EngineError extends Data.TaggedError("EngineError")<{
  readonly kind: "response" | "connection" | "timeout" | "product" | "client"
  readonly message: string
  readonly status?: number
  /** The server's error type, e.g. `index_not_found_exception`. */
  readonly type?: string
  readonly reason?: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: unknown
}> {}

export interface Request {
  readonly method: "GET" | "PUT" | "POST" | "DELETE"
  readonly path: string
  readonly query?: Readonly<Record<string, string | number | boolean>>
  readonly body?: unknown
  /** A prebuilt NDJSON body (bulk); sent as is. */
  readonly ndjson?: string
}

export interface Response {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

/** One HTTP request through the engine's client; fails on any non-2xx answer. */
export type Send = (request: Request) => Effect.Effect<Response, EngineError>

export interface Identity {
  readonly distribution: Kind | "unknown"
  readonly version?: string
}

export interface BulkItem {
  readonly _index?: string
  readonly _id?: string
  readonly status: number
  readonly result?: string
  readonly error?: { readonly type?: string; readonly reason?: string; readonly caused_by?: unknown }
}

export interface Hit {
  readonly _index: string
  readonly _id: string
  readonly _source?: Record<string, unknown>
}

export interface SearchPage {
  readonly hits: ReadonlyArray<Hit>
  readonly scrollId?: string
}

export interface Engine {
  readonly kind: Kind
  /** The URL as it may be printed (credentials redacted). */
  readonly url: string
  readonly redact: (text: string) => string
  /** What answers at the URL: OpenSearch, Elasticsearch or something else. */
  readonly identify: () => Effect.Effect<Identity, EngineError>
  readonly health: () => Effect.Effect<{ readonly status: string; readonly cluster: string }, EngineError>
  /** One `_bulk` request; the per-item results, in the order of the operations. */
  readonly bulk: (ndjson: string, refresh: Refresh) => Effect.Effect<ReadonlyArray<BulkItem>, EngineError>
  /** One `_refresh` of these indexes; missing ones are ignored. */
  readonly refresh: (indexes: ReadonlyArray<string>) => Effect.Effect<void, EngineError>
  readonly search: (
    index: string,
    body: Readonly<Record<string, unknown>>,
    scroll?: string
  ) => Effect.Effect<SearchPage, EngineError>
  readonly scroll: (scrollId: string, keepAlive: string) => Effect.Effect<SearchPage, EngineError>
  readonly clearScroll: (scrollId: string) => Effect.Effect<void, EngineError>
  readonly putIndexTemplate: (name: string, body: Readonly<Record<string, unknown>>) => Effect.Effect<void, EngineError>
  /** The composable template, or None when there is none with that name. */
  readonly getIndexTemplate: (name: string) => Effect.Effect<Option.Option<Record<string, unknown>>, EngineError>
  /** The legacy (`_template`) template, as grq2 installs it, or None. */
  readonly getLegacyTemplate: (name: string) => Effect.Effect<Option.Option<Record<string, unknown>>, EngineError>
  readonly updateAliases: (actions: ReadonlyArray<Record<string, unknown>>) => Effect.Effect<void, EngineError>
  /** The alias names of one index; fails with a 404 when the index does not exist. */
  readonly getAliases: (index: string) => Effect.Effect<ReadonlyArray<string>, EngineError>
  /** Removes one alias of one index; fails with a 404 when either is missing. */
  readonly deleteAlias: (index: string, alias: string) => Effect.Effect<void, EngineError>
}

const isRecord = Predicate.isRecord

/** Answers of a missing index, alias or template: 404 whatever the engine. */
export const isNotFound = (e: EngineError): boolean => e.kind === "response" && e.status === 404

/** A client's response headers as a plain record with lower-case names. */
export const headersOf = (raw: unknown): Record<string, string> => {
  const out: Record<string, string> = {}
  if (isRecord(raw)) {
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v === "string") out[k.toLowerCase()] = v
      else if (Array.isArray(v)) out[k.toLowerCase()] = v.join(", ")
    }
  }
  return out
}

/** ES and OpenSearch error bodies: `{error: {type, reason, root_cause}, status}`, or `{error: "text"}` for routing errors. */
const errorOf = (body: unknown): { type?: string; reason?: string } => {
  if (!isRecord(body)) return typeof body === "string" && body !== "" ? { reason: body.slice(0, 500) } : {}
  const error = body["error"]
  if (typeof error === "string") return { reason: error }
  if (!isRecord(error)) return {}
  const out: { type?: string; reason?: string } = {}
  if (typeof error["type"] === "string") out.type = error["type"]
  if (typeof error["reason"] === "string") out.reason = error["reason"]
  return out
}

const redactDeep = (value: unknown, redact: (s: string) => string): unknown => {
  if (value === undefined) return undefined
  try {
    return JSON.parse(redact(JSON.stringify(value))) as unknown
  } catch {
    return undefined
  }
}

/**
 * Turns an error thrown by either client into an {@link EngineError}. Both
 * clients descend from the same code and name their errors alike
 * (`ResponseError`, `ConnectionError`, `TimeoutError`, ...), which is why one
 * function serves both. The original error is not kept: its `meta` holds
 * the request, headers included.
 */
export const fromClientError = (error: unknown, redact: (s: string) => string): EngineError => {
  const e = isRecord(error) || error instanceof Error ? (error as unknown as Record<string, unknown>) : {}
  const name = typeof e["name"] === "string" ? e["name"] : "Error"
  const text = redact(typeof e["message"] === "string" ? e["message"] : String(error))
  const meta = isRecord(e["meta"]) ? e["meta"] : {}
  switch (name) {
    case "ResponseError": {
      const status = typeof meta["statusCode"] === "number" ? meta["statusCode"] : 0
      const body = redactDeep(meta["body"], redact)
      const { type, reason } = errorOf(body)
      const detail = type !== undefined ? `${type}: ${redact(reason ?? "")}` : reason !== undefined ? redact(reason) : text
      return new EngineError({
        kind: "response",
        message: `HTTP ${status}: ${detail}`,
        status,
        ...(type !== undefined ? { type } : {}),
        ...(reason !== undefined ? { reason: redact(reason) } : {}),
        headers: headersOf(meta["headers"]),
        body
      })
    }
    case "TimeoutError":
      return new EngineError({ kind: "timeout", message: text })
    case "ConnectionError":
    case "NoLivingConnectionsError":
    case "RequestAbortedError":
      return new EngineError({ kind: "connection", message: text })
    case "ProductNotSupportedError":
      return new EngineError({ kind: "product", message: text })
    default:
      return new EngineError({ kind: "client", message: `${name}: ${text}` })
  }
}

const hitsOf = (body: unknown): SearchPage => {
  const top = isRecord(body) ? body : {}
  const hits = isRecord(top["hits"]) && Array.isArray(top["hits"]["hits"]) ? (top["hits"]["hits"] as Array<Hit>) : []
  return typeof top["_scroll_id"] === "string" ? { hits, scrollId: top["_scroll_id"] } : { hits }
}

const unexpected = (what: string, body: unknown) =>
  new EngineError({ kind: "client", message: `unexpected ${what} response: ${JSON.stringify(body)?.slice(0, 300)}` })

/**
 * What answers at the URL. `GET /` says `version.distribution: "opensearch"`
 * on OpenSearch; Elasticsearch marks every answer with `X-Elastic-Product`,
 * even its errors (minimal distributions have no `GET /` at all and answer
 * 405, still with the header).
 */
const identify = (send: Send) => (): Effect.Effect<Identity, EngineError> =>
  send({ method: "GET", path: "/" }).pipe(
    Effect.map((r): Identity => {
      const version = isRecord(r.body) && isRecord(r.body["version"]) ? r.body["version"] : {}
      const number = typeof version["number"] === "string" ? { version: version["number"] } : {}
      if (version["distribution"] === "opensearch") return { distribution: "opensearch", ...number }
      if (r.headers["x-elastic-product"] === "Elasticsearch") return { distribution: "elasticsearch", ...number }
      return { distribution: "unknown", ...number }
    }),
    Effect.catchIf(
      (e) => e.kind === "response" && e.headers?.["x-elastic-product"] === "Elasticsearch",
      () =>
        send({ method: "GET", path: "/_nodes/_local", query: { filter_path: "nodes.*.version" } }).pipe(
          Effect.map((r): Identity => {
            const nodes = isRecord(r.body) && isRecord(r.body["nodes"]) ? Object.values(r.body["nodes"]) : []
            const first = nodes.find(isRecord)
            return typeof first?.["version"] === "string"
              ? { distribution: "elasticsearch", version: first["version"] }
              : { distribution: "elasticsearch" }
          }),
          Effect.orElseSucceed((): Identity => ({ distribution: "elasticsearch" }))
        )
    )
  )

const optional = <A>(effect: Effect.Effect<A, EngineError>): Effect.Effect<Option.Option<A>, EngineError> =>
  effect.pipe(
    Effect.map(Option.some),
    Effect.catchIf(isNotFound, () => Effect.succeed(Option.none()))
  )

/** The {@link Engine} calls, over one client's raw request function. */
export const make = (options: {
  readonly kind: Kind
  readonly url: string
  readonly redact: (text: string) => string
  readonly send: Send
}): Engine => {
  const { send } = options
  const enc = encodeURIComponent
  return {
    kind: options.kind,
    url: options.url,
    redact: options.redact,
    identify: identify(send),
    health: () =>
      send({ method: "GET", path: "/_cluster/health" }).pipe(
        Effect.flatMap((r) =>
          isRecord(r.body) && typeof r.body["status"] === "string"
            ? Effect.succeed({ status: r.body["status"], cluster: String(r.body["cluster_name"] ?? "") })
            : Effect.fail(unexpected("cluster health", r.body))
        )
      ),
    refresh: (indexes) =>
      send({
        method: "POST",
        path: `/${indexes.map(enc).join(",")}/_refresh`,
        query: { ignore_unavailable: true, allow_no_indices: true }
      }).pipe(Effect.asVoid),
    bulk: (ndjson, refresh) =>
      send({ method: "POST", path: "/_bulk", query: { refresh }, ndjson }).pipe(
        Effect.flatMap((r) =>
          isRecord(r.body) && Array.isArray(r.body["items"])
            ? Effect.succeed(
                (r.body["items"] as Array<unknown>).map((item): BulkItem => {
                  // Each item is `{<op>: {...}}`: index, create, update or delete.
                  const inner = isRecord(item) ? Object.values(item)[0] : undefined
                  return isRecord(inner) ? (inner as unknown as BulkItem) : { status: 0 }
                })
              )
            : Effect.fail(unexpected("bulk", r.body))
        )
      ),
    search: (index, body, scroll) =>
      send({
        method: "POST",
        path: `/${enc(index)}/_search`,
        ...(scroll !== undefined ? { query: { scroll } } : {}),
        body
      }).pipe(Effect.map((r) => hitsOf(r.body))),
    scroll: (scrollId, keepAlive) =>
      send({ method: "POST", path: "/_search/scroll", body: { scroll: keepAlive, scroll_id: scrollId } }).pipe(
        Effect.map((r) => hitsOf(r.body))
      ),
    clearScroll: (scrollId) =>
      send({ method: "DELETE", path: "/_search/scroll", body: { scroll_id: [scrollId] } }).pipe(Effect.asVoid),
    putIndexTemplate: (name, body) =>
      send({ method: "PUT", path: `/_index_template/${enc(name)}`, body }).pipe(Effect.asVoid),
    getIndexTemplate: (name) =>
      optional(send({ method: "GET", path: `/_index_template/${enc(name)}` })).pipe(
        Effect.map((found) =>
          Option.flatMap(found, (r) => {
            // `{index_templates: [{name, index_template: {...}}]}`
            const list = isRecord(r.body) && Array.isArray(r.body["index_templates"]) ? r.body["index_templates"] : []
            const entry = (list as Array<unknown>).find((t) => isRecord(t) && t["name"] === name)
            return isRecord(entry) && isRecord(entry["index_template"]) ? Option.some(entry["index_template"]) : Option.none()
          })
        )
      ),
    getLegacyTemplate: (name) =>
      optional(send({ method: "GET", path: `/_template/${enc(name)}` })).pipe(
        Effect.map((found) =>
          Option.flatMap(found, (r) =>
            // `{<name>: {...}}`
            isRecord(r.body) && isRecord(r.body[name]) ? Option.some(r.body[name]) : Option.none()
          )
        )
      ),
    updateAliases: (actions) => send({ method: "POST", path: "/_aliases", body: { actions } }).pipe(Effect.asVoid),
    getAliases: (index) =>
      send({ method: "GET", path: `/${enc(index)}/_alias` }).pipe(
        // `{<index>: {aliases: {<alias>: {...}}}}`
        Effect.map((r) => {
          const entry = isRecord(r.body) ? r.body[index] : undefined
          return isRecord(entry) && isRecord(entry["aliases"]) ? Object.keys(entry["aliases"]) : []
        })
      ),
    deleteAlias: (index, alias) =>
      send({ method: "DELETE", path: `/${enc(index)}/_alias/${enc(alias)}` }).pipe(Effect.asVoid)
  }
}
