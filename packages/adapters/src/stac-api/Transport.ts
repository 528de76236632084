/**
 * The HTTP side of the STAC API adapter: one place that adds credentials,
 * bounds every request with the timeout, retries what `Retryable` allows (waiting as core's `Retry` says), follows
 * `next` links, and turns failures into CatalogApiErrors whose text has been
 * through redaction.
 *
 * Non-2xx answers are returned as replies, not errors: what a 404 or a 409
 * means depends on the call (a missing collection is `None` for a read, a
 * success for a delete, an error for a replace), so the registry decides.
 * Only what has no answer at all (timeout, connection) fails here.
 *
 * Requests only ever go to the configured origin. `next` links are rebased
 * onto the base URL: behind a reverse proxy STAC-FastAPI often advertises an
 * internal host or the wrong scheme, and following such a link verbatim would
 * either fail or send our key to a host we were not told to trust.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Data, Duration, Effect, Either, Predicate } from "effect"
import { Errors, Retry as CoreRetry } from "@hysds-stac/core"
import type * as Auth from "./Auth.ts"
import * as Retryable from "./Retryable.ts"

export type Json = Readonly<Record<string, unknown>>

export type Method = "GET" | "POST" | "PUT" | "DELETE"

export interface Request {
  readonly method: Method
  /** Absolute, under the base URL (see `Transport.url`). */
  readonly url: string
  readonly body?: unknown
}

/** What a call was for, so every error says it and names what it touched. */
export interface Purpose {
  /** Completes "could not …", e.g. `create collection "x"`. */
  readonly action: string
  readonly collection?: string
  readonly item?: string
}

export interface Reply {
  readonly status: number
  /** The parsed JSON body, or undefined when it was empty or not JSON. */
  readonly body: unknown
  readonly text: string
  readonly request: Request
  readonly attempts: number
  /**
   * An earlier attempt of this request ended without an answer (timeout,
   * dropped connection) or with a 5xx, so the server may have applied it:
   * a retried create that meets 409 may be meeting itself.
   */
  readonly earlierAttemptMayHaveApplied: boolean
}

export interface Options {
  readonly timeoutMs: number
  readonly retry: CoreRetry.Policy
}

export interface Transport {
  readonly base: Auth.BaseUrl
  readonly auth: Auth.Auth
  /** `path` (no leading slash) resolved under the base URL, with query parameters. */
  readonly url: (path: string, query?: Readonly<Record<string, string>>) => string
  readonly send: (request: Request, purpose: Purpose) => Effect.Effect<Reply, Errors.CatalogApiError>
  /** Every element of `key` (`features`, `collections`) over all pages, following `next`. */
  readonly pages: (first: Request, key: string, purpose: Purpose) => Effect.Effect<ReadonlyArray<Json>, Errors.CatalogApiError>
  /** The error for an answer the caller did not expect, with the server's own words. */
  readonly unexpected: (reply: Reply, purpose: Purpose) => Errors.CatalogApiError
  /** A URL for messages: credentials never, host and path always. */
  readonly display: (url: string) => string
}

const MAX_DETAIL = 600

/**
 * The server's explanation, short. STAC-FastAPI answers `{"detail": "..."}`
 * for its own checks, `{"detail": [pydantic errors]}` for bodies that do not
 * validate, and `{"code": "ConflictError", "description": ""}` for database
 * errors (often with an empty description). A pydantic union (POST items
 * accepts an Item or an ItemCollection) lists the ItemCollection failures too;
 * those are noise when the body was an Item, so they go when others remain.
 */
