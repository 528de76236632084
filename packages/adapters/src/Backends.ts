/**
 * Which backend serves each port, chosen from flags and environment. With nothing
 * configured every port uses the embedded default under the state dir. A backend
 * that is configured but not available fails loudly: silently falling back to
 * the embedded one would "publish" into a local file nobody reads.
 */
import { Errors, type GrqIndex, type ObjectStore, type StacRegistry } from "@hysds-stac/core"
import { Either, Layer } from "effect"
import * as Embedded from "./Embedded.ts"

export interface Backends {
  readonly stateDir: string
  readonly store: { readonly kind: "local" } | { readonly kind: "s3"; readonly endpoint?: string }
  readonly index:
    | { readonly kind: "embedded" }
    | { readonly kind: "opensearch" | "elasticsearch"; readonly url: string }
  readonly registry: { readonly kind: "embedded" } | { readonly kind: "stac-api"; readonly url: string }
}

type Env = Readonly<Record<string, string | undefined>>

const set = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim()
  return v ? v : undefined
}

/** Reads the backend choice: `HYSDS_STAC_STORE`, `GRQ_ES_ENGINE` + `GRQ_URL`, `STAC_API_URL`. */
export const resolve = (env: Env, stateDir: string): Either.Either<Backends, Errors.ConfigError> => {
  const storeKind = set(env, "HYSDS_STAC_STORE") ?? "local"
  if (storeKind !== "local" && storeKind !== "s3") {
    return Either.left(
      new Errors.ConfigError({ message: `HYSDS_STAC_STORE=${storeKind} is not a store`, field: "HYSDS_STAC_STORE", hint: "use local or s3" })
    )
  }
  const endpoint = set(env, "S3_ENDPOINT")
  const engine = set(env, "GRQ_ES_ENGINE")
  const grqUrl = set(env, "GRQ_URL")
  let index: Backends["index"] = { kind: "embedded" }
  if (engine !== undefined || grqUrl !== undefined) {
    const kind = (engine ?? "elasticsearch").toLowerCase()
    if (kind !== "opensearch" && kind !== "elasticsearch") {
      return Either.left(
        new Errors.ConfigError({ message: `GRQ_ES_ENGINE=${engine} is not an engine`, field: "GRQ_ES_ENGINE", hint: "use opensearch or elasticsearch" })
      )
    }
    if (grqUrl === undefined) {
      return Either.left(
        new Errors.ConfigError({ message: `GRQ_ES_ENGINE=${engine} is set but GRQ_URL is not`, field: "GRQ_URL", hint: "set GRQ_URL to the GRQ cluster, e.g. http://127.0.0.1:9200" })
      )
    }
    index = { kind, url: grqUrl }
  }
  const stacUrl = set(env, "STAC_API_URL")
  return Either.right({
    stateDir,
    store: storeKind === "s3" ? { kind: "s3", ...(endpoint ? { endpoint } : {}) } : { kind: "local" },
    index,
    registry: stacUrl ? { kind: "stac-api", url: stacUrl } : { kind: "embedded" }
  })
}

const notBuilt = (what: string, setting: string) =>
  new Errors.ConfigError({
    message: `the ${what} backend is configured (${setting}) but not available in this version of hysds-stac`,
    field: setting,
    hint: `unset ${setting} to use the embedded default under the state dir`
  })

/** The layer serving the three ports for `backends`. */
export const layer = (
  backends: Backends
): Layer.Layer<
  ObjectStore.ObjectStore | GrqIndex.GrqIndex | StacRegistry.StacRegistry,
  Errors.ConfigError | Errors.StorageError
> => {
  if (backends.store.kind !== "local") return Layer.fail(notBuilt("S3 object store", "HYSDS_STAC_STORE"))
  if (backends.index.kind !== "embedded") return Layer.fail(notBuilt(`GRQ ${backends.index.kind}`, "GRQ_ES_ENGINE/GRQ_URL"))
  if (backends.registry.kind !== "embedded") return Layer.fail(notBuilt("STAC API", "STAC_API_URL"))
  return Embedded.layer({ stateDir: backends.stateDir })
}
