/**
 * What every request goes through around the API's own routing:
 *
 * - a request id (the caller's `X-Request-Id` when it is a sane token, else a
 *   new one), annotated on every log line of the request and echoed back;
 * - the body limit and the JSON check, BEFORE anything reads the body into a
 *   schema: HttpApi would read any size, and turns unparsable JSON into a
 *   defect (500) rather than a 400;
 * - sanitizing: a failure that escaped the routes (a bug, a missing route)
 *   becomes a small JSON error with the request id, never a stack trace; the
 *   log gets the failure's message (redacted), the client only the id; every
 *   JSON error body is passed through core's Redact;
 * - the security headers (nosniff, no-store, a CSP that forbids fetching
 *   anything) and, on 401, the authentication challenge;
 * - one access log line and an HTTP request counter;
 * - counting requests in flight, so shutdown can let answers go out before
 *   the listener closes.
 */
import { HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Context, Duration, Effect, Metric, Option } from "effect"
import * as Metrics from "./Metrics.ts"
import type { RedactorShape } from "./Redactor.ts"

/** The current request's id; handlers pass it on to the ingests they start. */
export class RequestId extends Context.Reference<RequestId>()("@hysds-stac/server/RequestId", {
  defaultValue: (): string => ""
}) {}

/** Requests being answered now. */
export class Inflight {
  private count = 0
  enter() {
    this.count++
  }
  leave() {
    this.count--
  }
  get size() {
    return this.count
  }
  /** Waits until no request is being answered, or `limit` has passed. */
  idle(limit: Duration.DurationInput) {
    return Effect.gen(this, function* () {
      const until = Date.now() + Duration.toMillis(limit)
      while (this.count > 0 && Date.now() < until) yield* Effect.sleep("20 millis")
    })
  }
}

export interface Options {
  readonly maxBodyBytes: number
  readonly redactor: RedactorShape
  readonly inflight: Inflight
}

const ID = /^[A-Za-z0-9._:-]{1,128}$/

const newRequestId = () => `req-${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`

const error = (status: number, tag: string, message: string) => HttpServerResponse.unsafeJson({ _tag: tag, message }, { status })

/** Routes probed every few seconds: logged at debug level, not info. */
const QUIET = new Set(["/healthz", "/readyz", "/metrics"])

const HEADERS = {
  "x-content-type-options": "nosniff",
  "cache-control": "no-store",
  // The docs page is self-contained by design; the browser is told to keep it so.
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
}

/** An early answer for a body that must not reach the routes, or undefined. */
const checkBody = (request: HttpServerRequest.HttpServerRequest, max: number) =>
  Effect.gen(function* () {
    if (request.method !== "POST" && request.method !== "PUT" && request.method !== "PATCH") return undefined
    const declared = Number(request.headers["content-length"])
    const tooLarge = () => error(413, "PayloadTooLarge", `the request body is larger than ${max} bytes`)
    if (Number.isFinite(declared) && declared > max) return tooLarge()
    const type = request.headers["content-type"]
    if (type !== undefined && !type.toLowerCase().startsWith("application/json")) {
      return error(415, "UnsupportedMediaType", "request bodies are JSON: send `Content-Type: application/json`")
    }
    // Cached by the request: the route reads the same text again without a second read.
    const text = yield* request.text.pipe(Effect.option)
    if (Option.isNone(text)) return error(400, "BadRequest", "the request body could not be read")
    if (new TextEncoder().encode(text.value).byteLength > max) return tooLarge()
    try {
      JSON.parse(text.value)
    } catch {
      return error(400, "BadRequest", "the request body is not valid JSON")
    }
    return undefined
  })

const isTagged = (u: unknown, tag: string) => typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === tag

const describe = (cause: Cause.Cause<unknown>): string => {
  const e = Cause.squash(cause)
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e)
}

const isEmptyBody = (response: HttpServerResponse.HttpServerResponse) => response.body._tag === "Empty"

const withHeaders = (requestId: string) => (response: HttpServerResponse.HttpServerResponse) => {
  const headers = response.status === 401 ? { ...HEADERS, "www-authenticate": 'Bearer realm="hysds-stac", Basic realm="hysds-stac"' } : HEADERS
  return response.pipe(HttpServerResponse.setHeaders({ ...headers, "x-request-id": requestId }))
}

