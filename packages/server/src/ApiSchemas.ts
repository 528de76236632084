/**
 * The bodies the HTTP API accepts and returns. They mirror core's types
 * (`Ingest.IngestResult`, `Errors.PublishError`, `Step.RollbackReport`) as
 * schemas, so the OpenAPI document describes exactly what a client gets, and
 * the server cannot send anything else: responses are encoded through these.
 */
import { Schema } from "effect"

/** Unknown fields are refused rather than ignored: a mistyped `"dry_run": true` must not publish. */
const strict = { parseOptions: { onExcessProperty: "error" } } as const

// ---------------------------------------------------------------------------
// Requests

export const IngestRequest = Schema.Struct({
  jobDir: Schema.String.pipe(Schema.minLength(1)).annotations({
    description: "Absolute path of the job's output directory; its real path must lie under an allowed root."
  }),
  force: Schema.optional(Schema.Boolean).annotations({
    description: "Publish again what is already published (HySDS `_force_ingest`); the earlier publication is restored if this run fails."
  }),
  dryRun: Schema.optional(Schema.Boolean).annotations({ description: "Plan and report; publish nothing." }),
  noStac: Schema.optional(Schema.Boolean).annotations({
    description: "Ignore STAC catalogs: publish classic HySDS products only, as HySDS would."
  })
}).annotations({ identifier: "IngestRequest", ...strict })
export type IngestRequest = typeof IngestRequest.Type

export const CreateParams = Schema.Struct({
  wait: Schema.optional(Schema.BooleanFromString).annotations({
    description: "true: answer when the ingest has ended, with its final state (200 when it succeeded, 4xx/5xx by error category otherwise)."
  })
})

export const ValidateRequest = Schema.Struct({
  path: Schema.String.pipe(Schema.minLength(1)).annotations({
    description: "A job dir, or one catalog.json / collection.json; must lie under an allowed root."
  })
}).annotations({ identifier: "ValidateRequest", ...strict })

export const IngestState = Schema.Literal("queued", "running", "succeeded", "failed", "rolled_back").annotations({
  identifier: "IngestState",
  description:
    "queued: waiting for a slot; running; succeeded; rolled_back: it failed or was interrupted after publishing something, and all of that was undone; failed: it failed before publishing anything, or some undo failed (see rollback)."
})
export type IngestState = typeof IngestState.Type

export const ListParams = Schema.Struct({
  state: Schema.optional(IngestState)
})

export const IngestIdPath = Schema.Struct({ id: Schema.String })

// ---------------------------------------------------------------------------
// Ingest status

export const Phase = Schema.Literal("planning", "publishing", "rolling_back").annotations({ identifier: "IngestPhase" })

const Counter = Schema.Struct({
  done: Schema.Number,
  total: Schema.optional(Schema.Number).annotations({ description: "Known once the ingest is planned." })
}).annotations({ identifier: "ProgressCounter" })

export const Progress = Schema.Struct({
  products: Counter,
  files: Counter,
  bytes: Counter,
  items: Counter,
  documents: Counter,
  steps: Schema.Number.annotations({ description: "Side-effect steps started (claims, copies, registrations, indexing)." })
}).annotations({ identifier: "IngestProgress" })
export type Progress = typeof Progress.Type

export const ErrorCategory = Schema.Literal(
  "config",
  "validation",
  "conflict",
  "storage",
  "index",
  "catalog-api",
  "internal",
  "interrupted"
).annotations({
  identifier: "ErrorCategory",
  description: "core's error categories (the CLI's exit codes), plus interrupted: the server shut down."
})
export type ErrorCategory = typeof ErrorCategory.Type

export const Problem = Schema.Struct({ file: Schema.String, path: Schema.String, message: Schema.String }).annotations({
  identifier: "Problem"
})

/** Something planning noticed that did not stop the ingest (a migrated STAC document, an unchecked extension). */
export const Warning = Schema.Struct({ file: Schema.String, path: Schema.String, message: Schema.String }).annotations({
  identifier: "Warning"
})

export const ErrorInfo = Schema.Struct({
  category: ErrorCategory,
  message: Schema.String,
  hint: Schema.optional(Schema.String),
  problems: Schema.optional(Schema.Array(Problem))
}).annotations({ identifier: "ErrorInfo" })
export type ErrorInfo = typeof ErrorInfo.Type

const RollbackEntry = Schema.Struct({ step: Schema.Number, summary: Schema.String })

