/**
 * The service assembled from its layers, in the order a safe start needs:
 *
 *   1. platform, backends (the same `Backends.layer(settings)` as the CLI) and
 *      the journal (the CLI's: the state dir's file journal, or the shared one
 *      HYSDS_STAC_JOURNAL names, which the replicas of the service and the
 *      workers' CLIs may all use at once);
 *   2. recovery of what dead processes left unfinished, BEFORE the first
 *      request can start an ingest of the same products;
 *   3. the ingest queue, readiness, authentication, the API handlers, and the
 *      Bun HTTP server;
 *   4. a finalizer that drains the queue. It is added last, so on shutdown it
 *      runs FIRST, while the HTTP server still answers: waiting clients get
 *      their final state, pollers see the ingest end, readiness says 503.
 */
import { HttpApiBuilder, HttpServer } from "@effect/platform"
import { BunContext, BunHttpServer } from "@effect/platform-bun"
import { Backends, EngineMemory, NodeJobTree } from "@hysds-stac/adapters"
import { Context, Duration, Effect, Layer } from "effect"
import * as path from "node:path"
import { Api } from "./Api.ts"
import { ApiKeys, type ApiKeysShape } from "./ApiKeys.ts"
import * as Authentication from "./Authentication.ts"
import * as HealthHandlers from "./handlers/Health.ts"
import * as IngestRoutes from "./handlers/IngestRoutes.ts"
import * as OperationsHandlers from "./handlers/Operations.ts"
import * as ValidationHandlers from "./handlers/Validation.ts"
import * as IngestQueue from "./IngestQueue.ts"
import * as Metrics from "./Metrics.ts"
import * as Readiness from "./Readiness.ts"
import * as RequestMiddleware from "./RequestMiddleware.ts"
import { SecretMask, type SecretMaskShape } from "./SecretMask.ts"
import { type Config, ServerConfig } from "./ServerConfig.ts"
import * as StartupRecovery from "./StartupRecovery.ts"

export const journalDir = (config: Config) => path.join(config.stateDir, "journal")

/** Every route of the contract, implemented. */
export const ApiLive = HttpApiBuilder.api(Api).pipe(
  Layer.provide([IngestRoutes.layer, ValidationHandlers.layer, HealthHandlers.layer, OperationsHandlers.layer])
)

/** Step 1: what ingests and recovery run on. */
export const foundation = (config: Config, keys: ApiKeysShape, mask: SecretMaskShape) =>
  Layer.mergeAll(
    BunContext.layer,
    NodeJobTree.layer,
    EngineMemory.layer(process.env),
    Backends.layer(config.settings),
    Backends.journalLayer(config.settings, { retentionDays: config.journalRetentionDays }),
    Layer.succeed(ServerConfig, config),
    Layer.succeed(ApiKeys, keys),
    Layer.succeed(SecretMask, mask)
  )

/** Step 3: the queue and the HTTP server (whose handlers need the queue). */
export const http = (config: Config, inflight: RequestMiddleware.Inflight, mask: SecretMaskShape) =>
  HttpApiBuilder.serve(RequestMiddleware.make({ maxBodyBytes: config.maxBodyBytes, mask, inflight })).pipe(
    Layer.provide(ApiLive),
    Layer.provide(Authentication.layer),
    Layer.provideMerge(Readiness.layer),
    Layer.provideMerge(IngestQueue.layer),
    Layer.provideMerge(
      BunHttpServer.layer({
        hostname: config.host,
        port: config.port,
        // Bun's own limit answers a bare 413 before our middleware sees the request, so it is
        // set out of the way: ours refuses a declared length at once and reads a chunked body
        // no further than the limit (RequestBody.readBounded), which guards memory.
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        // `?wait=true` holds a request open for a whole ingest; Bun would cut it after 10 s idle.
        idleTimeout: 0
      })
    )
  )

/**
 * Runs the service until the fiber is interrupted (SIGTERM, SIGINT), then
 * drains and stops. Fails only if it cannot start.
 */
export const run = (config: Config, keys: ApiKeysShape, mask: SecretMaskShape) =>
  Effect.gen(function* () {
    const base = yield* Layer.build(foundation(config, keys, mask))
    yield* StartupRecovery.run.pipe(Effect.provide(base))
    yield* Metrics.init
    const inflight = new RequestMiddleware.Inflight()
    const started = yield* Layer.build(http(config, inflight, mask).pipe(Layer.provide(Layer.succeedContext(base))))
    const ingests = Context.get(started, IngestQueue.IngestQueue)
    const address = Context.get(started, HttpServer.HttpServer).address
    const url = address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}` : `unix:${address.path}`
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        yield* Effect.logInfo("shutting down: draining ingests").pipe(Effect.annotateLogs({ graceMs: config.graceMillis }))
        yield* ingests.drain(Duration.millis(config.graceMillis))
        // Answers to waiting clients are produced now; let them leave before the listener closes.
        yield* inflight.idle("10 seconds")
        yield* Effect.sleep("100 millis")
        yield* Effect.logInfo("stopped")
      })
    )
    yield* Effect.logInfo("listening").pipe(
      Effect.annotateLogs({
        url,
        stateDir: config.stateDir,
        datasets: config.datasetsFile,
        allowedRoots: config.allowedRoots.map((r) => r.real),
        maxConcurrent: config.maxConcurrent,
        queueLength: config.queueLength
      })
    )
    return yield* Effect.never
  })
