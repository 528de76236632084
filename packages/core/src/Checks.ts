/**
 * The startup checks behind `hysds-stac check`, the pre-ingest check and the
 * HTTP service's readiness probe: each backend reachable and usable, each
 * failure naming the backend and what to fix. Every check runs, even after one
 * fails, so a misconfigured deployment is diagnosed in one go.
 */
import { Effect, Either } from "effect"
import type * as DatasetConfig from "./DatasetConfig.ts"
import type { PublishError } from "./Errors.ts"
import { GrqIndex } from "./GrqIndex.ts"
import { ObjectStore, type StoreCredentials } from "./ObjectStore.ts"
import * as Plan from "./Plan.ts"
import { StacRegistry } from "./StacRegistry.ts"
import * as Template from "./Template.ts"

export interface CheckResult {
  readonly backend: "store" | "index" | "registry"
  /** What was checked, e.g. the location probed. */
  readonly target: string
  readonly ok: boolean
  readonly error?: PublishError
}

/**
 * The fixed part of a publish location, up to its first run-time variable and
 * cut back to a whole path segment: `s3://b/products/{id}` → `s3://b/products`.
 */
export const staticPrefix = (location: string): string | undefined => {
  const segments = Template.parse(location)
  if (Either.isLeft(segments)) return undefined
  let text = ""
  for (const s of segments.right) {
    if (s._tag !== "Text") break
    text += s.text
  }
  if (text === location) return location.replace(/\/+$/, "")
  const cut = text.lastIndexOf("/")
  const prefix = cut > 0 ? text.slice(0, cut) : ""
  return /^[a-z0-9+.-]+:\/\/[^/]+/i.test(prefix) ? prefix : undefined
}

export interface Probe {
  readonly location: string
  /** The entry's own credentials for it (`s3-profile-name` or keys), as an ingest would use. */
  readonly credentials: StoreCredentials
}

/**
 * Locations to probe for writability: the static prefixes of every publish and
 * browse location, each with its entry's credentials, so the probe writes as
 * an ingest would.
 */
export const probeLocations = (config: DatasetConfig.DatasetsConfig): ReadonlyArray<Probe> => {
  const out = new Map<string, Probe>()
  for (const { entry } of config.entries) {
    for (const settings of [entry.publish, entry.browse]) {
      const prefix = settings === undefined ? undefined : staticPrefix(settings.location)
      if (prefix !== undefined && settings !== undefined && !out.has(prefix)) {
        out.set(prefix, { location: prefix, credentials: Plan.credentialsOf(settings) })
      }
    }
  }
  return [...out.values()]
}

const result = (backend: CheckResult["backend"], target: string, outcome: Either.Either<void, PublishError>): CheckResult =>
  Either.isRight(outcome) ? { backend, target, ok: true } : { backend, target, ok: false, error: outcome.left }

/** Runs every check; never fails itself. */
export const run = (
  probe: ReadonlyArray<Probe>
): Effect.Effect<ReadonlyArray<CheckResult>, never, ObjectStore | GrqIndex | StacRegistry> =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const index = yield* GrqIndex
    const registry = yield* StacRegistry
    const results: Array<CheckResult> = []
    for (const p of probe) {
      const outcome = yield* Effect.either(
        Effect.zipRight(Object.keys(p.credentials).length > 0 ? store.authorize(p.location, p.credentials) : Effect.void, store.probe(p.location))
      )
      results.push(result("store", p.location, outcome))
    }
    results.push(result("index", "GRQ", yield* Effect.either(index.check())))
    results.push(result("registry", "STAC", yield* Effect.either(registry.check())))
    return results
  })
