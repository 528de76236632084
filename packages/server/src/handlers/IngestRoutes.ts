/**
 * POST /v1/ingests, GET /v1/ingests/{id}, GET /v1/ingests. Thin: confine the
 * job dir, hand it to the IngestQueue service, and for `?wait=true` turn the final
 * state into the response whose status tells a worker what to do next.
 */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Option } from "effect"
import { Api } from "../Api.ts"
import { IngestBackendFailed, IngestConflict, IngestInternalError, IngestInterrupted, IngestRejected, NotFound } from "../ApiErrors.ts"
import { IngestAccepted, IngestList, type IngestStatus } from "../ApiSchemas.ts"
import * as IngestRecord from "../IngestRecord.ts"
import { IngestQueue } from "../IngestQueue.ts"
import * as RequestInput from "../RequestInput.ts"
import { RequestId } from "../RequestMiddleware.ts"
import { ServerConfig } from "../ServerConfig.ts"
import { confine } from "./Paths.ts"

/** Success as is; anything else as the error of its category (see ApiErrors.ts). */
export const outcome = (
  status: IngestStatus
): Effect.Effect<IngestStatus, IngestRejected | IngestConflict | IngestBackendFailed | IngestInterrupted | IngestInternalError> => {
  if (status.state === "succeeded") return Effect.succeed(status)
  const fields = { message: IngestRecord.describe(status), ingest: status }
  switch (status.error?.category) {
    case "validation":
    case "config":
      return Effect.fail(new IngestRejected(fields))
    case "conflict":
      return Effect.fail(new IngestConflict(fields))
    case "storage":
    case "index":
    case "catalog-api":
      return Effect.fail(new IngestBackendFailed(fields))
    case "interrupted":
      return Effect.fail(new IngestInterrupted(fields))
    default:
      return Effect.fail(new IngestInternalError(fields))
  }
}

export const layer = HttpApiBuilder.group(Api, "ingests", (handlers) =>
  Effect.gen(function* () {
    const ingests = yield* IngestQueue
    const config = yield* ServerConfig
    return handlers
      .handle("create", ({ payload, urlParams }) =>
        Effect.gen(function* () {
          const jobDir = yield* confine(config.allowedRoots, payload.jobDir, { what: "job dir", directory: true })
          const requestId = yield* RequestId
          const submitted = yield* ingests.submit({ request: payload, jobDir, ...(requestId ? { requestId } : {}) })
          if (urlParams.wait !== true) {
            return new IngestAccepted({ id: submitted.id, state: submitted.state, href: `/v1/ingests/${submitted.id}` })
          }
          // The ingest runs in its own fiber: if this client hangs up, only the waiting stops.
          return yield* ingests.awaitEnd(submitted.id).pipe(Effect.orDie, Effect.flatMap(outcome))
        })
      )
      .handle("get", ({ path }) =>
        Effect.flatMap(ingests.status(path.id), (found) =>
          Option.match(found, {
            onSome: Effect.succeed,
            onNone: () =>
              Effect.fail(
                new NotFound({
                  message: `no ingest ${RequestInput.escape(path.id)} in this process (the journal keeps every transaction: hysds-stac journal show <id>)`
                })
              )
          })
        )
      )
      .handle("list", ({ urlParams }) => Effect.map(ingests.list(urlParams.state), (list) => new IngestList({ ingests: list })))
  })
)
