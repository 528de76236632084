/**
 * Port: where product files are published. Addressed by URL (`s3://bucket/key`,
 * `s3://host:port/bucket/key`, `file:///abs/path`) because HySDS configs speak
 * in such locations; each adapter decides which schemes it serves.
 */
import { Context, type Effect } from "effect"
import type { StorageError } from "./Errors.ts"

/**
 * What planning saw of a local file, from the stat of its real path. The bytes
 * published must come from this very file: an adapter opens the path once
 * without following a final symlink, fstat's the descriptor and refuses when
 * any field differs (the file was swapped or changed after planning), then
 * streams from that descriptor. Fields a platform does not report are absent.
 */
export interface FileIdentity {
  readonly size: number
  readonly ino?: number
  readonly dev?: number
  /** Modification time in whole milliseconds. */
  readonly mtimeMs?: number
}

export interface StoredObject {
  readonly url: string
  readonly size: number
}

/** Credentials a datasets.json entry gives for its locations (`s3-profile-name`, keys). */
export interface StoreCredentials {
  readonly profile?: string
  readonly accessKeyId?: string
  readonly secretAccessKey?: string
}

/**
 * Every operation, when its fiber is interrupted, returns only once the
 * operation has settled (finished, or been cancelled on the server): a write
 * still in flight after its effect ended could land after the rollback removed
 * its target and leave an orphan behind.
 */
export interface ObjectStoreShape {
  /**
   * The URL schemes this store publishes to (`s3`, `file`), lower-case: a
   * location of any other scheme is refused while planning, before anything
   * is claimed.
   */
  readonly schemes: ReadonlyArray<string>
  /**
   * Uses `credentials` for every URL under `location` from now on (HySDS lets each
   * datasets.json entry name its own profile or keys). Backends without
   * credentials ignore it.
   */
  readonly authorize: (location: string, credentials: StoreCredentials) => Effect.Effect<void, StorageError>
  /** Writes and removes a small probe object under `location`: proves it is writable. */
  readonly probe: (location: string) => Effect.Effect<void, StorageError>
  /** Fails with a clear StorageError when `bytes` cannot fit at `location` (disk space, quota). */
  readonly preflight: (location: string, bytes: number) => Effect.Effect<void, StorageError>
  /** Every object whose URL starts with `prefix + "/"`; empty when none. */
  readonly list: (prefix: string) => Effect.Effect<ReadonlyArray<StoredObject>, StorageError>
  /**
   * Streams a local file to `url`, replacing any object there. `file` is a real
   * path (no symlink in it at planning); it is opened once, no-follow, and must
   * still be the file `expected` describes, else nothing is written.
   */
  readonly putFile: (url: string, file: string, expected: FileIdentity) => Effect.Effect<void, StorageError>
  /** Writes small content (JSON we generate) to `url`, replacing any object there. */
  readonly putBytes: (url: string, bytes: Uint8Array, contentType: string) => Effect.Effect<void, StorageError>
  /** Writes `bytes` only if nothing is at `url` yet, atomically; false when something was. */
  readonly create: (url: string, bytes: Uint8Array) => Effect.Effect<boolean, StorageError>
  readonly read: (url: string) => Effect.Effect<Uint8Array, StorageError>
  /** Server-side copy; used to keep what `--force` replaces until the run commits. */
  readonly copy: (from: string, to: string) => Effect.Effect<void, StorageError>
  /**
   * Removes what interrupted writes to `urls` left behind (a local store's temp
   * files; nothing on S3, where an unfinished upload never becomes visible), never
   * the objects themselves: undo and recovery call it for every URL a transaction
   * wrote, since a SIGKILL mid-write leaves such leftovers that no object names.
   */
  readonly discardPartials: (urls: ReadonlyArray<string>) => Effect.Effect<void, StorageError>
  /** Removes objects (and their partial writes); removing what is already gone succeeds, so undo can be repeated. */
  readonly remove: (urls: ReadonlyArray<string>) => Effect.Effect<void, StorageError>
  /** Where a copy of `url` is kept while transaction `tx` may still roll back. */
  readonly backupUrl: (url: string, tx: string) => string
}

export class ObjectStore extends Context.Tag("@hysds-stac/core/ObjectStore")<ObjectStore, ObjectStoreShape>() {}
