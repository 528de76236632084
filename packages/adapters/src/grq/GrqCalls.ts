/**
 * What every part of the GRQ adapter shares over one engine: the names used in
 * messages, the retry schedule (core Retry; 429, 5xx and no answer are
 * retried, nothing else), and `call`, which runs one engine request under that
 * schedule in its own span and turns a failure into an IndexError saying what
 * was being done, with a hint and with credentials redacted.
 *
 * BulkWrites, Lookups and TemplateAdmin take a `Calls`; they may assume every
 * message built from `where` and server text goes through `redact`.
 */
import { Effect, Option } from "effect"
import { Errors, Retry } from "@hysds-stac/core"
import type { Connection } from "./Config.ts"
import * as Engine from "./Engine.ts"

const isRetryable = (e: Engine.EngineError): boolean =>
  e.kind === "connection" ||
  e.kind === "timeout" ||
  (e.kind === "response" && e.status !== undefined && (e.status === 429 || (e.status >= 500 && e.status !== 501)))

export type Calls = ReturnType<typeof make>

export const make = (engine: Engine.Engine, connection: Connection) => {
  const product = Engine.productName(engine.kind)
  const where = `${product} at ${engine.url}`
  const policy: Retry.Policy = { ...connection.retryDelays, retries: connection.maxRetries }
  const schedule = Retry.schedule(policy, { while: isRetryable })
  const redact = engine.redact

  const hintFor = (e: Engine.EngineError): string | undefined => {
    switch (e.kind) {
      case "connection":
        return `is the ${product} cluster up, and is the GRQ URL right?`
      case "timeout":
        return `the cluster did not answer within ${connection.requestTimeoutMs} ms; check its load, or raise requestTimeoutMs`
      case "product":
        return "this is not an Elasticsearch server (OpenSearch?); for OpenSearch set GRQ_ES_ENGINE=opensearch"
      case "client":
        return undefined
      case "response":
        if (e.status === 401) return "the cluster wants credentials: give username and password (or user:pass@ in the URL) or an API key"
        if (e.status === 403) return "the credentials lack a privilege for this action on the grq_* indexes"
        if (e.status === 413) return "the bulk request is larger than the cluster accepts (http.max_content_length): lower bulkMaxBytes"
        if (e.status === 429) return "the cluster is overloaded (429 after retries); try again later"
        return undefined
    }
  }

  const indexError = (action: string, e: Engine.EngineError): Errors.IndexError => {
    const hint = hintFor(e)
    return new Errors.IndexError({
      message: redact(`GRQ (${where}): could not ${action}: ${e.message}`),
      ...(hint !== undefined ? { hint: redact(hint) } : {}),
      cause: e
    })
  }

  /** Runs one engine call with the retry policy; failures become IndexErrors saying what was being done. */
  const call = <A>(
    action: string,
    effect: Effect.Effect<A, Engine.EngineError>
  ): Effect.Effect<A, Errors.IndexError> =>
    effect.pipe(
      Effect.retry(schedule),
      Effect.mapError((e) => indexError(action, e)),
      // One span per request, over its retries. engine.url is already the
      // displayed URL (credentials masked); the action names what, never the body.
      Effect.withSpan("grq request", {
        kind: "client",
        attributes: { "db.system": engine.kind, "server.address": engine.url, "hysds_stac.grq.action": redact(action) }
      })
    )

  /** The same, keeping "not found" (no alias or index yet) apart from failures. */
  const callOrMissing = <A>(
    action: string,
    effect: Effect.Effect<A, Engine.EngineError>
  ): Effect.Effect<Option.Option<A>, Errors.IndexError> =>
    call(
      action,
      effect.pipe(
        Effect.map(Option.some),
        Effect.catchIf(Engine.isNotFound, () => Effect.succeed(Option.none<A>()))
      )
    )

  return { engine, connection, product, where, policy, schedule, redact, indexError, call, callOrMissing }
}
