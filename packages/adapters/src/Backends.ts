/**
 * The layer that serves the three ports for a given configuration: each port
 * gets the backend its settings name, independently (S3 with the embedded index
 * is a valid mix, e.g. for tests).
 */
import { type Errors, type Extractor, type GrqIndex, Journal, type ObjectStore, type StacRegistry } from "@hysds-stac/core"
import { Effect, Layer, Redacted } from "effect"
import * as DirectoryBlobs from "./journal/DirectoryBlobs.ts"
import * as FileJournal from "./journal/FileJournal.ts"
import * as ObjectJournal from "./journal/ObjectJournal.ts"
import * as S3Blobs from "./s3/S3Blobs.ts"
import * as Database from "./sqlite/Database.ts"
import * as LocalStore from "./local/LocalStore.ts"
import type * as Settings from "./Settings.ts"
import * as SqliteIndex from "./sqlite/SqliteIndex.ts"
import * as SqliteRegistry from "./sqlite/SqliteRegistry.ts"
import * as StacApiRegistry from "./stac-api/StacApiRegistry.ts"
import * as S3Store from "./s3/S3Store.ts"
import * as OpenSearchIndex from "./grq/OpenSearchIndex.ts"
import * as ElasticsearchIndex from "./grq/ElasticsearchIndex.ts"
import * as ExtractorProcess from "./process/ExtractorProcess.ts"
import * as path from "node:path"

export type Ports = ObjectStore.ObjectStore | GrqIndex.GrqIndex | StacRegistry.StacRegistry | Extractor.Extractor

// The adapters' own configs take plain strings: each secret leaves its Redacted
// here, as the client that sends it is built, and nowhere earlier.
const s3Config = ({ credentials, ...rest }: Settings.S3Settings): S3Store.S3Config => ({
  ...rest,
  ...(credentials === undefined
    ? {}
    : { credentials: "profile" in credentials ? credentials : { accessKeyId: credentials.accessKeyId, secretAccessKey: Redacted.value(credentials.secretAccessKey) } })
})

const grqConfig = ({ password, apiKey, ...rest }: Settings.GrqSettings) => ({
  ...rest,
  ...(password !== undefined ? { password: Redacted.value(password) } : {}),
  ...(apiKey !== undefined ? { apiKey: Redacted.value(apiKey) } : {})
})

const stacApiConfig = ({ apiKey, bearerToken, ...rest }: Settings.StacApiSettings): StacApiRegistry.StacApiConfig => ({
  ...rest,
  ...(apiKey !== undefined ? { apiKey: Redacted.value(apiKey) } : {}),
  ...(bearerToken !== undefined ? { bearerToken: Redacted.value(bearerToken) } : {})
})

// The one retry policy of the settings, in each adapter's own terms (the S3 SDK counts
// attempts); a count not set keeps the adapter's own default.
const delays = (s: Settings.Settings) => ({ baseMillis: s.retry.baseMillis, maxMillis: s.retry.maxMillis })
const retries = (s: Settings.Settings) => (s.retry.retries !== undefined ? { maxRetries: s.retry.retries } : {})

const storeLayer = (s: Settings.Settings): Layer.Layer<ObjectStore.ObjectStore, Errors.ConfigError> =>
  s.store.kind === "local"
    ? LocalStore.layer({ root: path.join(s.stateDir, "store") })
    : S3Store.layer({
        ...s3Config(s.store),
        ...(s.retry.retries !== undefined ? { maxAttempts: s.retry.retries + 1 } : {}),
        retryDelays: delays(s)
      })

const indexLayer = (s: Settings.Settings): Layer.Layer<GrqIndex.GrqIndex, Errors.ConfigError, Database.Database> =>
  s.index.kind === "embedded"
    ? SqliteIndex.layer()
    : s.index.kind === "opensearch"
      ? OpenSearchIndex.layer({ ...grqConfig(s.index), ...retries(s), retryDelays: delays(s) })
      : ElasticsearchIndex.layer({ ...grqConfig(s.index), ...retries(s), retryDelays: delays(s) })

const registryLayer = (s: Settings.Settings): Layer.Layer<StacRegistry.StacRegistry, Errors.ConfigError, Database.Database> =>
  s.registry.kind === "embedded"
    ? SqliteRegistry.layer()
    : StacApiRegistry.layer({
        ...stacApiConfig(s.registry),
        ...retries(s),
        retryBaseDelayMs: s.retry.baseMillis,
        retryMaxDelayMs: s.retry.maxMillis
      })

/** The URL schemes the configured object store publishes to, known without building it (for `validate`). */
export const storeSchemes = (s: Settings.Settings): ReadonlyArray<string> => (s.store.kind === "local" ? LocalStore.SCHEMES : S3Store.SCHEMES)

/** The three backend ports and the extractor runner; the SQLite file is opened only when an embedded port needs it. */
export const layer = (settings: Settings.Settings): Layer.Layer<Ports, Errors.ConfigError | Errors.StorageError> => {
  const needsDatabase = settings.index.kind === "embedded" || settings.registry.kind === "embedded"
  const database = needsDatabase ? Database.layer(path.join(settings.stateDir, "hysds-stac.sqlite")) : Layer.empty
  return Layer.mergeAll(storeLayer(settings), ExtractorProcess.layer({ timeoutMillis: settings.extractorTimeoutMillis }), Layer.provide(Layer.mergeAll(indexLayer(settings), registryLayer(settings)), database as Layer.Layer<Database.Database, Errors.StorageError>))
}

/**
 * The journal the settings name: the state dir's file journal, or the shared
 * one (ObjectJournal) in S3, in the local store, or in a directory.
 * `retentionDays` overrides the setting (the server validates its own).
 */
export const journalLayer = (
  settings: Settings.Settings,
  overrides: { readonly retentionDays?: number } = {}
): Layer.Layer<Journal.Journal, Errors.ConfigError> => {
  const j = settings.journal
  const retentionDays = overrides.retentionDays ?? j.retentionDays
  if (j.kind === "file") {
    return Layer.sync(Journal.Journal, () => FileJournal.make({ dir: path.join(settings.stateDir, "journal"), retentionDays, lease: j.lease }))
  }
  const shared = (blobs: DirectoryBlobs.Blobs) => ObjectJournal.make({ blobs, lease: j.lease, holder: FileJournal.holder(), retentionDays })
  const at = j.at
  if (at.scheme === "file") return Layer.sync(Journal.Journal, () => shared(DirectoryBlobs.make(at.path)))
  if (settings.store.kind === "local") {
    const dir = path.join(settings.stateDir, "store", "s3", at.bucket, ...at.key.split("/").filter((s) => s !== ""))
    return Layer.sync(Journal.Journal, () => shared(DirectoryBlobs.make(dir)))
  }
  const config: S3Store.S3Config = {
    ...s3Config(settings.store),
    ...(settings.retry.retries !== undefined ? { maxAttempts: settings.retry.retries + 1 } : {}),
    retryDelays: delays(settings)
  }
  return Layer.scoped(Journal.Journal, Effect.map(S3Blobs.make(config, `s3://${at.bucket}/${at.key}`), shared))
}
