/**
 * ObjectStore on S3: AWS, or any S3-compatible server (SeaweedFS, MinIO, Ceph).
 *
 * Same semantics as LocalStore, which the shared contract suite holds both to:
 * - `s3://bucket/key` and `s3://host:port/bucket/key` both name `key` in `bucket`;
 *   the server is the configured endpoint, else the URL's host (see S3Location);
 * - `list` answers in the form of the prefix it was given;
 * - `create` is atomic and exclusive: a conditional PUT (`If-None-Match: *`), so
 *   two ingests racing for a product's marker cannot both win;
 * - `remove` is idempotent: S3 deletes of missing keys succeed, so undo can repeat;
 * - backups live in the same bucket (`.hysds-stac-backup/<tx>/key`), so the copy
 *   is server-side and covered by the credentials the location was authorized with.
 *
 * Transient failures (throttling, 5xx, refused or reset connections) are
 * retried by the SDK with jittered exponential backoff; what still fails
 * becomes a StorageError whose hint names what to fix (S3Failure).
 *
 * This module is the public face (the configuration, `make`, `layer`); the
 * work is done by one module per concern: S3Writes (put, multipart, the
 * conditional create), S3Copy (copies and backups), S3Removal (listing and
 * batched deletes with errors per key), S3Access (credentials per location,
 * preflight, probe), over S3Calls (one traced call, sizes) and S3Clients (the
 * pool of clients per server and credentials).
 */
import { Effect, Layer, type Scope } from "effect"
import { ObjectStore, type Retry } from "@hysds-stac/core"
import * as S3Access from "./S3Access.ts"
import * as S3Calls from "./S3Calls.ts"
import * as S3Clients from "./S3Clients.ts"
import * as S3Copy from "./S3Copy.ts"
import * as S3Location from "./S3Location.ts"
import * as S3Removal from "./S3Removal.ts"
import * as S3Writes from "./S3Writes.ts"

export interface S3Config {
  /** Custom endpoint, e.g. http://127.0.0.1:8333; wins over a host in the URL. */
  readonly endpoint?: string
  readonly region: string
  readonly forcePathStyle: boolean
  /** Without it, the SDK's default chain: environment, AWS_PROFILE, instance role. */
  readonly credentials?: S3Clients.Credentials
  /** Multipart part size (default 16 MiB, kept within S3's 5 MiB..5 GiB); files above it go multipart. */
  readonly partSizeBytes?: number
  /** Parts in flight per file (default 4). */
  readonly queueSize?: number
  /** Keep-alive connections per server (default 32). */
  readonly maxSockets?: number
  /** SDK attempts per request, with jittered exponential backoff (default 6). */
  readonly maxAttempts?: number
  /** The backoff between attempts (default core Retry.requestDefaults'). */
  readonly retryDelays?: Retry.Delays
  /** Limit on each request (each part of a multipart upload); none by default. */
  readonly requestTimeoutMs?: number
  /**
   * Objects larger than this are copied part by part (UploadPartCopy). Default
   * and maximum 5 GiB, CopyObject's limit; lower it only to exercise that path.
   */
  readonly multipartCopyAboveBytes?: number
}

/** What this store publishes to. */
export const SCHEMES: ReadonlyArray<string> = ["s3"]

/** The store's methods, over a pool of clients. */
const makeShape = (config: S3Config, clients: S3Clients.Clients): ObjectStore.ObjectStoreShape => {
  const s3 = S3Calls.make(config, clients)
  const putBytes = S3Writes.putBytes(s3)
  const remove = S3Removal.remove(s3)
  return {
    schemes: SCHEMES,
    authorize: S3Access.authorize(s3),
    probe: S3Access.probe(s3, putBytes, remove),
    preflight: S3Access.preflight(s3),
    list: S3Removal.list(s3),
    putFile: S3Writes.putFile(s3),
    putBytes,
    create: S3Writes.create(s3),
    read: S3Writes.read(s3),
    copy: S3Copy.copy(s3),
    remove,
    // An S3 upload cut off (single PUT or multipart, aborted on interruption) never becomes visible: nothing to discard.
    discardPartials: () => Effect.void,
    backupUrl: S3Location.backupUrl
  }
}

/** The store; its connections close when `scope` does. */
export const make = (config: S3Config): Effect.Effect<ObjectStore.ObjectStoreShape, never, Scope.Scope> =>
  Effect.map(S3Clients.scoped(config, 32), (clients) => makeShape(config, clients))

/** The ObjectStore served by S3; connections close when the layer is released. */
export const layer = (config: S3Config): Layer.Layer<ObjectStore.ObjectStore> => Layer.scoped(ObjectStore.ObjectStore, make(config))

export { BACKUP_DIR, backupUrl } from "./S3Location.ts"
export { contentTypeFor } from "./ContentType.ts"
export { copyRanges } from "./S3Copy.ts"
export { firstDeleteError } from "./S3Removal.ts"
export type { Credentials } from "./S3Clients.ts"
