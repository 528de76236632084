/**
 * Whether and how a location may be reached: credentials granted per location
 * (from datasets.json), the preflight before an ingest, and the probe that
 * proves a write and a delete work. S3 has no quota to measure, so preflight
 * only proves the bucket is there and these credentials may reach it.
 */
import { HeadBucketCommand } from "@aws-sdk/client-s3"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { Errors, Location, type ObjectStore } from "@hysds-stac/core"
import type { Calls } from "./S3Calls.ts"
import type * as S3Clients from "./S3Clients.ts"

type Shape = ObjectStore.ObjectStoreShape

/** What a datasets.json entry gives, as a grant takes it; undefined when it gives nothing (the store's own apply). */
const credentialsOf = (location: string, c: ObjectStore.StoreCredentials): Effect.Effect<S3Clients.Credentials | undefined, Errors.StorageError> => {
  // Keys win over a profile, as in boto3 (which HySDS's osaka uses).
  if (c.accessKeyId !== undefined || c.secretAccessKey !== undefined) {
    if (c.accessKeyId && c.secretAccessKey) return Effect.succeed({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey })
    return Effect.fail(
      new Errors.StorageError({
        message: `credentials for ${location} give ${c.accessKeyId ? "an access key id without a secret key" : "a secret key without an access key id"}`,
        url: location,
        hint: "give both keys for the location in datasets.json, or an s3-profile-name"
      })
    )
  }
  return Effect.succeed(c.profile ? { profile: c.profile } : undefined)
}

export const authorize =
  (s3: Calls): Shape["authorize"] =>
  (location, credentials) =>
    Effect.gen(function* () {
      const target = yield* s3.parse(location)
      const resolved = yield* credentialsOf(location, credentials)
      s3.clients.grant(target, resolved)
    })

export const preflight =
  (s3: Calls): Shape["preflight"] =>
  (location, bytes) =>
    Effect.gen(function* () {
      const target = yield* s3.parse(location)
      if (!Number.isFinite(bytes) || bytes < 0) {
        return yield* new Errors.StorageError({ message: `preflight of ${location}: ${bytes} is not a byte count`, url: location })
      }
      yield* s3.call("access", target, (c, abortSignal) => c.send(new HeadBucketCommand({ Bucket: target.bucket }), { abortSignal }), "bucket")
    })

/** Writes and removes a small object, through the store's own put and remove. */
export const probe =
  (s3: Calls, putBytes: Shape["putBytes"], remove: Shape["remove"]): Shape["probe"] =>
  (location) =>
    Effect.gen(function* () {
      yield* s3.parse(location)
      const url = Location.join(location, `.hysds-stac-probe-${randomUUID()}`)
      yield* putBytes(url, new TextEncoder().encode("probe"), "text/plain")
      yield* remove([url])
    })
