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
 * Files are streamed, never read whole into memory: at most `queueSize` parts of
 * `partSizeBytes` per file are buffered. Transient failures (throttling, 5xx,
 * refused or reset connections) are retried by the SDK with jittered exponential
 * backoff; what still fails becomes a StorageError whose hint names what to fix.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  type _Error as DeleteError,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand
} from "@aws-sdk/client-s3"
import { Upload } from "@aws-sdk/lib-storage"
import { Effect, Exit, Layer, type Scope } from "effect"
import { randomUUID } from "node:crypto"
import { pipeline, Readable, Transform } from "node:stream"
import { Errors, Location, ObjectStore } from "@hysds-stac/core"
import * as SourceFile from "../SourceFile.ts"
import * as S3Clients from "./S3Clients.ts"
import * as S3Failure from "./S3Failure.ts"
import * as S3Location from "./S3Location.ts"

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
  /** Limit on each request (each part of a multipart upload); none by default. */
  readonly requestTimeoutMs?: number
  /**
   * Objects larger than this are copied part by part (UploadPartCopy). Default
   * and maximum 5 GiB, CopyObject's limit; lower it only to exercise that path.
   */
  readonly multipartCopyAboveBytes?: number
}

const MiB = 1024 * 1024
const GiB = 1024 * MiB
/** S3's bounds on a multipart part (the last part may be smaller). */
const MIN_PART = 5 * MiB
const MAX_PART = 5 * GiB
const MAX_PARTS = 10_000
/** CopyObject copies at most 5 GiB in one request. */
const COPY_OBJECT_LIMIT = 5 * GiB
/** Server-side copies move no bytes through us, so large parts only mean fewer requests. */
const COPY_PART = 512 * MiB
/** DeleteObjects takes at most 1000 keys. */
const DELETE_BATCH = 1000
/** DeleteObjects requests in flight at once. */
const DELETE_CONCURRENCY = 4

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  json: "application/json",
  geojson: "application/geo+json",
  xml: "application/xml",
  kml: "application/vnd.google-earth.kml+xml",
  kmz: "application/vnd.google-earth.kmz",
  txt: "text/plain",
  log: "text/plain",
  csv: "text/csv",
  html: "text/html",
  md: "text/markdown",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  tif: "image/tiff",
  tiff: "image/tiff",
  h5: "application/x-hdf5",
  hdf5: "application/x-hdf5",
  he5: "application/x-hdf5",
  hdf: "application/x-hdf",
  nc: "application/x-netcdf",
  nc4: "application/x-netcdf",
  zip: "application/zip",
  gz: "application/gzip",
  tgz: "application/gzip",
  tar: "application/x-tar",
  pdf: "application/pdf"
}

/**
 * The Content-Type a file is published with, from its extension: browsers and
 * STAC clients fetching assets straight from the bucket rely on it.
 */
export const contentTypeFor = (key: string): string => {
  const ext = /\.([^./]+)$/.exec(key)?.[1]?.toLowerCase()
  return (ext !== undefined ? CONTENT_TYPES[ext] : undefined) ?? "application/octet-stream"
}

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.floor(n)))

interface Tuning {
  readonly partSize: number
  readonly queueSize: number
  readonly copyAbove: number
}

/** Out-of-range sizes are clamped, not refused: S3 would refuse every upload anyway. */
const tuningOf = (config: S3Config): Tuning => ({
  partSize: clamp(config.partSizeBytes ?? 16 * MiB, MIN_PART, MAX_PART),
  queueSize: clamp(config.queueSize ?? 4, 1, 64),
  copyAbove: clamp(config.multipartCopyAboveBytes ?? COPY_OBJECT_LIMIT, MIN_PART, COPY_OBJECT_LIMIT)
})

/** The configured part size, raised for huge files so they fit in S3's 10,000 parts. */
const partSizeFor = (tuning: Tuning, size: number) => Math.max(tuning.partSize, Math.ceil(size / MAX_PARTS))

/** Byte ranges (inclusive) of the parts of a server-side multipart copy. */
export const copyRanges = (size: number, partSize: number): ReadonlyArray<{ readonly part: number; readonly range: string }> =>
  Array.from({ length: Math.ceil(size / partSize) }, (_, i) => ({
    part: i + 1,
    range: `bytes=${i * partSize}-${Math.min(size, (i + 1) * partSize) - 1}`
  }))

