/**
 * What `_job.json` and `_context.json` tell an ingest: whether the job failed
 * (then nothing is published), who publishes (the publish context HySDS writes
 * at each publish location), the provenance to stamp on every document, and
 * whether the job asked for a forced ingest.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Either, Predicate } from "effect"
import { ValidationError } from "./Errors.ts"
import * as Confine from "./Confine.ts"
import * as JsonFile from "./JsonFile.ts"
import type { FileIdentity } from "./ObjectStore.ts"

/**
 * The three values HySDS's `_publish.context.json` holds, read where HySDS reads
 * them: `task_id` of `_job.json`, `job_info.job_payload.payload_task_id` (the
 * payload id: the same for every retry of one job) and `job_info.payload_hash`.
 * Raw JSON values; null when absent, as Python's `dict.get` gives None.
 */
export interface PublishContext {
  readonly payload_id: unknown
  readonly payload_hash: unknown
  readonly task_id: unknown
}

export interface JobInfo {
  /** Why the job counts as failed, when it does. */
  readonly failure?: string
  readonly publishContext: PublishContext
  /** `_context.json._prov`, copied into each document's `prov`. */
  readonly prov?: unknown
  /**
   * The job's `_context.json` as planning saw it: HySDS copies it into every
   * classic product as `<id>.context.json` before publishing, and so does the
   * ingest (from this real path, checked against this identity, like every file).
   */
  readonly contextFile?: { readonly realPath: string; readonly identity: FileIdentity }
  /** `_context.json._force_ingest`. */
  readonly forceIngest: boolean
}

const str = (u: unknown): string | undefined => (typeof u === "string" && u !== "" ? u : undefined)
const field = (o: unknown, key: string): unknown => (Predicate.isRecord(o) ? o[key] : undefined)

const failureOf = (jobInfo: unknown): string | undefined => {
  const exitCode = field(jobInfo, "exit_code")
  if (typeof exitCode === "number" && exitCode !== 0) return `the job exited with code ${exitCode}`
  // A HySDS worker writes the command's exit code itself as `status`, and `pid` 0
  // when the command never ran; its publisher skips both.
  const code = field(jobInfo, "status")
  if (typeof code === "number" && code !== 0) return `the job exited with code ${code}`
  if (field(jobInfo, "pid") === 0) return "the job's command never ran (pid 0)"
  const status = str(code)
  if (status !== undefined && /fail|offline|revoked/i.test(status)) return `the job status is "${status}"`
  return undefined
}

/**
 * Optional files: a job dir without `_job.json` is a plain directory of products.
 * A symlink counts as present even when broken, and is read only when it leads
 * to a file inside the job dir.
 */
const readOptional = (file: string, jobDir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const exists = yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))
    if (!exists && !(yield* Confine.isSymlink(file))) return undefined
    return yield* JsonFile.read(file, { within: jobDir }).pipe(
      Effect.mapError(
        (p) => new ValidationError({ message: `cannot read ${file}`, problems: [p], hint: "fix or remove the file" })
      )
    )
  })

export const read = (jobDir: string): Effect.Effect<JobInfo, ValidationError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const job = yield* readOptional(path.join(jobDir, "_job.json"), jobDir)
    const context = yield* readOptional(path.join(jobDir, "_context.json"), jobDir)
    const jobInfo = field(job, "job_info")
    const payload = field(jobInfo, "job_payload")
    const failure = failureOf(jobInfo)
    const info: {
      -readonly [K in keyof JobInfo]: JobInfo[K]
    } = {
      forceIngest: field(context, "_force_ingest") === true,
      publishContext: {
        payload_id: field(payload, "payload_task_id") ?? null,
        payload_hash: field(jobInfo, "payload_hash") ?? null,
        task_id: field(job, "task_id") ?? null
      }
    }
    if (failure !== undefined) info.failure = failure
    const prov = field(context, "_prov")
    if (prov !== undefined) info.prov = prov
    if (context !== undefined) {
      // readOptional read it from inside the job dir; this is the file that was read.
      const fs = yield* FileSystem.FileSystem
      const realJobDir = yield* fs.realPath(jobDir).pipe(Effect.orElseSucceed(() => jobDir))
      const resolved = yield* Confine.resolveInside(path.join(jobDir, "_context.json"), realJobDir, "the job dir").pipe(Effect.either)
      if (Either.isLeft(resolved)) {
        return yield* Effect.fail(new ValidationError({ message: `cannot read ${path.join(jobDir, "_context.json")}`, problems: [resolved.left], hint: "fix or remove the file" }))
      }
      info.contextFile = { realPath: resolved.right.real, identity: Confine.identityOf(resolved.right.info) }
    }
    return info
  })
