/**
 * GET /healthz (the process answers: nothing else is checked, so a slow
 * backend never gets a live process restarted) and GET /readyz (see
 * Readiness.ts). Both are open: probes carry no credentials. /readyz shows
 * anonymous callers whether the instance is ready and nothing else: its
 * checks name backend URLs, user names, buckets and their errors, which are
 * for a caller with a key.
 */
import { HttpApiBuilder, HttpServerRequest } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.ts"
import { NotReady } from "../ApiErrors.ts"
import { ApiKeys } from "../ApiKeys.ts"
import { Health, Readiness as ReadinessBody } from "../ApiSchemas.ts"
import { hasKey } from "../Authentication.ts"
import { Readiness } from "../Readiness.ts"

export const layer = HttpApiBuilder.group(Api, "health", (handlers) =>
  Effect.gen(function* () {
    const readiness = yield* Readiness
    const keys = yield* ApiKeys
    return handlers
      .handle("healthz", () => Effect.sync(() => new Health({ status: "ok", uptimeSeconds: Math.round(process.uptime()), pid: process.pid })))
      .handle("readyz", () =>
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          const r = yield* readiness.check
          const shown = hasKey(keys, request.headers) ? { ready: r.ready, draining: r.draining, checks: r.checks } : { ready: r.ready }
          return r.ready ? new ReadinessBody(shown) : yield* new NotReady(shown)
        })
      )
  })
)
