/**
 * POST /v1/validate: core's `Validate.validate` with the server's
 * datasets.json (re-read, like every ingest does), on a confined path. An
 * invalid job is a successful validation whose answer is "no": 200 with
 * `valid: false` and every problem.
 */
import { HttpApiBuilder } from "@effect/platform"
import { Backends, ExtractorProcess } from "@hysds-stac/adapters"
import { DatasetConfig, Validate } from "@hysds-stac/core"
import { Effect, Either } from "effect"
import { Api } from "../Api.ts"
import { ValidateResult } from "../ApiSchemas.ts"
import * as IngestRecord from "../IngestRecord.ts"
import { SecretMask } from "../SecretMask.ts"
import { ServerConfig } from "../ServerConfig.ts"
import { confine } from "./Paths.ts"

export const layer = HttpApiBuilder.group(Api, "validation", (handlers) =>
  Effect.gen(function* () {
    const config = yield* ServerConfig
    const mask = yield* SecretMask
    return handlers.handle("validate", ({ payload }) =>
      Effect.gen(function* () {
        const target = yield* confine(config.allowedRoots, payload.path, { what: "path", directory: false })
        const outcome = yield* DatasetConfig.load(config.datasetsFile, process.env).pipe(
          // Every location checked against the configured store's schemes, as `validate --datasets` does.
          Effect.flatMap((datasets) => Validate.validate(target, datasets, Backends.storeSchemes(config.settings), process.env)),
          // An entry's extractor runs as it would in an ingest.
          Effect.provide(ExtractorProcess.layer({ timeoutMillis: config.settings.extractorTimeoutMillis })),
          Effect.either
        )
        return Either.match(outcome, {
          onLeft: (e) => new ValidateResult({ valid: false, error: IngestRecord.errorInfo(e, mask) }),
          onRight: (v) => new ValidateResult({ valid: true, catalogs: v.catalogs, items: v.items, products: v.products, warnings: v.warnings })
        })
      })
    )
  })
)
