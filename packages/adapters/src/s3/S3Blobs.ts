/**
 * The shared journal's Blobs on S3 (journal/Blobs.ts): every key under one
 * `s3://bucket/prefix`, through the store's clients (same endpoint,
 * credentials, connection pool and retry policy as S3Store).
 *
 * Conditional writes, as checked against the test services' SeaweedFS with
 * real requests (2026-12, SeaweedFS of test/services/versions.env): a PUT with
 * `If-None-Match: *` on an existing key answers 412 PreconditionFailed, and of
 * 8 such PUTs racing for one new key exactly one succeeds; `If-Match` is
 * honoured too (412 on a stale or unknown ETag, and on a missing key). The
 * journal relies on `If-None-Match: *` alone, which AWS S3 (since 2024-08),
 * MinIO and SeaweedFS all honour: records never share a key, and a lease is
 * taken over by creating the next generation's key. A create retried by the
 * SDK after a lost answer may meet its own first PUT (412): the body is then
 * compared, as S3Writes.create does.
 *
 * An object's age is its LastModified (second resolution on SeaweedFS and
 * AWS) against this machine's clock, corrected by the SDK's clock offset to
 * the server, so machines whose clocks disagree read the same age. The SDK
 * takes that offset from the Date header of every answer, which is cut to the
 * second too: an age reads up to a second younger than it is, never older
 * (measured against SeaweedFS: the offset was minus the milliseconds of the
 * second). Leases allow for LastModified's second; the offset's only makes a
 * takeover up to a second later, the safe way.
 */
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3"
import { Errors } from "@hysds-stac/core"
import { Chunk, Effect, Either, type Scope } from "effect"
import { type Blobs, checkKey } from "../journal/Blobs.ts"
import * as S3Calls from "./S3Calls.ts"
import * as S3Clients from "./S3Clients.ts"
import * as S3Failure from "./S3Failure.ts"
import type * as S3Location from "./S3Location.ts"
import type { S3Config } from "./S3Store.ts"

const internal = (e: Errors.StorageError) => new Errors.InternalError({ message: `journal: ${e.message}${e.hint ? ` (${e.hint})` : ""}`, cause: e })

const makeWith = (config: S3Config, s3: S3Calls.Calls, base: S3Location.S3Target): Blobs => {
  const root = base.key.replace(/\/+$/, "")
  const keyOf = (key: string) => {
    const bad = checkKey(key)
    if (bad !== undefined) throw new Errors.InternalError({ message: bad })
    return root === "" ? key : `${root}/${key}`
  }
  const target = (key: string): S3Location.S3Target => ({ ...base, key: keyOf(key), url: `s3://${base.bucket}/${keyOf(key)}` })
  const call = <A>(action: string, t: S3Location.S3Target, f: (c: S3Client, signal: AbortSignal) => Promise<A>) => Effect.mapError(s3.call(action, t, f), internal)
  const body = (text: string) => new TextEncoder().encode(text)

  const getText = (t: S3Location.S3Target) =>
    s3
      .attempt(t, async (c, abortSignal) => {
        const out = await c.send(new GetObjectCommand({ Bucket: t.bucket, Key: t.key }), { abortSignal })
        const clockOffset = (c.config as { systemClockOffset?: number }).systemClockOffset ?? 0
        return { body: await out.Body!.transformToString("utf8"), modified: out.LastModified?.getTime() ?? Date.now(), clockOffset }
      }, "journal get")
      .pipe(
        Effect.map((o) => ({ body: o.body, ageMs: Math.max(0, Date.now() + o.clockOffset - o.modified) })),
        Effect.catchAll((e) => (S3Failure.isNotFound(e) ? Effect.succeed(undefined) : Effect.fail(internal(s3.failure(e, { action: "read", target: t, subject: "object" })))))
      )

  const create: Blobs["create"] = (key, text) =>
    Effect.suspend(() => {
      const t = target(key)
      const put = new PutObjectCommand({ Bucket: t.bucket, Key: t.key, Body: body(text), ContentType: "application/json", IfNoneMatch: "*" })
      return s3.attempt(t, (c, abortSignal) => c.send(put, { abortSignal }), "journal create").pipe(
        Effect.as(true),
        Effect.catchAll((e) =>
          S3Failure.isConditionLost(e)
            ? // Our own first PUT may be what is there, when the SDK retried after a lost answer.
              S3Failure.attemptsOf(e) > 1
              ? Effect.map(getText(t), (there) => there?.body === text)
              : Effect.succeed(false)
            : Effect.fail(internal(s3.failure(e, { action: "create", target: t, subject: "object" })))
        ),
        // A write runs to its answer: interrupting it would leave us not knowing whether it landed.
        Effect.uninterruptible
      )
    })

  const put: Blobs["put"] = (key, text) =>
    Effect.suspend(() => {
      const t = target(key)
      return call("write", t, (c, abortSignal) =>
        c.send(new PutObjectCommand({ Bucket: t.bucket, Key: t.key, Body: body(text), ContentType: "application/json" }), { abortSignal })
      ).pipe(Effect.asVoid, Effect.uninterruptible)
    })

  const get: Blobs["get"] = (key) => Effect.suspend(() => getText(target(key)))

  const list: Blobs["list"] = (prefix) =>
    Effect.suspend(() => {
      const full = root === "" ? prefix : `${root}/${prefix}`
      const t: S3Location.S3Target = { ...base, key: full, url: `s3://${base.bucket}/${full}` }
      return Effect.gen(function* () {
        const keys: Array<string> = []
        let token: string | undefined
        do {
          const page = yield* call("list", t, (c, abortSignal) =>
            c.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: full, ...(token ? { ContinuationToken: token } : {}) }), { abortSignal })
          )
          for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(root === "" ? o.Key : o.Key.slice(root.length + 1))
          token = page.IsTruncated ? page.NextContinuationToken : undefined
        } while (token !== undefined)
        return keys.sort()
      })
    })

  const remove: Blobs["remove"] = (keys) =>
    Effect.suspend(() =>
      Effect.forEach(
        Chunk.toReadonlyArray(Chunk.chunksOf(Chunk.fromIterable(keys), 1000)).map(Chunk.toReadonlyArray),
        (batch) => {
          const t = target(batch[0]!)
          return call("remove", t, (c, abortSignal) =>
            c.send(new DeleteObjectsCommand({ Bucket: t.bucket, Delete: { Objects: batch.map((k) => ({ Key: keyOf(k) })), Quiet: true } }), { abortSignal })
          ).pipe(
            Effect.flatMap((out) =>
              (out.Errors ?? []).length > 0
                ? Effect.fail(new Errors.InternalError({ message: `journal: cannot remove ${out.Errors![0]!.Key}: ${out.Errors![0]!.Code}` }))
                : Effect.void
            )
          )
        },
        { discard: true }
      )
    )

  void config
  return { where: `s3://${base.bucket}/${root}`, create, put, get, list, remove }
}

/** Blobs under `location` (`s3://bucket/prefix`); connections close with `scope`. */
export const make = (config: S3Config, location: string): Effect.Effect<Blobs, Errors.ConfigError, Scope.Scope> =>
  Effect.gen(function* () {
    const clients = yield* S3Clients.scoped(config, 16)
    const s3 = S3Calls.make(config, clients)
    const base = s3.parse(location)
    if (Either.isLeft(base)) {
      return yield* Effect.fail(
        new Errors.ConfigError({ message: `HYSDS_STAC_JOURNAL=${location}: ${base.left.message}`, field: "HYSDS_STAC_JOURNAL", hint: "use s3://bucket/prefix" })
      )
    }
    return makeWith(config, s3, base.right)
  })
