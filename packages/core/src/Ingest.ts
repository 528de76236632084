/**
 * The ingest workflow. Plan first (reads only), then, inside one Scope, each
 * side effect as a step, in the order of `steps/index.ts` (which says what a
 * step is and how rollback uses it): claim each product, set aside what it
 * replaces, publish files, register STAC collections then items, index GRQ
 * documents, write `_datasets.json`. If anything fails or the fiber is interrupted, the
 * scope closes with that exit and every step is undone in reverse order; the
 * run then fails with the ORIGINAL error and a report of the rollback.
 */
import type { Warning } from "./Warning.ts"
import { FileSystem, Path } from "@effect/platform"
import { Chunk, Data, Effect, Exit, Ref, Scope, Stream } from "effect"
import * as Confine from "./Confine.ts"
import * as DatasetConfig from "./DatasetConfig.ts"
import { InternalError, type PublishError, ValidationError } from "./Errors.ts"
import * as FreshItems from "./FreshItems.ts"
import { GrqIndex } from "./GrqIndex.ts"
import * as JobInfo from "./JobInfo.ts"
import * as Location from "./Location.ts"
import { Journal } from "./Journal.ts"
import { ObjectStore } from "./ObjectStore.ts"
import * as Plan from "./Plan.ts"
import * as Recover from "./Recover.ts"
import { Progress } from "./Progress.ts"
import { StacRegistry, type StacRules } from "./StacRegistry.ts"
import * as StacSource from "./StacSource.ts"
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
  /** Who runs the ingest, recorded for people reading the journal (liveness is the transaction's lease). */
  readonly owner?: { readonly host: string; readonly pid: number }
  /**
   * An earlier attempt at one of these products that died unfinished (its
   * lease expired) is recovered first (default); with false the ingest
   * refuses instead.
   */
  readonly recoverEarlier?: boolean
  /** Transaction id; generated when absent. */
  readonly tx?: string
  readonly now?: Date
}

export interface ProductResult {
  readonly id: string
  readonly kind: "classic" | "stac"
  readonly dataset: string
  /** Absent when the product's entry has no `publish` (indexed only). */
  readonly location?: string
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
  /** What planning noticed that did not stop the ingest: migrated STAC documents, unchecked extensions (Warning.ts). */
  readonly warnings: ReadonlyArray<Warning>
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
  ...(p.location !== undefined ? { location: p.location } : {}),
  files: Plan.fileCount(p),
  bytes: p.bytes,
  collections: Plan.collectionCount(p),
  items: Plan.itemCount(p),
  documents: Plan.documentCount(p)
})

/**
 * Reads and checks everything, writes nothing; `rules` are the STAC registry's
 * (pgstac's by default). The job dir is resolved to its real path here, once,
 * for every face (CLI, server, library): datasets.json patterns match paths
 * under it, and nothing outside it is published.
 */
export const plan = (options: IngestOptions, rules?: StacRules, schemes?: ReadonlyArray<string>) =>
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
      env: options.env,
      ...(rules !== undefined ? { rules } : {}),
      ...(schemes !== undefined ? { schemes } : {})
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
    for (const p of plan.products) {
      // An entry without `publish` uploads only its browse images, to its one root.
      const location = p.location ?? p.roots[0]
      if (location !== undefined) byLocation.set(location, (byLocation.get(location) ?? 0) + p.bytes)
    }
    for (const [location, bytes] of byLocation) yield* store.preflight(location, bytes)
  })

/** A product's STAC documents in their published form, ready to put. */
const documentFiles = (p: Plan.PlannedProduct, loaded: ReadonlyArray<Loaded>): Array<Plan.PlannedFile> =>
  loaded.map((l) => {
    // On disk, as planning recorded it (`identity` makes an object per call: asked once).
    const size = l.doc.identity.size
    const bytes = StacSource.jsonBytes(l.published, size)
    // `size` feeds progress, whose total the plan counted from the files on
    // disk (it keeps no document); the published form, with its hrefs made
    // absolute, is longer, and counting that made done exceed total.
    // A STAC product always has a publish location (planning refuses one without).
    return { url: Location.child(p.location!, l.doc.relPath), size, source: { _tag: "Bytes", bytes, contentType: "application/json" } }
  })