export const serverDetail = (reply: Pick<Reply, "body" | "text">): string => {
  const body = reply.body
  const clip = (s: string) => (s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL)}…` : s)
  if (Predicate.isRecord(body)) {
    const detail = body["detail"]
    if (typeof detail === "string" && detail !== "") return clip(detail)
    if (Array.isArray(detail)) {
      const entries = detail.filter(Predicate.isRecord)
      const relevant = entries.filter((e) => !(Array.isArray(e["loc"]) && e["loc"].includes("ItemCollection")))
      const lines = (relevant.length > 0 ? relevant : entries).slice(0, 5).map((e) => {
        const loc = Array.isArray(e["loc"]) ? e["loc"].filter((l) => l !== "body").join(".") : ""
        return `${loc === "" ? "" : `${loc}: `}${String(e["msg"] ?? "invalid")}`
      })
      if (lines.length > 0) return clip([...new Set(lines)].join("; "))
    }
    const description = body["description"]
    if (typeof description === "string" && description !== "") return clip(description)
    for (const k of ["message", "error", "code"]) {
      const v = body[k]
      if (typeof v === "string" && v !== "") return clip(v)
    }
  }
  const text = reply.text.trim()
  return text === "" ? "no explanation given" : clip(text.replace(/\s+/g, " "))
}

/** `rel=next` of a page, rebased onto our base URL, with the body a POST link asks for. */
export const nextRequest = (page: Json, previous: Request, base: Auth.BaseUrl): Request | undefined => {
  const links = Array.isArray(page["links"]) ? page["links"].filter(Predicate.isRecord) : []
  const next = links.find((l) => l["rel"] === "next" && typeof l["href"] === "string")
  if (next === undefined) return undefined
  const root = links.find((l) => l["rel"] === "root" && typeof l["href"] === "string")
  const url = rebase(String(next["href"]), typeof root?.["href"] === "string" ? root["href"] : undefined, base, previous.url)
  const method = typeof next["method"] === "string" ? next["method"].toUpperCase() : "GET"
  if (method === "POST") {
    const linkBody = Predicate.isRecord(next["body"]) ? next["body"] : {}
    const body = next["merge"] === true && Predicate.isRecord(previous.body) ? { ...previous.body, ...linkBody } : linkBody
    return { method: "POST", url, body }
  }
  return { method: "GET", url }
}

/**
 * Maps a server-made href onto the configured base: by the server's advertised
 * root when it is a prefix (keeps a path prefix like `/stac/` that the server
 * does not know about), else by keeping path and query on our origin.
 */
export const rebase = (href: string, advertisedRoot: string | undefined, base: Auth.BaseUrl, relativeTo: string): string => {
  const target = new URL(href, relativeTo)
  if (target.href.startsWith(base.href)) return target.href
  if (advertisedRoot !== undefined) {
    const root = new URL(advertisedRoot, relativeTo).href
    const rootWithSlash = root.endsWith("/") ? root : `${root}/`
    if (target.href.startsWith(rootWithSlash)) return new URL(target.href.slice(rootWithSlash.length), base.href).href
  }
  return new URL(`${target.pathname}${target.search}`, base.url.origin).href
}

type Attempt =
  | { readonly _tag: "Reply"; readonly status: number; readonly text: string; readonly retryAfter: string | undefined }
  | { readonly _tag: "Timeout" }
  | { readonly _tag: "Transport"; readonly description: string; readonly retryable: boolean }

const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) {
    const code = "code" in cause && typeof cause.code === "string" ? cause.code : undefined
    return code !== undefined && !cause.message.startsWith(code) ? `${code}: ${cause.message}` : cause.message
  }
  return String(cause)
}

/** A try that ended in a way worth repeating; what the retry schedule sees. */
class RetryableAttempt extends Data.TaggedError("Retryable")<{ readonly outcome: Attempt }> {}

const isRetryable = (outcome: Attempt): boolean =>
  outcome._tag === "Reply" ? Retryable.isRetryableStatus(outcome.status) : outcome._tag === "Timeout" || outcome.retryable

const outcomeKind = (outcome: Attempt) =>
  outcome._tag === "Reply" ? { status: outcome.status } : outcome._tag === "Timeout" ? ("timeout" as const) : ("transport" as const)

export const make = (
  base: Auth.BaseUrl,
  auth: Auth.Auth,
  options: Options
): Effect.Effect<Transport, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (client): Transport => {
    const display = (url: string) => auth.redact(url.startsWith(base.href) ? `${base.display}${url.slice(base.href.length)}` : url)

    const url: Transport["url"] = (path, query) => {
      const u = new URL(path, base.href)
      if (query) for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v)
      return u.href
    }

    const once = (request: Request): Effect.Effect<Attempt, Errors.CatalogApiError> =>
      Effect.gen(function* () {
        const headers = yield* auth.headers
        let req = HttpClientRequest.make(request.method)(request.url).pipe(
          HttpClientRequest.setHeaders({ accept: "application/json, application/geo+json;q=0.9, */*;q=0.1", ...headers })
        )
        if (request.body !== undefined) req = HttpClientRequest.bodyUnsafeJson(req, request.body)
        const exchange = client.execute(req).pipe(
          Effect.flatMap((response) =>
            Effect.map(response.text, (text) => ({
              _tag: "Reply" as const,
              status: response.status,
              text,
              retryAfter: response.headers["retry-after"]
            }))
          )
        )
        const outcome = yield* exchange.pipe(
          Effect.timeoutFail({ duration: Duration.millis(options.timeoutMs), onTimeout: () => "timeout" as const }),
          Effect.either
        )
        if (Either.isRight(outcome)) return outcome.right
        const error = outcome.left
        if (error === "timeout") return { _tag: "Timeout" } as const
        // Transport: no connection or it dropped; Decode/EmptyBody: the body was
        // cut off. Encode/InvalidUrl are our bugs and would fail again.
        const retryable = error._tag === "ResponseError" || error.reason === "Transport"
        return { _tag: "Transport", description: describeCause(error.cause ?? error), retryable } as const
      })

    const why = (outcome: Attempt): string =>
      outcome._tag === "Reply"
        ? `answered ${outcome.status}`
        : outcome._tag === "Timeout"
          ? `timed out after ${options.timeoutMs} ms`
          : `failed (${auth.redact(outcome.description)})`

    const send: Transport["send"] = (request, purpose) => {
      const where = {
        ...(purpose.collection !== undefined ? { collection: purpose.collection } : {}),
        ...(purpose.item !== undefined ? { item: purpose.item } : {})
      }
      // Every try that fails in a way worth repeating becomes the error the shared
      // schedule sees (it honours the server's Retry-After); the last outcome is
      // what is reported, answer or not.
      return Effect.gen(function* () {
        let attempts = 0
        let mayHaveApplied = false
        let earlierMayHaveApplied = false
        const attempt = Effect.suspend(() => {
          attempts++
          earlierMayHaveApplied = mayHaveApplied
          return once(request)
        }).pipe(
          Effect.flatMap((outcome) => (isRetryable(outcome) ? Effect.fail(new RetryableAttempt({ outcome })) : Effect.succeed(outcome))),
          Effect.tapError((e) => {
            if (!(e instanceof RetryableAttempt)) return Effect.void
            // Reads are never "applied"; a write cut off or answered 5xx may have been.
            mayHaveApplied ||= request.method !== "GET" && Retryable.mayHaveApplied(outcomeKind(e.outcome))
            return attempts <= options.retry.retries
              ? Effect.logWarning(`STAC API: ${request.method} ${display(request.url)} ${why(e.outcome)}; retry ${attempts}/${options.retry.retries}`)
              : Effect.void
          })
        )
        const outcome = yield* attempt.pipe(
          Effect.retry(
            CoreRetry.schedule(options.retry, {
              while: (e) => e instanceof RetryableAttempt,
              retryAfter: (e) => (e instanceof RetryableAttempt && e.outcome._tag === "Reply" ? CoreRetry.parseRetryAfter(e.outcome.retryAfter) : undefined)
            })
          ),
          // Retries used up: the last outcome is reported like any other.
          Effect.catchIf((e): e is RetryableAttempt => e instanceof RetryableAttempt, (e) => Effect.succeed(e.outcome))
        )
        if (outcome._tag === "Reply") {
          let body: unknown = undefined
          if (outcome.text !== "") {
            try {
              body = JSON.parse(outcome.text)
            } catch {
              body = undefined
            }
          }
          return {
            status: outcome.status,
            body,
            text: outcome.text,
            request,
            attempts,
            earlierAttemptMayHaveApplied: earlierMayHaveApplied
          } satisfies Reply
        }
        const tries = attempts > 1 ? ` (${attempts} attempts)` : ""
        const message =
          outcome._tag === "Timeout"
            ? `STAC API: could not ${purpose.action}: ${request.method} ${display(request.url)} timed out after ${options.timeoutMs} ms${tries}`
            : `STAC API: could not ${purpose.action}: ${request.method} ${display(request.url)} failed${tries}: ${outcome.description}`
        return yield* new Errors.CatalogApiError({
          message: auth.redact(message),
          ...where,
          hint:
            outcome._tag === "Timeout"
              ? "the STAC API is slow or unreachable: raise STAC_API_TIMEOUT, lower STAC_BATCH_SIZE, or check the server"
              : `is the STAC API at ${base.display} up, and is STAC_API_URL right?`
        })
      }).pipe(
        // One span per request, over its retries (each try is a child span of
        // @effect/platform's HttpClient). The URL is the displayed one (no
        // credentials); the body is never recorded.
        Effect.tap((reply) => Effect.annotateCurrentSpan({ "http.response.status_code": reply.status, "hysds_stac.attempts": reply.attempts })),
        Effect.withSpan(`stac-api ${request.method}`, {
          kind: "client",
          attributes: {
            "http.request.method": request.method,
            "url.full": display(request.url),
            "hysds_stac.stac.action": auth.redact(purpose.action),
            ...(purpose.collection !== undefined ? { "hysds_stac.collection": purpose.collection } : {}),
            ...(purpose.item !== undefined ? { "hysds_stac.item": purpose.item } : {})
          }
        })
      )
    }

    const unexpected: Transport["unexpected"] = (reply, purpose) => {
      const status = reply.status
      const hint =
        status === 401 || status === 403
          ? auth.hint
          : status >= 500
            ? `the STAC API failed${reply.attempts > 1 ? ` ${reply.attempts} times` : ""}; its logs say why`
            : undefined
      return new Errors.CatalogApiError({
        message: auth.redact(
          `STAC API: could not ${purpose.action}: ${reply.request.method} ${display(reply.request.url)} answered ${status}: ${serverDetail(reply)}`
        ),
        status,
        ...(purpose.collection !== undefined ? { collection: purpose.collection } : {}),
        ...(purpose.item !== undefined ? { item: purpose.item } : {}),
        ...(hint !== undefined ? { hint } : {})
      })
    }

    const pages: Transport["pages"] = (first, key, purpose) =>
      Effect.gen(function* () {
        const out: Array<Json> = []
        const seen = new Set<string>()
        let request: Request | undefined = first
        while (request !== undefined) {
          const fingerprint = `${request.method} ${request.url} ${JSON.stringify(request.body ?? null)}`
          if (seen.has(fingerprint)) {
            return yield* Effect.fail(
              new Errors.CatalogApiError({
                message: auth.redact(`STAC API: could not ${purpose.action}: the server's next link repeats a page (${display(request.url)})`),
                ...(purpose.collection !== undefined ? { collection: purpose.collection } : {}),
                hint: "the server's pagination is broken; report it to its operators"
              })
            )
          }
          seen.add(fingerprint)
          const reply: Reply = yield* send(request, purpose)
          if (reply.status < 200 || reply.status > 299) return yield* Effect.fail(unexpected(reply, purpose))
          const page = reply.body
          if (!Predicate.isRecord(page) || !Array.isArray(page[key])) {
            return yield* Effect.fail(
              new Errors.CatalogApiError({
                message: auth.redact(`STAC API: could not ${purpose.action}: ${display(request.url)} answered without a "${key}" list`),
                ...(purpose.collection !== undefined ? { collection: purpose.collection } : {}),
                hint: `is ${base.display} a STAC API?`
              })
            )
          }
          const entries = (page[key] as ReadonlyArray<unknown>).filter(Predicate.isRecord)
          out.push(...entries)
          // An empty page ends the walk even when it links on: nothing more can come
          // from a server that pages past its end.
          request = entries.length === 0 ? undefined : nextRequest(page, request, base)
        }
        return out
      })

    return { base, auth, url, send, pages, unexpected, display }
  })
