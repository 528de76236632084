/**
 * What every part of the S3 store shares: the pool of clients, the part and
 * copy sizes (clamped to what S3 accepts), URL parsing against the configured
 * endpoint, and one way to make an SDK call, traced and, on failure, turned
 * into a StorageError that says what was being done.
 *
 * The other modules (S3Writes, S3Copy, S3Removal, S3Access) take a `Calls` and
 * may assume its sizes are valid and its errors already redacted.
 */
import type { S3Client } from "@aws-sdk/client-s3"
import { Effect, type Either } from "effect"
import type { Errors } from "@hysds-stac/core"
import type * as S3Clients from "./S3Clients.ts"
import * as S3Failure from "./S3Failure.ts"
import * as S3Location from "./S3Location.ts"

const MiB = 1024 * 1024
const GiB = 1024 * MiB
/** S3's bounds on a multipart part (the last part may be smaller). */
export const MIN_PART = 5 * MiB
export const MAX_PART = 5 * GiB
export const MAX_PARTS = 10_000
/** CopyObject copies at most 5 GiB in one request. */
export const COPY_OBJECT_LIMIT = 5 * GiB

export interface Tuning {
  readonly partSize: number
  readonly queueSize: number
  readonly copyAbove: number
}

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.floor(n)))

/** Out-of-range sizes are clamped, not refused: S3 would refuse every upload anyway. */
export const tuningOf = (config: {
  readonly partSizeBytes?: number
  readonly queueSize?: number
  readonly multipartCopyAboveBytes?: number
}): Tuning => ({
  partSize: clamp(config.partSizeBytes ?? 16 * MiB, MIN_PART, MAX_PART),
  queueSize: clamp(config.queueSize ?? 4, 1, 64),
  copyAbove: clamp(config.multipartCopyAboveBytes ?? COPY_OBJECT_LIMIT, MIN_PART, COPY_OBJECT_LIMIT)
})

type Sdk<A> = (client: S3Client, signal: AbortSignal) => Promise<A>

export interface Calls {
  readonly clients: S3Clients.Clients
  readonly tuning: Tuning
  /** A location (bucket, or bucket and prefix). */
  readonly parse: (url: string) => Either.Either<S3Location.S3Target, Errors.StorageError>
  /** An object: a key is required. */
  readonly object: (url: string) => Either.Either<S3Location.S3Target, Errors.StorageError>
  /** One SDK call for `target`, cancelled (socket closed) when the fiber is interrupted; fails with the raw SDK error. */
  readonly attempt: <A>(target: S3Location.S3Target, f: Sdk<A>, action?: string) => Effect.Effect<A, unknown>
  /** As `attempt`, failing with a StorageError that says what `action` was. */
  readonly call: <A>(action: string, target: S3Location.S3Target, f: Sdk<A>, subject?: "object" | "bucket") => Effect.Effect<A, Errors.StorageError>
  readonly failure: (cause: unknown, a: S3Failure.Attempt) => Errors.StorageError
  /** A request's span: where it went (redacted), never what it carried. */
  readonly spanOf: (target: S3Location.S3Target) => {
    readonly kind: "client"
    readonly attributes: Readonly<Record<string, string>>
  }
}

export const make = (
  config: { readonly endpoint?: string } & Parameters<typeof tuningOf>[0],
  clients: S3Clients.Clients
): Calls => {
  const spanOf: Calls["spanOf"] = (target) => ({
    kind: "client" as const,
    attributes: {
      "aws.s3.bucket": target.bucket,
      "aws.s3.key": clients.redact(target.key),
      ...(target.endpoint !== undefined ? { "server.address": clients.redact(target.endpoint) } : {})
    }
  })
  const failure: Calls["failure"] = (cause, a) => S3Failure.toStorageError(cause, a, clients.redact)
  // The SDK's own retries happen inside the span.
  const attempt: Calls["attempt"] = (target, f, action = "request") =>
    Effect.tryPromise({ try: (signal) => f(clients.forTarget(target), signal), catch: (e) => e }).pipe(
      Effect.withSpan(`s3 ${action}`, spanOf(target))
    )
  return {
    clients,
    tuning: tuningOf(config),
    parse: (url) => S3Location.parse(url, config.endpoint),
    object: (url) => S3Location.parseObject(url, config.endpoint),
    attempt,
    call: (action, target, f, subject = "object") => Effect.mapError(attempt(target, f, action), (e) => failure(e, { action, target, subject })),
    failure,
    spanOf
  }
}