/**
 * A STAC product's catalogs and collections, read once: their files as
 * published, and each collection's registered form.
 * Why once: a collection links every item (9 MB and 100,000 link objects at
 * 100,000 items), and reading it again to register it put a second copy of
 * all that beside the first, the ingest's highest memory. The registered form
 * goes without the item links, so it is small to keep until registration; and
 * what is registered is what was put, from one read checked against the plan.
 */
const headDocuments = (p: Plan.PlannedProduct, stac: Plan.StacPlan, concurrency: number) =>
  Effect.map(load(stac, stac.nodes, concurrency), (loaded) => ({
    files: documentFiles(p, loaded),
    collections: loaded.filter((l) => l.doc.type === "Collection").map((l) => StacSource.registered(l.doc, l.published, stac.baseUrl))
  }))

interface Loaded {
  readonly doc: StacSource.StacDocument
  readonly published: Record<string, unknown>
}

/** Reads documents again (checked against the plan) and publishes them. */
const load = <D extends StacSource.StacDocument>(stac: Plan.StacPlan, docs: ReadonlyArray<D>, concurrency: number) =>
  Effect.map(StacSource.readMany(docs, concurrency), (jsons) =>
    jsons.map((json, i) => ({ doc: docs[i]!, published: StacSource.published(docs[i]!, json, stac.baseUrl) }))
  )

/** Items of one product and one collection: the unit that flows through the pipeline. */
interface ItemBatch {
  readonly p: Plan.PlannedProduct
  readonly stac: Plan.StacPlan
  readonly from: number
  readonly to: number
}

/** Consecutive items of a collection, at most `size` per batch. */
const itemBatches = (plan: Plan.Plan, size: number): Array<ItemBatch> => {
  const out: Array<ItemBatch> = []
  for (const p of plan.products) {
    const stac = p.stac
    if (!stac) continue
    let from = 0
    for (let i = 1; i <= stac.items.length; i++) {
      if (i === stac.items.length || i - from >= size || stac.items[i]!.collection !== stac.items[from]!.collection) {
        out.push({ p, stac, from, to: i })
        from = i
      }
    }
  }
  return out
}

/** The files of a batch's items' assets. */
const assetsOf = (b: ItemBatch): ReadonlyArray<Plan.PlannedFile> =>
  b.p.files.slice(b.from === 0 ? b.stac.headFiles : b.stac.assetsEnd[b.from - 1]!, b.stac.assetsEnd[b.to - 1]!)

/**
 * A batch's URLs, made again each time its record is needed. Made here, not in
 * `storeBatch`: a closure made in a generator keeps the generator's whole
 * frame alive (the batch's documents among it) for as long as it lives, and
 * the record maker lives until the ingest ends.
 */
const batchUrls = (b: ItemBatch) => () => [
  ...b.stac.items.slice(b.from, b.to).map((i) => Location.child(b.p.location!, i.relPath)),
  ...assetsOf(b).map((f) => f.url)
]

/** Stage 1: a batch's items read again and put with their assets; what stages 2 and 3 need of them. */
const storeBatch = (b: ItemBatch, concurrency: number) =>
  Effect.gen(function* () {
    const items = b.stac.items.slice(b.from, b.to)
    const loaded = yield* load(b.stac, items, concurrency)
    yield* Steps.PutObjects.run(b.p.id, [...documentFiles(b.p, loaded), ...assetsOf(b)], concurrency, batchUrls(b))
    const registered = loaded.map((l) => StacSource.registered(l.doc, l.published, b.stac.baseUrl))
    return {
      collection: items[0]!.collection,
      ids: items.map((i) => i.id),
      items: registered,
      documents: registered.map((json, i) => StacSource.document(items[i]!, json, b.stac).record)
    }
  })

/** Batches waiting between two stages: enough to keep the next stage busy, few enough to bound memory. */
const QUEUED_BATCHES = 2

