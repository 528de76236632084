/**
 * Listing and removing objects.
 *
 * - `list` answers in the form of the prefix it was given, sorted by URL.
 * - `remove` is idempotent: S3 deletes of missing keys succeed, so undo can
 *   repeat. Keys go in DeleteObjects batches (at most 1000 keys, one client
 *   and one bucket each, a few in flight). S3 answers 200 even when keys
 *   failed, listing them in `Errors` (one `<Error>` per key): those are
 *   checked, and the first fails the removal naming its key and code.
 */
import { DeleteObjectsCommand, type _Error as DeleteError, ListObjectsV2Command } from "@aws-sdk/client-s3"
import { Array as Arr, Effect } from "effect"
import type { ObjectStore } from "@hysds-stac/core"
import type { Calls } from "./S3Calls.ts"
import * as S3Location from "./S3Location.ts"

/** DeleteObjects takes at most 1000 keys. */
const DELETE_BATCH = 1000
/** DeleteObjects requests in flight at once. */
const DELETE_CONCURRENCY = 4

export const list =
  (s3: Calls): ObjectStore.ObjectStoreShape["list"] =>
  (prefix) =>
    Effect.gen(function* () {
      const target = yield* s3.parse(prefix)
      const keyPrefix = target.key === "" ? "" : `${target.key}/`
      const found: Array<ObjectStore.StoredObject> = []
      let token: string | undefined
      do {
        const page = yield* s3.call("list", target, (c, abortSignal) =>
          c.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: keyPrefix, ContinuationToken: token }), { abortSignal })
        )
        for (const o of page.Contents ?? []) {
          // A key ending in "/" (a console's "folder") has no URL: Location.parse drops trailing slashes.
          if (o.Key === undefined || o.Key.endsWith("/")) continue
          found.push({ url: S3Location.childUrl(prefix, target.key, o.Key), size: o.Size ?? 0 })
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token !== undefined)
      return found.sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0))
    })

/**
 * The first real failure in a DeleteObjects answer. A missing key is no
 * failure (removal is idempotent), though S3 itself never reports one.
 */
export const firstDeleteError = (errors: ReadonlyArray<DeleteError> | undefined): DeleteError | undefined =>
  errors?.find((e) => e.Code !== "NoSuchKey")

/** Groups of at most 1000 distinct keys that one DeleteObjects (one client, one bucket) can remove. */
const deleteBatches = (targets: ReadonlyArray<S3Location.S3Target>, clientOf: (t: S3Location.S3Target) => string) => {
  const groups = new Map<string, Map<string, S3Location.S3Target>>()
  for (const t of targets) {
    const id = `${clientOf(t)}\n${t.bucket}`
    const group = groups.get(id) ?? new Map<string, S3Location.S3Target>()
    group.set(t.key, t)
    groups.set(id, group)
  }
  return [...groups.values()].flatMap((group) => Arr.chunksOf([...group.values()], DELETE_BATCH))
}

/** One DeleteObjects; `Quiet` so only failures come back, and those are checked: S3 answers 200 regardless. */
const deleteBatch = (s3: Calls, batch: ReadonlyArray<S3Location.S3Target>) =>
  Effect.gen(function* () {
    const first = batch[0]!
    const out = yield* s3.call("remove", first, (c, abortSignal) =>
      c.send(new DeleteObjectsCommand({ Bucket: first.bucket, Delete: { Quiet: true, Objects: batch.map((t) => ({ Key: t.key })) } }), {
        abortSignal
      })
    )
    const error = firstDeleteError(out.Errors)
    if (error === undefined) return
    const target = batch.find((t) => t.key === error.Key) ?? first
    const others = (out.Errors?.length ?? 1) - 1
    const more = others > 0 ? ` (and ${others} more key${others === 1 ? "" : "s"})` : ""
    const cause = { name: error.Code ?? "Error", Code: error.Code, message: `${error.Message ?? "not removed"}${more}` }
    return yield* s3.failure(cause, { action: "remove", target })
  })

export const remove =
  (s3: Calls): ObjectStore.ObjectStoreShape["remove"] =>
  (urls) =>
    Effect.gen(function* () {
      const targets: Array<S3Location.S3Target> = []
      for (const url of urls) targets.push(yield* s3.object(url))
      yield* Effect.forEach(deleteBatches(targets, s3.clients.idOf), (batch) => deleteBatch(s3, batch), {
        concurrency: DELETE_CONCURRENCY,
        discard: true
      })
    })
