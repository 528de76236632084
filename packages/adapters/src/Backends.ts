/**
 * The layer that serves the three ports for a given configuration: each port
 * gets the backend its settings name, independently (S3 with the embedded index
 * is a valid mix, e.g. for tests).
 */
import type { Errors, GrqIndex, ObjectStore, StacRegistry } from "@hysds-stac/core"
import { Errors as E } from "@hysds-stac/core"
import { Layer } from "effect"
import * as Database from "./sqlite/Database.ts"
import * as LocalStore from "./local/LocalStore.ts"
import type * as Settings from "./Settings.ts"
import * as SqliteIndex from "./sqlite/SqliteIndex.ts"
import * as SqliteRegistry from "./sqlite/SqliteRegistry.ts"
import * as path from "node:path"

export type Ports = ObjectStore.ObjectStore | GrqIndex.GrqIndex | StacRegistry.StacRegistry

const notAvailable = (what: string, setting: string) =>
  Layer.fail(
    new E.ConfigError({
      message: `the ${what} backend is configured (${setting}) but not available in this build`,
      field: setting,
      hint: `unset ${setting} to use the embedded default under the state dir`
    })
  )

const storeLayer = (s: Settings.Settings): Layer.Layer<ObjectStore.ObjectStore, Errors.ConfigError> =>
  s.store.kind === "local" ? LocalStore.layer({ root: path.join(s.stateDir, "store") }) : notAvailable("S3 object store", "HYSDS_STAC_STORE")

const indexLayer = (s: Settings.Settings): Layer.Layer<GrqIndex.GrqIndex, Errors.ConfigError, Database.Database> =>
  s.index.kind === "embedded" ? SqliteIndex.layer() : notAvailable(`GRQ ${s.index.kind}`, "GRQ_ES_ENGINE")

const registryLayer = (s: Settings.Settings): Layer.Layer<StacRegistry.StacRegistry, Errors.ConfigError, Database.Database> =>
  s.registry.kind === "embedded" ? SqliteRegistry.layer() : notAvailable("STAC API", "STAC_API_URL")

/** The three ports; the SQLite file is opened only when an embedded port needs it. */
export const layer = (settings: Settings.Settings): Layer.Layer<Ports, Errors.ConfigError | Errors.StorageError> => {
  const needsDatabase = settings.index.kind === "embedded" || settings.registry.kind === "embedded"
  const database = needsDatabase ? Database.layer(path.join(settings.stateDir, "hysds-stac.sqlite")) : Layer.empty
  return Layer.mergeAll(storeLayer(settings), Layer.provide(Layer.mergeAll(indexLayer(settings), registryLayer(settings)), database as Layer.Layer<Database.Database, Errors.StorageError>))
}
