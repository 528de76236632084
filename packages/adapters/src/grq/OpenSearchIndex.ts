/**
 * GrqIndex on OpenSearch, through `@opensearch-project/opensearch`.
 *
 * OpenSearch needs its own client: `@elastic/elasticsearch` refuses any
 * server that does not answer `X-Elastic-Product: Elasticsearch`. Only the
 * client lives here; what GRQ does with it is in SearchIndex.ts.
 */
import { Effect, type Layer, type Scope } from "effect"
import type { Errors, GrqIndex } from "@hysds-stac/core"
import * as Config from "./Config.ts"
import * as Engine from "./Engine.ts"
import * as SearchIndex from "./SearchIndex.ts"

export type GrqConfig = Config.GrqConfig


/** The engine over an OpenSearch client; the client is closed with the scope. */
export const engine = (connection: Config.Connection): Effect.Effect<Engine.Engine, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      // Loaded when used: a process on Elasticsearch (or on the embedded index) never holds this client's code.
      Effect.map(Effect.promise(() => import("@opensearch-project/opensearch")), ({ Client }) =>
          new Client({
            node: connection.node,
            // Retries are SearchIndex's (with backoff); the client's would retry at once.
            maxRetries: 0,
            requestTimeout: connection.requestTimeoutMs,
            ...(connection.auth ? { auth: { username: connection.auth.username, password: connection.auth.password } } : {}),
            // OpenSearch has no API keys of its own, but gateways in front of it take ES-style ones.
            ...(connection.apiKey ? { headers: { authorization: `ApiKey ${connection.apiKey}` } } : {})
          })
      ),
      (client) => Effect.promise(() => client.close()).pipe(Effect.ignore)
    ),
    (client): Engine.Engine =>
      Engine.make({
        kind: "opensearch",
        url: connection.display,
        redact: connection.redact,
        send: (request) =>
          Effect.tryPromise({
            try: (signal) => {
              const promise = client.transport.request({
                method: request.method,
                path: request.path,
                ...(request.query ? { querystring: { ...request.query } } : {}),
                ...(request.body !== undefined ? { body: request.body as Record<string, unknown> } : {}),
                ...(request.ndjson !== undefined ? { bulkBody: request.ndjson } : {})
              })
              signal.addEventListener("abort", () => promise.abort())
              return promise
            },
            catch: (e) => Engine.fromClientError(e, connection.redact)
          }).pipe(
            Effect.map((r): Engine.Response => ({ status: r.statusCode ?? 0, headers: Engine.headersOf(r.headers), body: r.body }))
          )
      })
  )

/** GrqIndex on the OpenSearch cluster at `config.url`; fails to build only on a bad config (nothing is contacted). */
export const layer: (config: GrqConfig) => Layer.Layer<GrqIndex.GrqIndex, Errors.ConfigError> = SearchIndex.layerOver(engine)
