/**
 * The cluster itself: that the configured engine is the one answering, its
 * health, and the index template and alias GRQ needs (`check` reads them,
 * `init` installs them). Without the template new grq_* indexes are not under
 * the alias `grq`, and published products are not found.
 */
import { Effect, Option } from "effect"
import { Errors, type GrqIndex } from "@hysds-stac/core"
import * as Engine from "./Engine.ts"
import type { Calls } from "./GrqCalls.ts"
import * as IndexTemplate from "./IndexTemplate.ts"

/** Fails unless the configured engine is the one answering at the URL. */
const verifyEngine = (g: Calls, action: string) =>
  Effect.gen(function* () {
    const identity = yield* g.engine.identify().pipe(
      Effect.retry(g.schedule),
      Effect.mapError((e) =>
        e.kind === "product"
          ? new Errors.IndexError({
              message: `GRQ is configured as Elasticsearch, but ${g.engine.url} is not Elasticsearch: it does not answer with the header X-Elastic-Product: Elasticsearch (is it OpenSearch?)`,
              hint: "for OpenSearch set GRQ_ES_ENGINE=opensearch; otherwise check the GRQ URL",
              cause: e
            })
          : g.indexError(`reach the cluster (${action})`, e)
      )
    )
    if (identity.distribution !== g.engine.kind) {
      const actual =
        identity.distribution === "unknown"
          ? "neither OpenSearch nor Elasticsearch"
          : `${Engine.productName(identity.distribution)}${identity.version ? ` ${identity.version}` : ""}`
      return yield* new Errors.IndexError({
        message: `GRQ is configured as ${g.product}, but ${g.engine.url} is ${actual}`,
        hint:
          identity.distribution === "unknown"
            ? "check the GRQ URL"
            : `set GRQ_ES_ENGINE=${identity.distribution}, or point GRQ_ES_URL at the ${g.product} cluster`
      })
    }
    return identity
  })

export const check =
  (g: Calls): GrqIndex.GrqIndexShape["check"] =>
  () =>
  Effect.gen(function* () {
    yield* verifyEngine(g, "check")
    const health = yield* g.call("read the cluster health", g.engine.health())
    if (health.status === "red") {
      return yield* new Errors.IndexError({
        message: `GRQ (${g.where}): cluster ${health.cluster} is red: some primary shards are unassigned`,
        hint: "see GET /_cluster/allocation/explain on the cluster"
      })
    }
    const installed = yield* g.call(`read the index template ${IndexTemplate.NAME}`, g.engine.getIndexTemplate(IndexTemplate.NAME))
    if (Option.isSome(installed)) {
      const problem = IndexTemplate.problem(installed.value)
      if (problem !== undefined) {
        return yield* new Errors.IndexError({
          message: `GRQ (${g.where}): the index template ${IndexTemplate.NAME} is not usable: ${problem}`,
          hint: "run `hysds-stac grq init` to replace it"
        })
      }
      const version = IndexTemplate.installedVersion(installed.value)
      if (version === undefined || version < IndexTemplate.VERSION) {
        yield* Effect.logWarning(
          `GRQ index template ${IndexTemplate.NAME} is version ${version ?? "(none)"}, this hysds-stac has ${IndexTemplate.VERSION}; ` +
            "run `hysds-stac grq init` to update it (new indexes only)"
        )
      }
      return
    }
    const legacy = yield* g.call(`read the legacy index template ${IndexTemplate.NAME}`, g.engine.getLegacyTemplate(IndexTemplate.NAME))
    if (Option.isSome(legacy) && IndexTemplate.legacyProblem(legacy.value) === undefined) {
      yield* Effect.logWarning(
        `GRQ has only grq2's legacy index template ${IndexTemplate.NAME} (_template); it works, but ` +
          "`hysds-stac grq init` installs the composable one (which takes precedence for new indexes)"
      )
      return
    }
    return yield* new Errors.IndexError({
      message: `GRQ (${g.where}): the index template ${IndexTemplate.NAME} (for ${IndexTemplate.PATTERN}, alias ${IndexTemplate.ALIAS}) is not installed`,
      hint: "run `hysds-stac grq init`: without it new grq_* indexes are not under the alias grq, and published products are not found"
    })
  })

export const init =
  (g: Calls): GrqIndex.GrqIndexShape["init"] =>
  () =>
  Effect.gen(function* () {
    yield* verifyEngine(g, "init")
    const put = (geoShape: boolean) => g.engine.putIndexTemplate(IndexTemplate.NAME, IndexTemplate.body({ geoShape }))
    yield* g.call(
      `install the index template ${IndexTemplate.NAME}`,
      put(true).pipe(
        Effect.catchIf(
          (e) => e.kind === "response" && e.status === 400 && /\[geo_shape\].*does not exist/.test(JSON.stringify(e.body) ?? ""),
          () =>
            Effect.zipRight(
              Effect.logWarning(
                `GRQ: ${g.where} has no geo_shape field type (a minimal distribution without the spatial module); ` +
                  "location is stored but not indexed: spatial queries on it will not work"
              ),
              put(false)
            )
        )
      )
    )
    // Indexes made before the template (by grq2 without it, or by hand) join the
    // alias too; no grq_* index at all is fine.
    yield* g.callOrMissing(
      `add the grq_* indexes to the alias ${IndexTemplate.ALIAS}`,
      g.engine.updateAliases([{ add: { index: IndexTemplate.PATTERN, alias: IndexTemplate.ALIAS } }])
    ).pipe(
      Effect.catchTag("IndexError", (e) =>
        Effect.fail(
          /invalid_alias_name_exception|exists with the same name as the alias|an index exists with the same name/i.test(e.message)
            ? new Errors.IndexError({
                message: e.message,
                hint: `an index named ${IndexTemplate.ALIAS} exists; GRQ needs that name for the alias: reindex it into a grq_* index, then delete it`,
                cause: e.cause
              })
            : e
        )
      )
    )
  })

