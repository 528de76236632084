/**
 * The error responses of the HTTP API, one class per status. Each carries a
 * `message` a human can act on (already redacted); none carries a stack or a
 * cause. An ingest awaited with `?wait=true` that did not succeed answers with
 * one of the `Ingest*` errors, chosen by the error's category, so a worker can
 * tell "fix the job" (409/422) from "try again later" (502/503) by status
 * alone, and still read the full final state in `ingest`.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { IngestStatus, ReadinessFields } from "./ApiSchemas.ts"

const message = Schema.String

export class BadRequest extends Schema.TaggedError<BadRequest>()(
  "BadRequest",
  { message },
  HttpApiSchema.annotations({ status: 400, description: "The body is not valid JSON." })
) {}

export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message },
  HttpApiSchema.annotations({ status: 401, description: "No API key, or not a current one." })
) {}

export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  { message },
  HttpApiSchema.annotations({ status: 403, description: "The path does not resolve under an allowed root." })
) {}

export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  { message },
  HttpApiSchema.annotations({ status: 404, description: "No such ingest (finished ones are kept in memory only; the journal keeps every transaction)." })
) {}

export class IngestInProgress extends Schema.TaggedError<IngestInProgress>()(
  "IngestInProgress",
  { message, id: Schema.String },
  HttpApiSchema.annotations({ status: 409, description: "This job dir is already queued or running, as ingest `id`." })
) {}

export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()(
  "PayloadTooLarge",
  { message },
  HttpApiSchema.annotations({ status: 413, description: "The body is larger than HYSDS_STAC_MAX_BODY_BYTES." })
) {}

export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()(
  "UnsupportedMediaType",
  { message },
  HttpApiSchema.annotations({ status: 415, description: "Bodies are JSON (Content-Type: application/json)." })
) {}

export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()(
  "InvalidRequest",
  { message },
  HttpApiSchema.annotations({ status: 422, description: "The path is not absolute, or does not exist, or is not a directory." })
) {}

export class QueueFull extends Schema.TaggedError<QueueFull>()(
  "QueueFull",
  { message, running: Schema.Number, queued: Schema.Number },
  HttpApiSchema.annotations({ status: 429, description: "Every slot is busy and the queue is full: retry later." })
) {}

export class InternalServerError extends Schema.TaggedError<InternalServerError>()(
  "InternalServerError",
  { message },
  HttpApiSchema.annotations({ status: 500, description: "A bug; the log has the request id." })
) {}

export class ShuttingDown extends Schema.TaggedError<ShuttingDown>()(
  "ShuttingDown",
  { message },
  HttpApiSchema.annotations({ status: 503, description: "The server got SIGTERM and takes no new ingest: submit it to another instance." })
) {}

export class NotReady extends Schema.TaggedError<NotReady>()(
  "NotReady",
  ReadinessFields,
  HttpApiSchema.annotations({ status: 503, description: "A backend check failed, or the server is draining." })
) {}

// ---------------------------------------------------------------------------
// The outcome of an awaited ingest that did not succeed

const outcome = { message, ingest: IngestStatus }

export class IngestRejected extends Schema.TaggedError<IngestRejected>()(
  "IngestRejected",
  outcome,
  HttpApiSchema.annotations({ status: 422, description: "Invalid job or configuration (categories validation, config): fix it; a retry fails the same way." })
) {}

export class IngestConflict extends Schema.TaggedError<IngestConflict>()(
  "IngestConflict",
  outcome,
  HttpApiSchema.annotations({ status: 409, description: "Already published, or being published by another ingest (category conflict)." })
) {}

export class IngestBackendFailed extends Schema.TaggedError<IngestBackendFailed>()(
  "IngestBackendFailed",
  outcome,
  HttpApiSchema.annotations({ status: 502, description: "The store, GRQ or the STAC API failed (categories storage, index, catalog-api); everything was rolled back: retry later." })
) {}

export class IngestInterrupted extends Schema.TaggedError<IngestInterrupted>()(
  "IngestInterrupted",
  outcome,
  HttpApiSchema.annotations({ status: 503, description: "The server shut down during the ingest and rolled it back: submit it again." })
) {}

export class IngestInternalError extends Schema.TaggedError<IngestInternalError>()(
  "IngestInternalError",
  outcome,
  HttpApiSchema.annotations({ status: 500, description: "A bug in hysds-stac (category internal)." })
) {}