/**
 * Every JSON error body leaves through core's Redact with the current
 * secrets: the handlers build messages from request input (paths) and from
 * core's errors, and masking once, here, covers all of them, the framework's
 * own decode errors included. (Ingest statuses are redacted when they are
 * built; other successful bodies are the server's own text, e.g. the OpenAPI
 * document, whose prose Redact's patterns would mangle.)
 */
const redactBody = (redactor: RedactorShape, response: HttpServerResponse.HttpServerResponse) => {
  const body = response.body
  if (response.status < 400 || body._tag !== "Uint8Array" || !body.contentType.startsWith("application/json")) return response
  const text = new TextDecoder().decode(body.body)
  if (redactor.text(text) === text) return response
  try {
    return HttpServerResponse.unsafeJson(redactor.deep(JSON.parse(text)), { status: response.status, headers: response.headers })
  } catch {
    return response
  }
}

/**
 * The platform answers a missing route (404) and a defect (500) with an empty
 * body; this gives them the API's JSON error shape, masks secrets in every
 * JSON body, and gives every response the request id and the security
 * headers. It is a pre-response handler because a server middleware runs
 * around the app AFTER the app's response was sent.
 */
const finishing =
  (requestId: string, method: string, path: string, redactor: RedactorShape): HttpApp.PreResponseHandler =>
  (_, response) => {
    let out = response
    if (isEmptyBody(out) && out.status === 404) out = error(404, "NotFound", `no route ${method} ${path}`)
    else if (isEmptyBody(out) && out.status >= 500) out = error(out.status, "InternalServerError", `internal error; the server log has request ${requestId}`)
    return Effect.succeed(withHeaders(requestId)(redactBody(redactor, out)))
  }

export const make =
  (options: Options) =>
  (app: HttpApp.Default): HttpApp.Default =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const given = request.headers["x-request-id"]
      const requestId = given !== undefined && ID.test(given) ? given : newRequestId()
      const started = performance.now()
      const path = request.url.split("?")[0] ?? request.url
      options.inflight.enter()
      const answered = yield* Effect.gen(function* () {
        const early = yield* checkBody(request, options.maxBodyBytes)
        // Returned to the server, which sends it (the routes never see the body).
        if (early !== undefined) return withHeaders(requestId)(early)
        yield* HttpApp.appendPreResponseHandler(finishing(requestId, request.method, options.redactor.text(path), options.redactor))
        return yield* app
      }).pipe(
        Effect.provideService(RequestId, requestId),
        Effect.annotateLogs("requestId", requestId),
        // A failure here was already answered (see `finishing`): only its log is left to do.
        Effect.catchAllCause((cause) => {
          const failure = Cause.failureOption(cause)
          if (Option.isSome(failure) && HttpServerResponse.isServerResponse(failure.value)) return Effect.succeed(failure.value)
          if (Option.isSome(failure) && isTagged(failure.value, "RouteNotFound")) return Effect.succeed(HttpServerResponse.empty({ status: 404 }))
          if (Cause.isInterruptedOnly(cause)) return Effect.succeed(HttpServerResponse.empty({ status: 499 }))
          return Effect.logError("request failed: a bug in hysds-stac").pipe(
            Effect.annotateLogs({ requestId, reason: options.redactor.text(describe(cause)) }),
            Effect.as(HttpServerResponse.empty({ status: 500 }))
          )
        }),
        Effect.ensuring(Effect.sync(() => options.inflight.leave()))
      )
      const status = answered.status
      yield* Metric.increment(Metric.tagged(Metrics.httpRequests, "code", `${Math.floor(status / 100)}xx`))
      if (status === 401) yield* Metrics.reject("unauthorized")
      const log =
        status >= 500 ? Effect.logError : status === 401 || status === 403 ? Effect.logWarning : QUIET.has(path) ? Effect.logDebug : Effect.logInfo
      yield* log("request").pipe(
        Effect.annotateLogs({
          requestId,
          method: request.method,
          path: options.redactor.text(path),
          status,
          durationMs: Math.round(performance.now() - started)
        })
      )
      return answered
    })
