/**
 * The service's metrics, as Effect `Metric`s (the process-wide registry), read
 * by /metrics through Prometheus.ts. Counters of published things grow only
 * when an ingest SUCCEEDS: files copied and then rolled back were not
 * published. Every label value a dashboard may query is touched at start, so
 * a series exists (at 0) before its first event and `rate()` works from the
 * first scrape.
 */
import { Step, Steps } from "@hysds-stac/core"
import { Effect, Metric, MetricBoundaries } from "effect"
import type { ErrorCategory, IngestState } from "./ApiSchemas.ts"

const counter = (name: string, description: string) => Metric.counter(name, { description, incremental: true })

export const ingests = counter("hysds_stac_ingests_total", "Ingests ended, by outcome (succeeded, failed, rolled_back) and dry_run.")
export const ingestDuration = Metric.histogram(
  "hysds_stac_ingest_duration_seconds",
  MetricBoundaries.exponential({ start: 0.05, factor: 2, count: 14 }),
  "Time from start (not submission) to end of an ingest, by outcome."
)
export const queueWait = Metric.histogram(
  "hysds_stac_queue_wait_seconds",
  MetricBoundaries.exponential({ start: 0.01, factor: 3, count: 12 }),
  "Time ingests waited in the queue for a slot."
)
export const phaseDuration = Metric.histogram(
  "hysds_stac_phase_duration_seconds",
  MetricBoundaries.exponential({ start: 0.01, factor: 2, count: 18 }),
  "Time in each phase of an ingest (plan, claim, files, stac, grq, finish, rollback), from its first step to its last progress."
)
export const peakRss = Metric.gauge("process_peak_rss_bytes", { description: "The most resident memory the process has held since it started." })
export const products = counter("hysds_stac_products_published_total", "Products published by succeeded ingests.")
export const items = counter("hysds_stac_items_published_total", "STAC items registered by succeeded ingests.")
export const files = counter("hysds_stac_files_published_total", "Files copied to the store by succeeded ingests.")
export const bytes = counter("hysds_stac_bytes_published_total", "Bytes copied to the store by succeeded ingests.")
export const documents = counter("hysds_stac_documents_indexed_total", "GRQ documents indexed by succeeded ingests.")
/** Fed by core where each step's span is (Step.run), by action tag. */
export const stepDuration = Step.duration
export const rollbacks = counter("hysds_stac_rollbacks_total", "Ingests that undid at least one step (failure or interruption).")
export const rollbackSteps = counter("hysds_stac_rollback_steps_total", "Steps undone by rollbacks, by result (undone, failed).")
export const errors = counter("hysds_stac_errors_total", "Ingests that did not succeed, by error category.")
export const rejected = counter("hysds_stac_ingests_rejected_total", "Submissions refused before queuing, by reason.")
export const recovered = counter("hysds_stac_recovered_transactions_total", "Transactions of dead processes finished at start, by outcome.")
export const httpRequests = counter("hysds_stac_http_requests_total", "HTTP requests answered, by status code class.")
export const running = Metric.gauge("hysds_stac_ingests_running", { description: "Ingests running now." })
export const queued = Metric.gauge("hysds_stac_ingests_queued", { description: "Ingests waiting for a slot now." })
export const memory = Metric.gauge("process_memory_bytes", { description: "Process memory by kind (rss, heap_total, heap_used, external, array_buffers)." })
export const startTime = Metric.gauge("process_start_time_seconds", { description: "When the process started, in seconds since the epoch." })

export const outcomes: ReadonlyArray<IngestState> = ["succeeded", "failed", "rolled_back"]
export const categories: ReadonlyArray<ErrorCategory> = ["config", "validation", "conflict", "storage", "index", "catalog-api", "internal", "interrupted"]
/** The `action` label values of stepDuration: the steps' tags, from core's one list of steps. */
export const actions = Steps.tags
export const rejections = ["queue_full", "shutting_down", "in_progress", "forbidden", "unauthorized"] as const

/** Creates every series at 0 (see the module comment). */
export const init = Effect.gen(function* () {
  for (const outcome of outcomes) {
    for (const dryRun of ["false", "true"]) yield* Metric.incrementBy(Metric.tagged(Metric.tagged(ingests, "outcome", outcome), "dry_run", dryRun), 0)
  }
  for (const m of [products, items, files, bytes, documents, rollbacks]) yield* Metric.incrementBy(m, 0)
  for (const result of ["undone", "failed"]) yield* Metric.incrementBy(Metric.tagged(rollbackSteps, "result", result), 0)
  for (const category of categories) yield* Metric.incrementBy(Metric.tagged(errors, "category", category), 0)
  for (const reason of rejections) yield* Metric.incrementBy(Metric.tagged(rejected, "reason", reason), 0)
  yield* Metric.set(running, 0)
  yield* Metric.set(queued, 0)
  yield* Metric.set(startTime, Math.round(Date.now() / 1000 - process.uptime()))
})

/** Samples what is read at scrape time rather than on events. */
export const sample = Effect.gen(function* () {
  const m = process.memoryUsage()
  const kinds = { rss: m.rss, heap_total: m.heapTotal, heap_used: m.heapUsed, external: m.external, array_buffers: m.arrayBuffers }
  for (const [kind, value] of Object.entries(kinds)) yield* Metric.set(Metric.tagged(memory, "kind", kind), value)
  // maxRSS is in KiB.
  yield* Metric.set(peakRss, process.resourceUsage().maxRSS * 1024)
})

export const reject = (reason: (typeof rejections)[number]) => Metric.increment(Metric.tagged(rejected, "reason", reason))
