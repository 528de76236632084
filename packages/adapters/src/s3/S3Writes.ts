/**
 * Writing objects: files streamed by a single PUT or a multipart upload, small
 * byte arrays, and the exclusive create (a conditional PUT, `If-None-Match: *`)
 * that makes two ingests racing for a product's marker unable to both win.
 * Reading one object back lives here too: the create needs it to tell its own
 * earlier attempt from a competitor.
 *
 * Files are streamed, never read whole into memory: at most `queueSize` parts
 * of the part size per file are buffered. Every write runs to its answer even
 * when interrupted (see `upload`), so the rollback that follows an
 * interruption sees what the server really holds.
 */
import { AbortMultipartUploadCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3"
import { Upload } from "@aws-sdk/lib-storage"
import { Effect } from "effect"
import { pipeline, type Readable, Transform } from "node:stream"
import { Errors, type ObjectStore } from "@hysds-stac/core"
import * as SourceFile from "../SourceFile.ts"
import { contentTypeFor } from "./ContentType.ts"
import { type Calls, MAX_PARTS, type Tuning } from "./S3Calls.ts"
import * as S3Failure from "./S3Failure.ts"
import type * as S3Location from "./S3Location.ts"

type Shape = ObjectStore.ObjectStoreShape

/** The configured part size, raised for huge files so they fit in S3's 10,000 parts. */
const partSizeFor = (tuning: Tuning, size: number) => Math.max(tuning.partSize, Math.ceil(size / MAX_PARTS))

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

/** `source` piped through a byte count that fails unless exactly `size` bytes pass. */
export const counted = (source: Readable, size: number, mismatch: (seen: number) => Errors.StorageError): Readable => {
  const check = exactly(size, mismatch)
  // pipeline destroys both on an error in either, e.g. the file vanishing mid-read.
  pipeline(source, check, () => undefined)
  return check
}

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
export const upload = (s3: Calls, target: S3Location.S3Target, body: Readable, size: number, contentType: string, action: string) =>
  Effect.async<void, Errors.StorageError>((resume) => {
    const client = s3.clients.forTarget(target)
    const running = new Upload({
      client,
      params: { Bucket: target.bucket, Key: target.key, Body: body, ContentType: contentType, ContentLength: size },
      partSize: partSizeFor(s3.tuning, size),
      queueSize: s3.tuning.queueSize,
      leavePartsOnError: false
    })
    const finished = running.done().then(
      () => {
        body.destroy()
        resume(Effect.void)
      },
      (e: unknown) => {
        body.destroy()
        resume(Effect.fail(s3.failure(e, { action, target })))
      }
    )
    const multipart = size > partSizeFor(s3.tuning, size)
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
  }).pipe(Effect.withSpan(`s3 ${action} (upload)`, s3.spanOf(target)))

/**
 * Files up to this size are read whole, at once, from their checked
 * descriptor (SourceFile.readChecked) and sent in one PutObject: for the many
 * small files of a large catalog the stream and upload machinery cost more
 * CPU than the request (the files phase of a 10,000-item bench ran at 2.4x
 * the bare PutObject floor). The buffer is smaller than one part of the
 * streamed upload, so memory stays bounded.
 */
const WHOLE_FILE_MAX = 1024 * 1024

/**
 * The file is opened once, no-follow, and checked against the plan (see
 * SourceFile); its bytes come from that descriptor only, so a path swapped
 * after planning publishes nothing: a small file read whole and sent in one
 * PutObject, a larger one streamed (single PUT or multipart).
 */
export const putFile =
  (s3: Calls): Shape["putFile"] =>
  (url, file, expected) =>
    Effect.gen(function* () {
      const target = yield* s3.object(url)
      const size = expected.size
      const refused = (e: unknown) =>
        e instanceof Errors.StorageError ? e : new Errors.StorageError({ message: `cannot publish ${file} to ${url}: ${String(e)}`, url, cause: e })
      if (size <= WHOLE_FILE_MAX) {
        const bytes = yield* Effect.try({ try: () => SourceFile.readChecked(file, url, expected), catch: refused })
        // Runs to its answer even when interrupted: see `upload`.
        yield* Effect.uninterruptible(
          s3.call("write", target, (c, abortSignal) =>
            c.send(
              new PutObjectCommand({ Bucket: target.bucket, Key: target.key, Body: bytes, ContentLength: size, ContentType: contentTypeFor(target.key) }),
              { abortSignal }
            )
          )
        )
        return
      }
      yield* Effect.acquireUseRelease(
        Effect.tryPromise({ try: () => SourceFile.openChecked(file, url, expected), catch: refused }),
        (handle) =>
          upload(
            s3,
            target,
            counted(handle.createReadStream({ start: 0, autoClose: false }), size, (seen) => SourceFile.sizeChanged(file, url, seen, size)),
            size,
            contentTypeFor(target.key),
            "write"
          ),
        (handle) => Effect.promise(() => handle.close().catch(() => undefined))
      )
    })

export const putBytes =
  (s3: Calls): Shape["putBytes"] =>
  (url, bytes, contentType) =>
    Effect.gen(function* () {
      const target = yield* s3.object(url)
      // Runs to its answer even when interrupted: see `upload`.
      yield* Effect.uninterruptible(
        s3.call("write", target, (c, abortSignal) =>
          c.send(new PutObjectCommand({ Bucket: target.bucket, Key: target.key, Body: bytes, ContentType: contentType }), { abortSignal })
        )
      )
    })

const getBytes = (s3: Calls, action: string, target: S3Location.S3Target) =>
  s3.call(action, target, async (c, abortSignal) => {
    const out = await c.send(new GetObjectCommand({ Bucket: target.bucket, Key: target.key }), { abortSignal })
    return out.Body === undefined ? new Uint8Array() : await out.Body.transformToByteArray()
  })

export const read =
  (s3: Calls): Shape["read"] =>
  (url) =>
    Effect.flatMap(s3.object(url), (target) => getBytes(s3, "read", target))

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

/**
 * A lost condition normally means someone else was first. But when the SDK
 * retried (the first PUT's answer was lost), the 412 may answer our own first
 * PUT: then what is there is what we wrote, which only we can know.
 */
const lostRace = (s3: Calls, target: S3Location.S3Target, bytes: Uint8Array, cause: unknown) =>
  S3Failure.attemptsOf(cause) > 1 ? Effect.map(getBytes(s3, "create", target), (there) => sameBytes(there, bytes)) : Effect.succeed(false)

/** Exclusive: a conditional PUT. A write that runs to its answer even when interrupted: see `upload`. */
export const create =
  (s3: Calls): Shape["create"] =>
  (url, bytes) =>
    Effect.uninterruptible(
      Effect.gen(function* () {
        const target = yield* s3.object(url)
        const put = new PutObjectCommand({
          Bucket: target.bucket,
          Key: target.key,
          Body: bytes,
          ContentType: contentTypeFor(target.key),
          IfNoneMatch: "*"
        })
        return yield* s3.attempt(target, (c, abortSignal) => c.send(put, { abortSignal })).pipe(
          Effect.as(true),
          Effect.catchAll((e) =>
            S3Failure.isConditionLost(e) ? lostRace(s3, target, bytes, e) : Effect.fail(s3.failure(e, { action: "create", target }))
          )
        )
      })
    )