export const Rollback = Schema.Struct({
  complete: Schema.Boolean.annotations({ description: "false when some undo failed even after retries: those need attention." }),
  undone: Schema.Array(RollbackEntry),
  failed: Schema.Array(Schema.Struct({ step: Schema.Number, summary: Schema.String, error: Schema.String }))
}).annotations({ identifier: "Rollback" })
export type Rollback = typeof Rollback.Type

export const ProductResult = Schema.Struct({
  id: Schema.String,
  kind: Schema.Literal("classic", "stac"),
  dataset: Schema.String,
  location: Schema.optional(Schema.String).annotations({ description: "Where the product was copied; absent when its datasets.json entry has no publish (indexed only, as HySDS does)." }),
  files: Schema.Number,
  bytes: Schema.Number,
  collections: Schema.Number,
  items: Schema.Number,
  documents: Schema.Number
}).annotations({ identifier: "ProductResult" })

export const Totals = Schema.Struct({
  products: Schema.Number,
  collections: Schema.Number,
  items: Schema.Number,
  documents: Schema.Number,
  files: Schema.Number,
  bytes: Schema.Number
}).annotations({ identifier: "Totals" })

export const IngestResult = Schema.Struct({
  tx: Schema.String,
  jobDir: Schema.String,
  dryRun: Schema.Boolean,
  products: Schema.Array(ProductResult),
  skipped: Schema.Array(Schema.Struct({ dir: Schema.String, reason: Schema.String })),
  totals: Totals,
  warnings: Schema.optional(Schema.Array(Warning)),
  datasetsJson: Schema.optional(Schema.String)
}).annotations({ identifier: "IngestResult" })
export type IngestResult = typeof IngestResult.Type

export class IngestStatus extends Schema.Class<IngestStatus>("IngestStatus")({
  id: Schema.String.annotations({ description: "The ingest id, also its transaction id in the journal (`hysds-stac journal show <id>`)." }),
  state: IngestState,
  phase: Schema.optional(Phase),
  request: Schema.Struct({ jobDir: Schema.String, force: Schema.Boolean, dryRun: Schema.Boolean, noStac: Schema.Boolean }),
  jobDir: Schema.String.annotations({ description: "The job dir's real path: what was ingested." }),
  createdAt: Schema.String,
  startedAt: Schema.optional(Schema.String),
  finishedAt: Schema.optional(Schema.String),
  queuePosition: Schema.optional(Schema.Number.annotations({ description: "1 for the next to start; only while queued." })),
  progress: Progress,
  result: Schema.optional(IngestResult),
  error: Schema.optional(ErrorInfo),
  rollback: Schema.optional(Rollback)
}) {}

export class IngestAccepted extends Schema.Class<IngestAccepted>("IngestAccepted")({
  id: Schema.String,
  state: IngestState,
  href: Schema.String.annotations({ description: "Where to follow it: GET this path." })
}) {}

export class IngestList extends Schema.Class<IngestList>("IngestList")({
  ingests: Schema.Array(IngestStatus)
}) {}

// ---------------------------------------------------------------------------
// Validation, health

export class ValidateResult extends Schema.Class<ValidateResult>("ValidateResult")({
  valid: Schema.Boolean,
  catalogs: Schema.optional(Schema.Number),
  items: Schema.optional(Schema.Number),
  products: Schema.optional(Schema.Number),
  warnings: Schema.optional(Schema.Array(Warning)),
  error: Schema.optional(ErrorInfo)
}) {}

export class Health extends Schema.Class<Health>("Health")({
  status: Schema.Literal("ok"),
  uptimeSeconds: Schema.Number,
  pid: Schema.Number
}) {}

export const Check = Schema.Struct({
  backend: Schema.Literal("datasets", "store", "index", "registry"),
  target: Schema.String,
  ok: Schema.Boolean,
  error: Schema.optional(ErrorInfo)
}).annotations({ identifier: "Check" })
export type Check = typeof Check.Type

/** Anonymous callers get `ready` only: the checks name backend URLs, users, buckets and their errors. */
export const ReadinessFields = {
  ready: Schema.Boolean,
  draining: Schema.optional(
    Schema.Boolean.annotations({ description: "The server got SIGTERM: it finishes what runs and takes nothing new. Only with a valid key." })
  ),
  checks: Schema.optional(Schema.Array(Check).annotations({ description: "Each check and its error. Only with a valid key." }))
}

export class Readiness extends Schema.Class<Readiness>("Readiness")(ReadinessFields) {}