const execute = (plan: Plan.Plan, options: IngestOptions, tx: string) =>
  Effect.gen(function* () {
    const force = options.force || plan.job.forceIngest
    // Each product is claimed, then what it replaces is set aside, before the next one.
    const previous = yield* Effect.forEach(plan.products, (p) =>
      Effect.zipLeft(Steps.ClaimProduct.run(p, tx, force, plan.job), Steps.BackupObjects.run(p, tx))
    )
    const replacedDocs = previous.flat()
    const indexed = new Set(replacedDocs.map((r) => r.id))
    // Every product's files no item owns (a STAC product's catalogs and collections among them).
    const collections: Array<Record<string, unknown>> = []
    for (const p of plan.products) {
      const head = p.stac ? p.files.slice(0, p.stac.headFiles) : p.files
      const read = p.stac ? yield* headDocuments(p, p.stac, options.concurrency) : undefined
      const documents = read?.files ?? []
      collections.push(...(read?.collections ?? []))
      if (head.length + documents.length > 0) yield* Steps.PutObjects.run(p.id, [...documents, ...head], options.concurrency)
    }
    const created = new Set<string>()
    for (const collection of collections) {
      if (yield* Steps.RegisterCollection.run(collection, force)) created.add(String(collection.id))
    }
    // The items flow through three stages, each a batch at a time, with a
    // bounded queue between them: files stored, then items registered, then
    // documents indexed. A batch enters a stage only after the stage before
    // finished it, so its step there is registered in the scope after the
    // step it depends on, and the reverse-order rollback undoes it first.
    const scope = yield* Scope.Scope
    const inScope = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provideService(effect, Scope.Scope, scope)
    const indexes = new Set<string>()
    yield* Stream.fromIterable(itemBatches(plan, options.batchSize)).pipe(
      Stream.mapEffect((b) => inScope(storeBatch(b, options.concurrency))),
      Stream.buffer({ capacity: QUEUED_BATCHES }),
      Stream.mapEffect((b) => inScope(Steps.RegisterItems.run(b.collection, b.items, force, indexed, created, b.ids)).pipe(Effect.as(b.documents))),
      Stream.buffer({ capacity: QUEUED_BATCHES }),
      Stream.mapEffect((documents) =>
        inScope(Steps.IndexDocuments.run(documents, replacedDocs)).pipe(Effect.tap(() => Effect.sync(() => documents.forEach((d) => indexes.add(d.index)))))
      ),
      Stream.runDrain
    )
    const classic = plan.products.flatMap((p) => p.documents)
    for (const batch of chunks(classic, options.batchSize)) yield* Steps.IndexDocuments.run(batch, replacedDocs)
    for (const d of classic) indexes.add(d.index)
    // The documents were written without waiting for visibility: one refresh
    // makes all of them searchable before the run can succeed.
    if (indexes.size > 0) yield* (yield* GrqIndex).refresh([...indexes]).pipe(Effect.withSpan("refresh grq"))
    const file = yield* Steps.WriteJobFile.run(plan, options.batchSize, options.concurrency)
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
    // ...and the store's schemes, so a location it cannot publish to is refused before any claim.
    const planned = yield* plan({ ...options, now }, (yield* StacRegistry).rules, (yield* ObjectStore).schemes).pipe(Effect.withSpan("plan"), Effect.catchAll(fail))
    yield* progress.emit({ _tag: "Planned", ...planned.totals })
    const result = (datasetsJson?: string): IngestResult => ({
      tx,
      jobDir: planned.jobDir,
      dryRun: options.dryRun,
      products: planned.products.map(productResult),
      skipped: planned.skipped,
      totals: planned.totals,
      warnings: planned.warnings,
      ...(datasetsJson ? { datasetsJson } : {})
    })
    if (options.dryRun) return result()
    yield* Recover.earlierAttempts(planned.products.map((p) => p.id), {
      recover: options.recoverEarlier !== false
    }).pipe(Effect.withSpan("recover earlier attempts"), Effect.catchAll(fail))
    if (options.checks !== false) {
      // A backend that is down or misconfigured fails here, before anything is written.
      yield* (yield* GrqIndex).check().pipe(Effect.withSpan("check grq"), Effect.catchAll(fail))
      if (planned.totals.collections + planned.totals.items > 0) yield* (yield* StacRegistry).check().pipe(Effect.withSpan("check stac-api"), Effect.catchAll(fail))
    }
    yield* preflight(planned).pipe(Effect.withSpan("preflight"), Effect.catchAll(fail))

    // The lease is held from before the Begin record until the run ends (the scope
    // below), renewed meanwhile: while it is, no recoverer of any machine touches it.
    const leased = yield* journal.lease(tx, "begin").pipe(Effect.catchAll(fail))
    if (!leased) return yield* fail(new InternalError({ message: `transaction ${tx} already has a lease in the journal` }))
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
          // Outside the scope: the undo of a collection asks it after the batches' steps ended.
          Effect.provideService(FreshItems.FreshItems, FreshItems.tracker()),
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
  }).pipe(Effect.scoped, Effect.withSpan("ingest"))
