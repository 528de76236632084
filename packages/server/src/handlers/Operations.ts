/**
 * GET /metrics, /openapi.json and /docs: what operators and client authors
 * read. The OpenAPI document is generated from the contract (Api.ts) and the
 * docs page from that document, both once: the contract does not change while
 * the process runs.
 */
import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Api, openApi } from "../Api.ts"
import * as Docs from "../Docs.ts"
import * as Metrics from "../Metrics.ts"
import * as Prometheus from "../Prometheus.ts"

export const layer = HttpApiBuilder.group(Api, "operations", (handlers) =>
  Effect.sync(() => {
    const spec = openApi()
    const page = Docs.render(spec as unknown as Record<string, unknown>)
    return handlers
      .handle("metrics", () => Effect.zipRight(Metrics.sample, Prometheus.scrape))
      .handle("openapi", () => Effect.succeed(spec))
      .handle("docs", () => Effect.succeed(page))
  })
)
