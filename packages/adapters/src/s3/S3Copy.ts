/**
 * Copying objects, which is how backups are made before a --force replace.
 * Backups live in the same bucket (`.hysds-stac-backup/<tx>/key`, see
 * S3Location.backupUrl), so the copy is server-side and covered by the
 * credentials the location was authorized with.
 *
 * Three ways, chosen by what the two ends allow: CopyObject up to its 5 GiB
 * limit, UploadPartCopy part by part above it (both server-side), and a stream
 * through us when source and target are served by different clients (another
 * server, or other credentials, which may not read the source).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  UploadPartCopyCommand
} from "@aws-sdk/client-s3"
import { Effect, Exit } from "effect"
import { Readable } from "node:stream"
import { Errors, type ObjectStore } from "@hysds-stac/core"
import { contentTypeFor } from "./ContentType.ts"
import { type Calls, MAX_PARTS } from "./S3Calls.ts"
import * as S3Location from "./S3Location.ts"
import { counted, upload } from "./S3Writes.ts"

/** Server-side copies move no bytes through us, so large parts only mean fewer requests. */
const COPY_PART = 512 * 1024 * 1024

/** Byte ranges (inclusive) of the parts of a server-side multipart copy. */
export const copyRanges = (size: number, partSize: number): ReadonlyArray<{ readonly part: number; readonly range: string }> =>
  Array.from({ length: Math.ceil(size / partSize) }, (_, i) => ({
    part: i + 1,
    range: `bytes=${i * partSize}-${Math.min(size, (i + 1) * partSize) - 1}`
  }))

const head = (s3: Calls, action: string, target: S3Location.S3Target) =>
  s3.call(action, target, (c, abortSignal) => c.send(new HeadObjectCommand({ Bucket: target.bucket, Key: target.key }), { abortSignal }))

const copyObject = (s3: Calls, action: string, source: S3Location.S3Target, target: S3Location.S3Target) =>
  s3.call(action, target, (c, abortSignal) =>
    c.send(new CopyObjectCommand({ Bucket: target.bucket, Key: target.key, CopySource: S3Location.copySource(source.bucket, source.key) }), {
      abortSignal
    })
  )

/**
 * Server-side copy of an object above CopyObject's 5 GiB limit, part by part.
 * Every part is copied only if the source still has the ETag measured first,
 * so a source replaced midway fails the copy instead of mixing two versions;
 * a failed or interrupted copy aborts the multipart upload.
 */
const multipartCopy = (s3: Calls, action: string, source: S3Location.S3Target, target: S3Location.S3Target, meta: HeadObjectCommandOutput) => {
  const size = meta.ContentLength ?? 0
  const partSize = Math.max(Math.ceil(size / MAX_PARTS), Math.min(s3.tuning.copyAbove, COPY_PART))
  const start = s3
    .call(action, target, (c, abortSignal) =>
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
    )
    .pipe(
      Effect.filterOrFail(
        (out): out is typeof out & { UploadId: string } => out.UploadId !== undefined,
        () => new Errors.StorageError({ message: `could not ${action} ${target.url}: the server returned no multipart upload id`, url: target.url })
      ),
      Effect.map((out) => out.UploadId)
    )
  const copyPart = (uploadId: string, part: number, range: string) =>
    s3
      .call(action, target, (c, abortSignal) =>
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
      )
      .pipe(
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
    s3.call(action, target, (c, abortSignal) =>
      c.send(
        new CompleteMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId, MultipartUpload: { Parts: [...parts] } }),
        { abortSignal }
      )
    )
  const abort = (uploadId: string) =>
    s3.attempt(target, (c) => c.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId }))).pipe(Effect.ignore)
  return Effect.acquireUseRelease(
    start,
    (uploadId) =>
      Effect.forEach(copyRanges(size, partSize), ({ part, range }) => copyPart(uploadId, part, range), {
        concurrency: s3.tuning.queueSize
      }).pipe(Effect.flatMap((parts) => complete(uploadId, parts))),
    (uploadId, exit) => (Exit.isSuccess(exit) ? Effect.void : abort(uploadId))
  )
}

/**
 * Copy between two clients (other server, or other credentials, which may not
 * read the source): the bytes pass through us, streamed as an upload is.
 */
const streamCopy = (s3: Calls, action: string, source: S3Location.S3Target, target: S3Location.S3Target) =>
  Effect.gen(function* () {
    const out = yield* s3.call(action, source, (c, abortSignal) =>
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
    yield* upload(s3, target, counted(body, size, truncated), size, out.ContentType ?? contentTypeFor(target.key), action)
  })

/** A write that runs to its answer even when interrupted: see S3Writes.upload. */
export const copy =
  (s3: Calls): ObjectStore.ObjectStoreShape["copy"] =>
  (from, to) =>
    Effect.uninterruptible(
      Effect.gen(function* () {
        const source = yield* s3.object(from)
        const target = yield* s3.object(to)
        const action = `copy ${from} to`
        if (s3.clients.idOf(source) !== s3.clients.idOf(target)) return yield* streamCopy(s3, action, source, target)
        const meta = yield* head(s3, "copy", source)
        // S3 refuses to copy an object onto itself unchanged; it is already there.
        if (source.bucket === target.bucket && source.key === target.key) return
        if ((meta.ContentLength ?? 0) > s3.tuning.copyAbove) yield* multipartCopy(s3, action, source, target, meta)
        else yield* copyObject(s3, action, source, target)
      })
    )
