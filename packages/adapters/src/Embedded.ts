/**
 * The embedded default: everything hysds-stac publishes to, in one state dir,
 * without any server. Files go to `<stateDir>/store` (s3:// locations too),
 * GRQ documents and STAC collections/items to `<stateDir>/hysds-stac.sqlite`.
 * Several processes may share a state dir (see sqlite/Database.ts).
 */
import { Layer } from "effect"
import * as path from "node:path"
import type { Errors, GrqIndex, ObjectStore, StacRegistry } from "@hysds-stac/core"
import * as LocalStore from "./local/LocalStore.ts"
import * as Database from "./sqlite/Database.ts"
import * as SqliteIndex from "./sqlite/SqliteIndex.ts"
import * as SqliteRegistry from "./sqlite/SqliteRegistry.ts"

export interface Options {
  readonly stateDir: string
  /** Dynamic-mapping emulation of the embedded GRQ (defaults as Elasticsearch's). */
  readonly grq?: SqliteIndex.Options
  readonly database?: Database.Options
}

export const storeDir = (stateDir: string): string => path.join(path.resolve(stateDir), "store")
export const databaseFile = (stateDir: string): string => path.join(path.resolve(stateDir), "hysds-stac.sqlite")

/** Fails (when built) only if the state database cannot be opened. */
export const layer = (
  options: Options
): Layer.Layer<ObjectStore.ObjectStore | GrqIndex.GrqIndex | StacRegistry.StacRegistry, Errors.StorageError> =>
  Layer.mergeAll(
    LocalStore.layer({ root: storeDir(options.stateDir) }),
    Layer.merge(SqliteIndex.layer(options.grq), SqliteRegistry.layer()).pipe(
      Layer.provide(Database.layer(databaseFile(options.stateDir), options.database))
    )
  )