/**
 * The first real failure in a DeleteObjects answer. S3 answers 200 even when
 * keys failed, listing them in `Errors`; a missing key is no failure (removal is
 * idempotent), though S3 itself never reports one.
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
  const batches: Array<ReadonlyArray<S3Location.S3Target>> = []
  for (const group of groups.values()) {
    const all = [...group.values()]
    for (let i = 0; i < all.length; i += DELETE_BATCH) batches.push(all.slice(i, i + DELETE_BATCH))
  }
  return batches
}

/**
 * Passes a file's bytes through, failing the upload (which then aborts) when
 * they are not exactly `size`: the file changed after it was measured, and the
 * size the caller planned with (preflight, the GRQ document) would be wrong.
 */
const exactly = (size: number, mismatch: (seen: number) => Errors.StorageError) => {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length
      if (seen > size) done(mismatch(seen))
      else done(null, chunk)
    },
    flush(done) {
      done(seen === size ? null : mismatch(seen))
    }
  })
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

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

/** The store's methods, over a pool of clients. */
const makeShape = (config: S3Config, clients: S3Clients.Clients): ObjectStore.ObjectStoreShape => {
  const tuning = tuningOf(config)
  const parse = (url: string) => S3Location.parse(url, config.endpoint)
  const object = (url: string) => S3Location.parseObject(url, config.endpoint)

  /** One SDK call for `target`, cancelled (socket closed) when the fiber is interrupted; fails with the raw SDK error. */
  const attempt = <A>(target: S3Location.S3Target, f: (client: S3Client, signal: AbortSignal) => Promise<A>, action = "request") =>
    Effect.tryPromise({ try: (signal) => f(clients.forTarget(target), signal), catch: (e) => e }).pipe(Effect.withSpan(`s3 ${action}`, spanOf(target)))

  /** A request's span: where it went (redacted), never what it carried. The SDK's own retries are inside it. */
  const spanOf = (target: S3Location.S3Target) => ({
    kind: "client" as const,
    attributes: {
      "aws.s3.bucket": target.bucket,
      "aws.s3.key": clients.redact(target.key),
      ...(target.endpoint !== undefined ? { "server.address": clients.redact(target.endpoint) } : {})
    }
  })

  const failure = (cause: unknown, a: S3Failure.Attempt) => S3Failure.toStorageError(cause, a, clients.redact)

  /** As `attempt`, failing with a StorageError that says what `action` was. */
  const call = <A>(
    action: string,
    target: S3Location.S3Target,
    f: (client: S3Client, signal: AbortSignal) => Promise<A>,
    subject: "object" | "bucket" = "object"
  ) => Effect.mapError(attempt(target, f, action), (e) => failure(e, { action, target, subject }))

  /**
   * Runs a lib-storage Upload of `body` (multipart above the part size). On
   * failure the Upload aborts its multipart upload itself. On interruption the
   * ObjectStore contract holds: the effect ends only once the upload has
   * settled, because a PUT already on the wire can still commit on the server
   * after a client-side abort, and so land after the rollback deleted its key.
   * A multipart upload is aborted first (its parts make no object until the
   * final Complete) and what the server holds of it is dropped; a single PUT is
   * left to finish and the rollback, which runs after, removes it.
   */
  const upload = (target: S3Location.S3Target, body: Readable, size: number, contentType: string, action: string) =>
    Effect.async<void, Errors.StorageError>((resume) => {
      const client = clients.forTarget(target)
      const running = new Upload({
        client,
        params: { Bucket: target.bucket, Key: target.key, Body: body, ContentType: contentType, ContentLength: size },
        partSize: partSizeFor(tuning, size),
        queueSize: tuning.queueSize,
        leavePartsOnError: false
      })
      const finished = running.done().then(
        () => {
          body.destroy()
          resume(Effect.void)
        },
        (e: unknown) => {
          body.destroy()
          resume(Effect.fail(failure(e, { action, target })))
        }
      )
      const multipart = size > partSizeFor(tuning, size)
      return Effect.promise(async () => {
        if (multipart) {
          body.destroy()
          await running.abort()
        }
        await finished
        if (multipart && running.uploadId !== undefined) {
          const abort = new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: running.uploadId })
          await client.send(abort).catch(() => undefined)
        }
      })
    }).pipe(Effect.withSpan(`s3 ${action} (upload)`, spanOf(target)))

  /** `source` piped through a byte count that fails unless exactly `size` bytes pass. */
  const counted = (source: Readable, size: number, mismatch: (seen: number) => Errors.StorageError): Readable => {
    const check = exactly(size, mismatch)
    // pipeline destroys both on an error in either, e.g. the file vanishing mid-read.
    pipeline(source, check, () => undefined)
    return check
  }

  /**
   * The file is opened once, no-follow, and checked against the plan (see
   * SourceFile); the upload streams from that descriptor, single PUT or
   * multipart, so a path swapped after planning publishes nothing.
   */
  const putFile: ObjectStore.ObjectStoreShape["putFile"] = (url, file, expected) =>
    Effect.gen(function* () {
      const target = yield* object(url)
      const size = expected.size
      yield* Effect.acquireUseRelease(
        Effect.tryPromise({
          try: () => SourceFile.openChecked(file, url, expected),
          catch: (e) =>
            e instanceof Errors.StorageError
              ? e
              : new Errors.StorageError({ message: `cannot publish ${file} to ${url}: ${String(e)}`, url, cause: e })
        }),
        (handle) =>
          Effect.suspend(() =>
            upload(
              target,
              counted(handle.createReadStream({ start: 0, autoClose: false }), size, (seen) => SourceFile.sizeChanged(file, url, seen, size)),
              size,
              contentTypeFor(target.key),
              "write"
            )
          ),
        (handle) => Effect.promise(() => handle.close().catch(() => undefined))
      )
    })

  const putBytes: ObjectStore.ObjectStoreShape["putBytes"] = (url, bytes, contentType) =>
    Effect.gen(function* () {
      const target = yield* object(url)
      // Runs to its answer even when interrupted: see `upload`.
      yield* Effect.uninterruptible(
        call("write", target, (c, abortSignal) =>
          c.send(new PutObjectCommand({ Bucket: target.bucket, Key: target.key, Body: bytes, ContentType: contentType }), { abortSignal })
        )
      )
    })

  const getBytes = (action: string, target: S3Location.S3Target) =>
    call(action, target, async (c, abortSignal) => {
      const out = await c.send(new GetObjectCommand({ Bucket: target.bucket, Key: target.key }), { abortSignal })
      return out.Body === undefined ? new Uint8Array() : await out.Body.transformToByteArray()
    })

  /**
   * A lost condition normally means someone else was first. But when the SDK
   * retried (the first PUT's answer was lost), the 412 may answer our own first
   * PUT: then what is there is what we wrote, which only we can know.
   */
  const lostRace = (target: S3Location.S3Target, bytes: Uint8Array, cause: unknown) =>
    S3Failure.attemptsOf(cause) > 1
      ? Effect.map(getBytes("create", target), (there) => sameBytes(there, bytes))
      : Effect.succeed(false)

  // A write that runs to its answer even when interrupted: see `upload`.
  const create: ObjectStore.ObjectStoreShape["create"] = (url, bytes) =>
    Effect.uninterruptible(Effect.gen(function* () {
      const target = yield* object(url)
      const put = new PutObjectCommand({
        Bucket: target.bucket,
        Key: target.key,
        Body: bytes,
        ContentType: contentTypeFor(target.key),
        IfNoneMatch: "*"
      })
      return yield* attempt(target, (c, abortSignal) => c.send(put, { abortSignal })).pipe(
        Effect.as(true),
        Effect.catchAll((e) =>
          S3Failure.isConditionLost(e) ? lostRace(target, bytes, e) : Effect.fail(failure(e, { action: "create", target }))
        )
      )
    }))

  const read: ObjectStore.ObjectStoreShape["read"] = (url) => Effect.flatMap(object(url), (target) => getBytes("read", target))

  const list: ObjectStore.ObjectStoreShape["list"] = (prefix) =>
    Effect.gen(function* () {
      const target = yield* parse(prefix)
      const keyPrefix = target.key === "" ? "" : `${target.key}/`
      const found: Array<ObjectStore.StoredObject> = []
      let token: string | undefined
      do {
        const page = yield* call("list", target, (c, abortSignal) =>
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

  const head = (action: string, target: S3Location.S3Target) =>
    call(action, target, (c, abortSignal) => c.send(new HeadObjectCommand({ Bucket: target.bucket, Key: target.key }), { abortSignal }))

  const copyObject = (action: string, source: S3Location.S3Target, target: S3Location.S3Target) =>
    call(action, target, (c, abortSignal) =>
      c.send(
        new CopyObjectCommand({ Bucket: target.bucket, Key: target.key, CopySource: S3Location.copySource(source.bucket, source.key) }),
        { abortSignal }
      )
    )

  /**
   * Server-side copy of an object above CopyObject's 5 GiB limit, part by part.
   * Every part is copied only if the source still has the ETag measured first,
   * so a source replaced midway fails the copy instead of mixing two versions;
   * a failed or interrupted copy aborts the multipart upload.
   */
  const multipartCopy = (action: string, source: S3Location.S3Target, target: S3Location.S3Target, meta: HeadObjectCommandOutput) => {
    const size = meta.ContentLength ?? 0
    const partSize = Math.max(Math.ceil(size / MAX_PARTS), Math.min(tuning.copyAbove, COPY_PART))
    const start = call(action, target, (c, abortSignal) =>
      c.send(
        new CreateMultipartUploadCommand({
          Bucket: target.bucket,
          Key: target.key,
          ContentType: meta.ContentType ?? contentTypeFor(target.key),
          ...(meta.ContentEncoding !== undefined ? { ContentEncoding: meta.ContentEncoding } : {}),
          ...(meta.Metadata !== undefined ? { Metadata: meta.Metadata } : {})
        }),
        { abortSignal }
      )
    ).pipe(
      Effect.filterOrFail(
        (out): out is typeof out & { UploadId: string } => out.UploadId !== undefined,
        () => new Errors.StorageError({ message: `could not ${action} ${target.url}: the server returned no multipart upload id`, url: target.url })
      ),
      Effect.map((out) => out.UploadId)
    )
    const copyPart = (uploadId: string, part: number, range: string) =>
      call(action, target, (c, abortSignal) =>
        c.send(
          new UploadPartCopyCommand({
            Bucket: target.bucket,
            Key: target.key,
            UploadId: uploadId,
            PartNumber: part,
            CopySource: S3Location.copySource(source.bucket, source.key),
            CopySourceRange: range,
            ...(meta.ETag !== undefined ? { CopySourceIfMatch: meta.ETag } : {})
          }),
          { abortSignal }
        )
      ).pipe(
        Effect.flatMap(({ CopyPartResult: r }): Effect.Effect<CompletedPart, Errors.StorageError> =>
          r?.ETag === undefined
            ? Effect.fail(new Errors.StorageError({ message: `could not ${action} ${target.url}: part ${part} has no ETag`, url: target.url }))
            : Effect.succeed({
                PartNumber: part,
                ETag: r.ETag,
                ...(r.ChecksumCRC32 !== undefined ? { ChecksumCRC32: r.ChecksumCRC32 } : {}),
                ...(r.ChecksumCRC32C !== undefined ? { ChecksumCRC32C: r.ChecksumCRC32C } : {}),
                ...(r.ChecksumSHA1 !== undefined ? { ChecksumSHA1: r.ChecksumSHA1 } : {}),
                ...(r.ChecksumSHA256 !== undefined ? { ChecksumSHA256: r.ChecksumSHA256 } : {})
              })
        )
      )
    const complete = (uploadId: string, parts: ReadonlyArray<CompletedPart>) =>
      call(action, target, (c, abortSignal) =>
        c.send(
          new CompleteMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId, MultipartUpload: { Parts: [...parts] } }),
          { abortSignal }
        )
      )
    const abort = (uploadId: string) =>
      attempt(target, (c) => c.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId }))).pipe(
        Effect.ignore
      )
    return Effect.acquireUseRelease(
      start,
      (uploadId) =>
        Effect.forEach(copyRanges(size, partSize), ({ part, range }) => copyPart(uploadId, part, range), {
          concurrency: tuning.queueSize
        }).pipe(Effect.flatMap((parts) => complete(uploadId, parts))),
      (uploadId, exit) => (Exit.isSuccess(exit) ? Effect.void : abort(uploadId))
    )
  }

  /**
   * Copy between two clients (other server, or other credentials, which may not
   * read the source): the bytes pass through us, streamed as an upload is.
   */
  const streamCopy = (action: string, source: S3Location.S3Target, target: S3Location.S3Target) =>
    Effect.gen(function* () {
      const out = yield* call(action, source, (c, abortSignal) =>
        c.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key }), { abortSignal })
      )
      const body = out.Body
      if (!(body instanceof Readable)) {
        return yield* new Errors.StorageError({ message: `could not ${action} ${target.url}: the source did not arrive as a stream`, url: source.url })
      }
      const size = out.ContentLength ?? 0
      const truncated = (seen: number) =>
        new Errors.StorageError({
          message: `could not ${action} ${target.url}: ${seen} bytes arrived, ${size} were announced`,
          url: source.url,
          hint: "the connection broke or the source changed during the copy; retry"
        })
      yield* upload(target, counted(body, size, truncated), size, out.ContentType ?? contentTypeFor(target.key), action)
    })

  // A write that runs to its answer even when interrupted: see `upload`.
  const copy: ObjectStore.ObjectStoreShape["copy"] = (from, to) =>
    Effect.uninterruptible(Effect.gen(function* () {
      const source = yield* object(from)
      const target = yield* object(to)
      const action = `copy ${from} to`
      if (clients.idOf(source) !== clients.idOf(target)) return yield* streamCopy(action, source, target)
      const meta = yield* head("copy", source)
      // S3 refuses to copy an object onto itself unchanged; it is already there.
      if (source.bucket === target.bucket && source.key === target.key) return
      if ((meta.ContentLength ?? 0) > tuning.copyAbove) yield* multipartCopy(action, source, target, meta)
      else yield* copyObject(action, source, target)
    }))

  /** One DeleteObjects; `Quiet` so only failures come back, and those are checked: S3 answers 200 regardless. */
  const deleteBatch = (batch: ReadonlyArray<S3Location.S3Target>) =>
    Effect.gen(function* () {
      const first = batch[0]!
      const out = yield* call("remove", first, (c, abortSignal) =>
        c.send(
          new DeleteObjectsCommand({ Bucket: first.bucket, Delete: { Quiet: true, Objects: batch.map((t) => ({ Key: t.key })) } }),
          { abortSignal }
        )
      )
      const error = firstDeleteError(out.Errors)
      if (error === undefined) return
      const target = batch.find((t) => t.key === error.Key) ?? first
      const others = (out.Errors?.length ?? 1) - 1
      const more = others > 0 ? ` (and ${others} more key${others === 1 ? "" : "s"})` : ""
      const cause = { name: error.Code ?? "Error", Code: error.Code, message: `${error.Message ?? "not removed"}${more}` }
      return yield* failure(cause, { action: "remove", target })
    })

  const remove: ObjectStore.ObjectStoreShape["remove"] = (urls) =>
    Effect.gen(function* () {
      const targets: Array<S3Location.S3Target> = []
      for (const url of urls) targets.push(yield* object(url))
      yield* Effect.forEach(deleteBatches(targets, clients.idOf), deleteBatch, { concurrency: DELETE_CONCURRENCY, discard: true })
    })

  /** S3 has no quota to measure: preflight proves the bucket is there and these credentials may reach it. */
  const preflight: ObjectStore.ObjectStoreShape["preflight"] = (location, bytes) =>
    Effect.gen(function* () {
      const target = yield* parse(location)
      if (!Number.isFinite(bytes) || bytes < 0) {
        return yield* new Errors.StorageError({ message: `preflight of ${location}: ${bytes} is not a byte count`, url: location })
      }
      yield* call("access", target, (c, abortSignal) => c.send(new HeadBucketCommand({ Bucket: target.bucket }), { abortSignal }), "bucket")
    })

  const probe: ObjectStore.ObjectStoreShape["probe"] = (location) =>
    Effect.gen(function* () {
      yield* parse(location)
      const url = Location.join(location, `.hysds-stac-probe-${randomUUID()}`)
      yield* putBytes(url, new TextEncoder().encode("probe"), "text/plain")
      yield* remove([url])
    })

  const authorize: ObjectStore.ObjectStoreShape["authorize"] = (location, credentials) =>
    Effect.gen(function* () {
      const target = yield* parse(location)
      const resolved = yield* credentialsOf(location, credentials)
      clients.grant(target, resolved)
    })

  // An S3 upload cut off (single PUT or multipart, aborted on interruption) never becomes visible: nothing to discard.
  const discardPartials: ObjectStore.ObjectStoreShape["discardPartials"] = () => Effect.void

  return { authorize, probe, preflight, list, putFile, putBytes, create, read, copy, remove, discardPartials, backupUrl: S3Location.backupUrl }
}

/** The store; its connections close when `scope` does. */
export const make = (config: S3Config): Effect.Effect<ObjectStore.ObjectStoreShape, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() =>
        S3Clients.make({
          region: config.region,
          forcePathStyle: config.forcePathStyle,
          maxAttempts: Math.max(1, Math.floor(config.maxAttempts ?? 6)),
          maxSockets: Math.max(1, Math.floor(config.maxSockets ?? 32)),
          ...(config.requestTimeoutMs !== undefined ? { requestTimeoutMs: config.requestTimeoutMs } : {}),
          ...(config.credentials !== undefined ? { credentials: config.credentials } : {})
        })
      ),
      (clients) => Effect.sync(() => clients.destroy())
    ),
    (clients) => makeShape(config, clients)
  )

/** The ObjectStore served by S3; connections close when the layer is released. */
export const layer = (config: S3Config): Layer.Layer<ObjectStore.ObjectStore> => Layer.scoped(ObjectStore.ObjectStore, make(config))

export { BACKUP_DIR, backupUrl } from "./S3Location.ts"
export type { Credentials } from "./S3Clients.ts"
