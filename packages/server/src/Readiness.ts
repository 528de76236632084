/**
 * Readiness: the checks of `hysds-stac check` (core `Checks.run`), plus
 * datasets.json loading, plus "not draining". The datasets file is re-read on
 * each check, so a broken edit turns the instance unready instead of failing
 * every ingest. Results are cached for a few seconds: a probe writes (and
 * removes) an object at every publish location and calls GRQ and the STAC
 * API, which a load balancer polling every second should not multiply.
 */
import type { FileSystem } from "@effect/platform"
import type { GrqIndex, ObjectStore, StacRegistry } from "@hysds-stac/core"
import { Checks, DatasetConfig } from "@hysds-stac/core"
import { Context, Duration, Effect, Either, Layer } from "effect"
import type { Check } from "./ApiSchemas.ts"
import { Readiness as ReadinessBody } from "./ApiSchemas.ts"
import * as IngestRecord from "./IngestRecord.ts"
import { IngestQueue } from "./IngestQueue.ts"
import { SecretMask } from "./SecretMask.ts"
import { ServerConfig } from "./ServerConfig.ts"

export const CACHE = Duration.seconds(3)

export interface ReadinessShape {
  readonly check: Effect.Effect<ReadinessBody>
}

export class Readiness extends Context.Tag("@hysds-stac/server/Readiness")<Readiness, ReadinessShape>() {}

export const make = Effect.gen(function* () {
  const config = yield* ServerConfig
  const mask = yield* SecretMask
  const ingests = yield* IngestQueue
  const context = yield* Effect.context<ObjectStore.ObjectStore | GrqIndex.GrqIndex | StacRegistry.StacRegistry | FileSystem.FileSystem>()
  const backends = Effect.gen(function* () {
    const loaded = yield* DatasetConfig.load(config.datasetsFile, process.env).pipe(Effect.either)
    const checks: Array<Check> = [
      Either.isRight(loaded)
        ? { backend: "datasets", target: config.datasetsFile, ok: true }
        : { backend: "datasets", target: config.datasetsFile, ok: false, error: IngestRecord.errorInfo(loaded.left, mask) }
    ]
    const probe = Either.isRight(loaded) ? Checks.probeLocations(loaded.right) : []
    for (const r of yield* Checks.run(probe)) {
      checks.push({ backend: r.backend, target: r.target, ok: r.ok, ...(r.error ? { error: IngestRecord.errorInfo(r.error, mask) } : {}) })
    }
    return checks
  }).pipe(Effect.provide(context))
  const cached = yield* Effect.cachedWithTTL(backends, CACHE)
  return Readiness.of({
    check: Effect.gen(function* () {
      const draining = ingests.isDraining()
      // While draining, the answer is "no" at once: the backends do not matter any more.
      const checks = draining ? [] : yield* cached
      return new ReadinessBody({ ready: !draining && checks.every((c) => c.ok), draining, checks })
    })
  })
})

export const layer = Layer.effect(Readiness, make)
