/**
 * The ingest workflow. Plan first (reads only), then, inside one Scope, each
 * side effect as a step, in the order of `steps/index.ts` (which says what a
 * step is and how rollback uses it): claim each product, set aside what it
 * replaces, publish files, register STAC collections then items, index GRQ
 * documents, write `_datasets.json`. If anything fails or the fiber is interrupted, the
 * scope closes with that exit and every step is undone in reverse order; the
 * run then fails with the ORIGINAL error and a report of the rollback.
 */
import { FileSystem, Path } from "@effect/platform"
import { Chunk, Data, Effect, Exit, Ref } from "effect"
import * as Confine from "./Confine.ts"
import * as DatasetConfig from "./DatasetConfig.ts"
import { type PublishError, ValidationError } from "./Errors.ts"
import { GrqIndex } from "./GrqIndex.ts"
import * as JobInfo from "./JobInfo.ts"
import { Journal } from "./Journal.ts"
import { ObjectStore } from "./ObjectStore.ts"
import * as Plan from "./Plan.ts"
import * as Recover from "./Recover.ts"
import { Progress } from "./Progress.ts"
import { StacRegistry, type StacRules } from "./StacRegistry.ts"
import * as Step from "./Step.ts"
import * as Steps from "./steps/index.ts"

export interface IngestOptions {
  readonly jobDir: string
  readonly datasetsFile: string
  /** Replace what is already published (HySDS `_force_ingest`); restored if the run fails. */
  readonly force: boolean
  /** Plan and report, touching nothing. */
  readonly dryRun: boolean
  /** Process STAC catalogs; when off, the job is handled exactly as classic HySDS would. */
  readonly stac: boolean
  /** Files copied at the same time. */
  readonly concurrency: number
  /** Items or documents per registry/index request. */
  readonly batchSize: number
  readonly hostname: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** Check the index (and the registry, when the job has STAC work) before the first write; default on. */
  readonly checks?: boolean
  /** Who runs the ingest, recorded so recovery can tell a live run from a dead one. */
  readonly owner?: { readonly host: string; readonly pid: number }
  /**
   * An earlier attempt at one of these products that died unfinished is
   * recovered first (default); with false the ingest refuses instead.
   * `isAlive` says whether a transaction's process still runs.
   */
  readonly recoverEarlier?: boolean
  readonly isAlive?: Recover.RecoverOptions["isAlive"]
  /** Transaction id; generated when absent. */
  readonly tx?: string
  readonly now?: Date
}

export interface ProductResult {
  readonly id: string
  readonly kind: "classic" | "stac"
  readonly dataset: string
  readonly location: string
  readonly files: number
  readonly bytes: number
  readonly collections: number
  readonly items: number
  readonly documents: number
}

export interface IngestResult {
  readonly tx: string
  readonly jobDir: string
  readonly dryRun: boolean
  readonly products: ReadonlyArray<ProductResult>
  readonly skipped: ReadonlyArray<{ readonly dir: string; readonly reason: string }>
  readonly totals: Plan.Totals
  /** Where `_datasets.json` was written (absent in a dry run). */
  readonly datasetsJson?: string
}

/** The run failed: `error` is the original failure, `rollback` what was undone because of it. */
export class IngestFailed extends Data.TaggedError("IngestFailed")<{
  readonly tx: string
  readonly error: PublishError
  readonly rollback: Step.RollbackReport
}> {}

export type IngestContext =
  | ObjectStore
  | GrqIndex
  | StacRegistry
  | Journal
  | Progress
  | FileSystem.FileSystem
  | Path.Path

/** A transaction id: sortable by start time, unique by its random tail. */
export const newTxId = (now: Date): string =>
  `ingest-${now.toISOString().replace(/[-:.]/g, "").replace("T", "-").slice(0, 15)}-${crypto.randomUUID().slice(0, 8)}`

const chunks = <A>(list: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> =>
  Chunk.toReadonlyArray(Chunk.chunksOf(Chunk.fromIterable(list), Math.max(1, size))).map(Chunk.toReadonlyArray)

const productResult = (p: Plan.PlannedProduct): ProductResult => ({
  id: p.id,
  kind: p.kind,
  dataset: p.dataset,
  location: p.location,
  files: p.files.length,
  bytes: p.bytes,
  collections: p.collections.length,
  items: p.items.reduce((n, c) => n + c.items.length, 0),
  documents: p.documents.length
})

/**
 * Reads and checks everything, writes nothing; `rules` are the STAC registry's
 * (pgstac's by default). The job dir is resolved to its real path here, once,
 * for every face (CLI, server, library): datasets.json patterns match paths
 * under it, and nothing outside it is published.
 */
export const plan = (options: IngestOptions, rules?: StacRules) =>
  Effect.gen(function* () {
    const jobDir = yield* Confine.realJobDir(options.jobDir)
    const job = yield* JobInfo.read(jobDir)
    if (job.failure !== undefined) {
      return yield* Effect.fail(
        new ValidationError({
          message: `${options.jobDir}: ${job.failure}, so nothing is published`,
          problems: [],
          hint: "a failed job publishes nothing; fix the job and run it again"
        })
      )
    }
    const datasets = yield* DatasetConfig.load(options.datasetsFile, options.env)
    return yield* Plan.make({
      jobDir,
      job,
      datasets,
      stac: options.stac,
      hostname: options.hostname,
      now: options.now ?? new Date(),
      ...(rules !== undefined ? { rules } : {})
    })
  })

/**
 * Before any side effect: hands each location its entry's credentials, and fails
 * when a location cannot hold the bytes planned for it.
 */
const preflight = (plan: Plan.Plan) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    for (const p of plan.products) for (const c of p.credentials) yield* store.authorize(c.location, c.credentials)
    const byLocation = new Map<string, number>()
    for (const p of plan.products) byLocation.set(p.location, (byLocation.get(p.location) ?? 0) + p.bytes)
    for (const [location, bytes] of byLocation) yield* store.preflight(location, bytes)
  })

