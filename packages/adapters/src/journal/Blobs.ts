/**
 * What a shared journal needs of an object store, and no more: keys under one
 * root, create-only writes, plain writes, reads that say how old an object is
 * by the store's own clock, sorted listings and deletes. Two implementations:
 * S3Blobs (any S3 API) and DirectoryBlobs (a directory: the local store, or a
 * file system several machines mount).
 *
 * Create-only (`create`) is the one conditional write the journal builds on:
 * records never overwrite each other (each has a key of its own) and a lease
 * is taken over by creating the next generation's key, so exactly one of
 * several racing writers wins.
 */
import type { Errors } from "@hysds-stac/core"
import type { Effect } from "effect"

export interface Blob {
  readonly body: string
  /** Milliseconds since it was last written. */
  readonly ageMs: number
}

export interface Blobs {
  /** Where the blobs live, for messages (no secrets). */
  readonly where: string
  /** Writes `key` only if it does not exist; false when it does (someone else created it). */
  readonly create: (key: string, body: string) => Effect.Effect<boolean, Errors.InternalError>
  /** Writes `key`, replacing what is there. */
  readonly put: (key: string, body: string) => Effect.Effect<void, Errors.InternalError>
  /** The object, or undefined when there is none. */
  readonly get: (key: string) => Effect.Effect<Blob | undefined, Errors.InternalError>
  /** Every key that starts with `prefix`, sorted. */
  readonly list: (prefix: string) => Effect.Effect<ReadonlyArray<string>, Errors.InternalError>
  /** Deletes `keys`; a missing one is no error. */
  readonly remove: (keys: ReadonlyArray<string>) => Effect.Effect<void, Errors.InternalError>
}

/** A key's segments must be plain names: the journal builds every key itself from checked parts. */
export const checkKey = (key: string): string | undefined =>
  key.split("/").every((s) => s !== "" && s !== "." && s !== ".." && !s.includes("\0")) ? undefined : `not a journal key: ${JSON.stringify(key)}`
