/**
 * GET /healthz (the process answers: nothing else is checked, so a slow
 * backend never gets a live process restarted) and GET /readyz (see
 * Readiness.ts). Both are open: probes carry no credentials.
 */
import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.ts"
import { NotReady } from "../ApiErrors.ts"
import { Health } from "../ApiSchemas.ts"
import { Readiness } from "../Readiness.ts"

export const layer = HttpApiBuilder.group(Api, "health", (handlers) =>
  Effect.gen(function* () {
    const readiness = yield* Readiness
    return handlers
      .handle("healthz", () => Effect.sync(() => new Health({ status: "ok", uptimeSeconds: Math.round(process.uptime()), pid: process.pid })))
      .handle("readyz", () =>
        Effect.flatMap(readiness.check, (r) =>
          r.ready ? Effect.succeed(r) : Effect.fail(new NotReady({ ready: r.ready, draining: r.draining, checks: r.checks }))
        )
      )
  })
)