const execute = (plan: Plan.Plan, options: IngestOptions, tx: string) =>
  Effect.gen(function* () {
    const force = options.force || plan.job.forceIngest
    // Each product is claimed, then what it replaces is set aside, before the next one.
    const previous = yield* Effect.forEach(plan.products, (p) =>
      Effect.zipLeft(Steps.ClaimProduct.run(p, tx, force, plan.job), Steps.BackupObjects.run(p, tx))
    )
    const replacedDocs = previous.flat()
    for (const p of plan.products) yield* Steps.PutObjects.run(p, options.concurrency)
    const indexed = new Set(replacedDocs.map((r) => r.id))
    for (const p of plan.products) {
      for (const c of p.collections) yield* Steps.RegisterCollection.run(c, force)
      for (const group of p.items) {
        for (const batch of chunks(group.items, options.batchSize)) {
          yield* Steps.RegisterItems.run(group.collection, batch, force, indexed)
        }
      }
    }
    const records = plan.products.flatMap((p) => p.documents)
    for (const batch of chunks(records, options.batchSize)) yield* Steps.IndexDocuments.run(batch, replacedDocs)
    // The documents were written without waiting for visibility: one refresh
    // makes all of them searchable before the run can succeed.
    if (records.length > 0) yield* (yield* GrqIndex).refresh(records.map((r) => r.index)).pipe(Effect.withSpan("refresh grq"))
    const file = yield* Steps.WriteJobFile.run(plan)
    // The decision point: from here on a crash is recovered by rolling forward.
    const journal = yield* Journal
    yield* journal.append({ _tag: "Commit", tx, at: new Date().toISOString() })
    return file
  })

export const run = (options: IngestOptions): Effect.Effect<IngestResult, IngestFailed, IngestContext> =>
  Effect.gen(function* () {
    const now = options.now ?? new Date()
    const tx = options.tx ?? newTxId(now)
    yield* Effect.annotateCurrentSpan({ "hysds_stac.tx": tx, "hysds_stac.dry_run": options.dryRun })
    const journal = yield* Journal
    const progress = yield* Progress
    const transaction = yield* Step.makeTransaction(tx)
    const fail = (error: PublishError) =>
      Effect.flatMap(Ref.get(transaction.report), (rollback) => Effect.fail(new IngestFailed({ tx, error, rollback })))

    // The registry's own rules, so an id or geometry it would refuse is found before anything is claimed.
    const planned = yield* plan({ ...options, now }, (yield* StacRegistry).rules).pipe(Effect.withSpan("plan"), Effect.catchAll(fail))
    yield* progress.emit({ _tag: "Planned", ...planned.totals })
    const result = (datasetsJson?: string): IngestResult => ({
      tx,
      jobDir: planned.jobDir,
      dryRun: options.dryRun,
      products: planned.products.map(productResult),
      skipped: planned.skipped,
      totals: planned.totals,
      ...(datasetsJson ? { datasetsJson } : {})
    })
    if (options.dryRun) return result()
    yield* Recover.earlierAttempts(planned.products.map((p) => p.id), {
      recover: options.recoverEarlier !== false,
      isAlive: options.isAlive ?? (() => false)
    }).pipe(Effect.withSpan("recover earlier attempts"), Effect.catchAll(fail))
    if (options.checks !== false) {
      // A backend that is down or misconfigured fails here, before anything is written.
      yield* (yield* GrqIndex).check().pipe(Effect.withSpan("check grq"), Effect.catchAll(fail))
      if (planned.totals.collections + planned.totals.items > 0) yield* (yield* StacRegistry).check().pipe(Effect.withSpan("check stac-api"), Effect.catchAll(fail))
    }
    yield* preflight(planned).pipe(Effect.withSpan("preflight"), Effect.catchAll(fail))

    yield* journal
      .append({
        _tag: "Begin",
        tx,
        at: now.toISOString(),
        jobDir: planned.jobDir,
        products: planned.products.map((p) => p.id),
        ...(options.owner ? { host: options.owner.host, pid: options.owner.pid } : {})
      })
      .pipe(Effect.catchAll(fail))
    // The rollback, and recording how it ended, must finish even when the ingest
    // is interrupted (Ctrl-C, SIGTERM): only the work itself is interruptible.
    return yield* Effect.uninterruptibleMask((restore) =>
      Effect.gen(function* () {
        const exit = yield* restore(execute(planned, options, tx).pipe(Effect.withSpan("publish"))).pipe(
          Effect.onError(() => progress.emit({ _tag: "RollingBack", steps: 0 })),
          Effect.provideService(Step.Transaction, transaction),
          Effect.scoped,
          Effect.exit
        )
        const report = yield* Ref.get(transaction.report)
        const outcome = Exit.isSuccess(exit) ? "committed" : report.failed.length > 0 ? "abort-incomplete" : "aborted"
        yield* journal.append({ _tag: "End", tx, at: new Date().toISOString(), outcome }).pipe(Effect.ignoreLogged)
        if (Exit.isSuccess(exit)) return result(exit.value)
        // Interruption stays interruption; a failure becomes IngestFailed with the report.
        return yield* Effect.failCause(exit.cause).pipe(Effect.catchAll(fail))
      })
    )
  }).pipe(Effect.withSpan("ingest"))
