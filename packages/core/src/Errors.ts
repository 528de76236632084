/**
 * Tagged errors, one class per category so callers (CLI exit codes, HTTP status
 * codes, logs) can tell a bad config from a flaky backend without parsing text.
 * Every error carries a `message` for humans and, where we know it, a `hint`
 * saying what to do about it.
 */
import { Data } from "effect"

export type ErrorCategory =
  | "config"
  | "validation"
  | "conflict"
  | "storage"
  | "index"
  | "catalog-api"
  | "internal"

/** datasets.json, settings, flags or environment are wrong or incomplete. */
export class ConfigError extends Data.TaggedError("ConfigError")<{
  readonly message: string
  readonly file?: string
  readonly entry?: string
  readonly field?: string
  readonly hint?: string
}> {
  readonly category = "config" as const
}

/** One problem found in the job's inputs, with where it was found. */
export interface Problem {
  readonly file: string
  /** JSON path inside the file, e.g. `$.links[2].href`; empty when about the file itself. */
  readonly path: string
  readonly message: string
}

/** The job's inputs (catalogs, dataset files, paths) are invalid; lists every problem found. */
export class ValidationError extends Data.TaggedError("ValidationError")<{
  readonly message: string
  readonly problems: ReadonlyArray<Problem>
  readonly hint?: string
}> {
  readonly category = "validation" as const
}

/** The product is already published (or being published) and `--force` was not given. */
export class ConflictError extends Data.TaggedError("ConflictError")<{
  readonly message: string
  readonly id: string
  readonly hint?: string
}> {
  readonly category = "conflict" as const
}

/** The object store failed. */
export class StorageError extends Data.TaggedError("StorageError")<{
  readonly message: string
  readonly url?: string
  /** The object named does not exist (so undo code can tell "already gone" from a failure). */
  readonly missing?: boolean
  readonly hint?: string
  readonly cause?: unknown
}> {
  readonly category = "storage" as const
}

/** The GRQ index failed or rejected a document. */
export class IndexError extends Data.TaggedError("IndexError")<{
  readonly message: string
  readonly id?: string
  readonly hint?: string
  readonly cause?: unknown
}> {
  readonly category = "index" as const
}

/** The STAC API (or embedded registry) failed or rejected a collection or item. */
export class CatalogApiError extends Data.TaggedError("CatalogApiError")<{
  readonly message: string
  readonly collection?: string
  readonly item?: string
  readonly status?: number
  readonly hint?: string
  readonly cause?: unknown
}> {
  readonly category = "catalog-api" as const
}

/** A bug or an unexpected condition in hysds-stac itself. */
export class InternalError extends Data.TaggedError("InternalError")<{
  readonly message: string
  readonly cause?: unknown
}> {
  readonly category = "internal" as const
}

export type PublishError =
  | ConfigError
  | ValidationError
  | ConflictError
  | StorageError
  | IndexError
  | CatalogApiError
  | InternalError

/** Lines a human reads: the message, each problem, then the hint. */
export const describe = (error: PublishError): string => {
  const lines = [`${error.category} error: ${error.message}`]
  if (error._tag === "ValidationError") {
    for (const p of error.problems) {
      lines.push(`  - ${p.file}${p.path ? ` ${p.path}` : ""}: ${p.message}`)
    }
  }
  if ("hint" in error && error.hint) lines.push(`hint: ${error.hint}`)
  return lines.join("\n")
}
