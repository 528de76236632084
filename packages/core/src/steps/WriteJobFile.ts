/**
 * Write `_datasets.json` into the job dir as HySDS writes it: the list of
 * HySDS's `update_json` documents (as sent to GRQ, before GRQ adds
 * `@timestamp` and `center`), serialised as Python's
 * `json.dump(prods, f, indent=2, sort_keys=True)` (PyJson). The order is
 * HySDS's: STAC items first (as HySDS's STAC branch does), then classic
 * products in the order `os.walk` with sorted names finds them (JobDocuments).
 * Streamed: a STAC item's entry is made again from its file, which must still
 * be the one planning read. The last step; the file's former content (if any)
 * is kept in the record.
 *
 * The job dir is untrusted and may change while it is ingested: nothing is
 * read or written through a link, the new content is renamed over whatever is
 * there (JobFile). Undo puts the former content back, or removes the file this
 * run wrote, and only a file: a directory or link at that path was not written
 * by this run. Nothing to commit.
 */
import { Path } from "@effect/platform"
import { Effect, Schema } from "effect"
import * as Confine from "../Confine.ts"
import * as Discovery from "../Discovery.ts"
import { InternalError, StorageError } from "../Errors.ts"
import * as JobDocuments from "../JobDocuments.ts"
import * as JobFile from "../JobFile.ts"
import type * as Plan from "../Plan.ts"
import * as Step from "../Step.ts"

const declared = Step.declare("WriteJobFile", {
  path: Schema.String,
  /** `previous` is the file's former content; absent when the run created it. */
  previous: Schema.optionalWith(Schema.String, { exact: true })
})({
  summary: (a) => `job file ${a.path}`,
  undo: (a) =>
    (a.previous !== undefined ? JobFile.replace(a.path, a.previous) : JobFile.removeIfFile(a.path)).pipe(
      Effect.mapError((cause) => new InternalError({ message: `cannot restore ${a.path}`, cause }))
    ),
  commit: () => Effect.void
})

/**
 * Writes the plan's `_datasets.json`; returns its path. The entries are made
 * again batch by batch (JobDocuments) and written as they come.
 */
const run = (plan: Plan.Plan, batchSize: number, concurrency: number) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const file = path.join(plan.jobDir, Discovery.DATASETS_JSON)
    // Refused at planning; the job may have planted a link since.
    if (yield* Confine.isSymlink(file)) {
      return yield* Effect.fail(
        new StorageError({
          message: `${file} became a symlink after planning; nothing was written through it`,
          url: file,
          hint: "something changes the job dir while it is being ingested; remove the link and ingest again"
        })
      )
    }
    const previous = yield* JobFile.readIfFile(file)
    yield* Step.run(
      declared,
      declared.make(previous !== undefined ? { path: file, previous } : { path: file }),
      JobFile.replaceStreaming(file, JobDocuments.text(JobDocuments.ordered(plan, path, batchSize, concurrency))).pipe(
        Effect.mapError((cause) => (cause._tag === "StorageError" ? cause : new StorageError({ message: `cannot write ${file}`, url: file, cause })))
      )
    )
    return file
  })

export const WriteJobFile = { ...declared, run }
