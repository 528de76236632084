/**
 * GrqIndex on Elasticsearch, through `@elastic/elasticsearch` (8.x, for
 * Elasticsearch 8 servers: the client's major must match the server's).
 *
 * Only the client lives here; what GRQ does with it is in SearchIndex.ts.
 * Two things about this client shape it:
 * - it checks that every successful answer carries `X-Elastic-Product:
 *   Elasticsearch`, so pointed at OpenSearch it fails each request with
 *   `ProductNotSupportedError`, which `check` turns into a clear message;
 * - its default undici connection fails under Bun (every request ends in
 *   "undefined is not an object (evaluating 'response.headers')"), so it
 *   uses the client's Node `http` connection instead.
 */
import { Effect, type Layer, type Scope } from "effect"
import type { Errors, GrqIndex } from "@hysds-stac/core"
import * as Config from "./Config.ts"
import * as Engine from "./Engine.ts"
import * as SearchIndex from "./SearchIndex.ts"

export type GrqConfig = Config.GrqConfig


/** The engine over an Elasticsearch client; the client is closed with the scope. */
export const engine = (connection: Config.Connection): Effect.Effect<Engine.Engine, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      // Loaded when used: a process on OpenSearch (or on the embedded index) never holds this client's code.
      Effect.map(Effect.promise(() => import("@elastic/elasticsearch")), ({ Client, HttpConnection }) =>
          new Client({
            node: connection.node,
            Connection: HttpConnection,
            // Retries are SearchIndex's (with backoff and the same rules as for OpenSearch).
            maxRetries: 0,
            requestTimeout: connection.requestTimeoutMs,
            ...(connection.auth ? { auth: { username: connection.auth.username, password: connection.auth.password } } : {}),
            ...(connection.apiKey ? { auth: { apiKey: connection.apiKey } } : {})
          })
      ),
      (client) => Effect.promise(() => client.close()).pipe(Effect.ignore)
    ),
    (client): Engine.Engine =>
      Engine.make({
        kind: "elasticsearch",
        url: connection.display,
        redact: connection.redact,
        send: (request) =>
          Effect.tryPromise({
            try: (signal) =>
              client.transport.request(
                {
                  method: request.method,
                  path: request.path,
                  ...(request.query ? { querystring: { ...request.query } } : {}),
                  ...(request.body !== undefined ? { body: request.body as Record<string, unknown> } : {}),
                  ...(request.ndjson !== undefined ? { bulkBody: request.ndjson } : {})
                },
                { meta: true, signal }
              ),
            catch: (e) => Engine.fromClientError(e, connection.redact)
          }).pipe(Effect.map((r): Engine.Response => ({ status: r.statusCode, headers: Engine.headersOf(r.headers), body: r.body })))
      })
  )

/** GrqIndex on the Elasticsearch cluster at `config.url`; fails to build only on a bad config (nothing is contacted). */
export const layer: (config: GrqConfig) => Layer.Layer<GrqIndex.GrqIndex, Errors.ConfigError> = SearchIndex.layerOver(engine)
