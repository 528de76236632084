/**
 * What every request goes through around the API's own routing:
 *
 * - a request id (the caller's `X-Request-Id` when it is a sane token, else a
 *   new one), annotated on every log line of the request and echoed back;
 * - the body checks, BEFORE anything reads the body into a schema (see
 *   RequestBody.ts): 415 unless it is `application/json`, 413 beyond the
 *   limit (read no further than the limit), 400 for JSON nested deeper than
 *   RequestBody.MAX_DEPTH or not parsable; HttpApi would read any size, and
 *   turns unparsable or deeply nested JSON into a defect (500);
 * - sanitizing: a failure that escaped the routes (a bug, a missing route)
 *   becomes a small JSON error with the request id, never a stack trace; the
 *   log gets the failure's message (redacted), the client only the id;
 * - request input (method, path) is echoed and logged as received, escaped,
 *   and NEVER redacted (see RequestInput.ts: redacting input is an oracle);
 *   what is redacted is our own text, where it is built (core's errors,
 *   readiness, failure logs);
 * - the security headers (nosniff, no-store, a CSP that forbids fetching
 *   anything) and, on 401, the authentication challenge: Basic is offered
 *   only on the pages a browser opens (see Authentication.ts);
 * - one access log line and an HTTP request counter;
 * - counting requests in flight, so shutdown can let answers go out before
 *   the listener closes.
 */
import { HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Context, Duration, Effect, Metric, Option } from "effect"
import { BASIC_ROUTES } from "./Authentication.ts"
import * as Metrics from "./Metrics.ts"
import type { SecretMaskShape } from "./SecretMask.ts"
import * as RequestBody from "./RequestBody.ts"
import * as RequestInput from "./RequestInput.ts"

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
  readonly mask: SecretMaskShape
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
    if (!RequestBody.isJson(request.headers["content-type"])) {
      return error(415, "UnsupportedMediaType", "request bodies are JSON: send `Content-Type: application/json` (a charset, if any, utf-8)")
    }
    const tooLarge = () => error(413, "PayloadTooLarge", `the request body is larger than ${max} bytes (HYSDS_STAC_MAX_BODY_BYTES)`)
    const declared = Number(request.headers["content-length"])
    if (Number.isFinite(declared) && declared > max) return tooLarge()
    // A body without a length (chunked) is read up to the limit and no further. The copy is
    // read here; the route reads the original, which keeps what was read.
    const source = request.source
    if (!(source instanceof Request)) return error(400, "BadRequest", "the request body could not be read")
    const read = yield* Effect.tryPromise(() => RequestBody.readBounded(source.clone().body, max)).pipe(Effect.option)
    if (Option.isNone(read)) return error(400, "BadRequest", "the request body could not be read")
    if (read.value._tag === "TooLarge") return tooLarge()
    // Before parsing: a parser or the schema decoder recursing 30,000 levels would fail as a 500.
    if (RequestBody.tooDeep(read.value.text)) {
      return error(400, "BadRequest", `the request body nests JSON deeper than ${RequestBody.MAX_DEPTH} levels, the limit`)
    }
    try {
      JSON.parse(read.value.text)
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

/** The challenge of a 401: Basic only where Basic is accepted, so a browser never caches credentials for the API. */
const challenge = (path: string) => (BASIC_ROUTES.has(path) ? 'Bearer realm="hysds-stac", Basic realm="hysds-stac"' : 'Bearer realm="hysds-stac"')

const withHeaders = (requestId: string, path: string) => (response: HttpServerResponse.HttpServerResponse) => {
  const headers = response.status === 401 ? { ...HEADERS, "www-authenticate": challenge(path) } : HEADERS
  return response.pipe(HttpServerResponse.setHeaders({ ...headers, "x-request-id": requestId }))
}

/**
 * The platform answers a missing route (404) and a defect (500) with an empty
 * body; this gives them the API's JSON error shape, and gives every response
 * the request id and the security headers. It is a pre-response handler because a server middleware runs
 * around the app AFTER the app's response was sent.
 */
const finishing =
  (requestId: string, method: string, path: string): HttpApp.PreResponseHandler =>
  (_, response) => {
    let out = response
    if (isEmptyBody(out) && out.status === 404) out = error(404, "NotFound", `no route ${RequestInput.escape(method)} ${RequestInput.escape(path)}`)
    else if (isEmptyBody(out) && out.status >= 500) out = error(out.status, "InternalServerError", `internal error; the server log has request ${requestId}`)
    return Effect.succeed(withHeaders(requestId, path)(out))
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
        if (early !== undefined) return withHeaders(requestId, path)(early)
        yield* HttpApp.appendPreResponseHandler(finishing(requestId, request.method, path))
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
            Effect.annotateLogs({ requestId, reason: options.mask.text(describe(cause)) }),
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
          method: RequestInput.verbatim(request.method),
          path: RequestInput.verbatim(path),
          status,
          durationMs: Math.round(performance.now() - started)
        })
      )
      return answered
    })
