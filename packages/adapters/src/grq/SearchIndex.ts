/**
 * GrqIndex on a real search engine (Elasticsearch or OpenSearch), written
 * once over {@link Engine.Engine}; OpenSearchIndex.ts and
 * ElasticsearchIndex.ts only supply the engine.
 *
 * Same semantics as the embedded SqliteIndex, so the shared contract suite
 * holds for all three:
 * - `find` is one search on the alias `grq` (what HySDS calls "exists"),
 *   answering with the first index in name order when several hold the id;
 * - `bulkIndex` writes every record it can, like one ES bulk request, and
 *   fails naming the first rejected document, its index, the server's reason
 *   and how many were rejected; it is split into requests by count and size,
 *   all sent in order so a later record for the same id still wins;
 * - `remove` treats "not found" (document or index) as done, so undo repeats;
 * - `list` scrolls (no 10,000-hit limit) and sorts by id, then index.
 *
 * Retries: a request failing with 429, a 5xx or no answer is retried with
 * the shared policy (core Retry: jittered exponential, capped); so are bulk items the cluster refused with
 * 429 (its write queue was full), alone. Everything else fails at once:
 * repeating a rejected document cannot make it acceptable.
 */
import { Duration, Effect, Layer, Option, type Scope } from "effect"
import { Errors, GrqIndex, Retry } from "@hysds-stac/core"
import * as Config from "./Config.ts"
import type { Connection } from "./Config.ts"
import * as Engine from "./Engine.ts"
import * as Template from "./Template.ts"

/** Scroll page size and keep-alive for `list`. */
const PAGE = 1000
const KEEP_ALIVE = "2m"

const isRetryable = (e: Engine.EngineError): boolean =>
  e.kind === "connection" ||
  e.kind === "timeout" ||
  (e.kind === "response" && e.status !== undefined && (e.status === 429 || (e.status >= 500 && e.status !== 501)))

/** One document the server did not take. */
interface Rejection {
  readonly index: string
  readonly id: string
  readonly status: number
  readonly type: string
  readonly reason: string
}

/** A bulk operation, serialised once: its NDJSON lines and their size in bytes. */
interface Op {
  readonly ref: GrqIndex.DocRef
  readonly lines: string
  readonly bytes: number
}

const utf8 = new TextEncoder()

const opOf = (ref: GrqIndex.DocRef, action: "index" | "delete", source?: unknown): Op => {
  const head = JSON.stringify({ [action]: { _index: ref.index, _id: ref.id } })
  const lines = source === undefined ? `${head}\n` : `${head}\n${JSON.stringify(source)}\n`
  return { ref, lines, bytes: utf8.encode(lines).length }
}

/**
 * Splits operations into bulk requests of at most `maxDocs` operations and
 * `maxBytes` bytes, in order; an operation larger than `maxBytes` goes alone
 * (the server's `http.max_content_length`, 100 MB by default, is the real limit).
 */
export const chunk = <T extends { readonly bytes: number }>(
  ops: ReadonlyArray<T>,
  maxDocs: number,
  maxBytes: number
): Array<Array<T>> => {
  const chunks: Array<Array<T>> = []
  let current: Array<T> = []
  let size = 0
  for (const op of ops) {
    if (current.length > 0 && (current.length >= maxDocs || size + op.bytes > maxBytes)) {
      chunks.push(current)
      current = []
      size = 0
    }
    current.push(op)
    size += op.bytes
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const hintForRejection = (r: Rejection): string => {
  if (r.type === "mapper_parsing_exception" || r.type === "document_parsing_exception") {
    return (
      "a field has another type (object or value; number, boolean, date or text) than in the documents " +
      `already in ${r.index}: make the product's metadata types consistent, or index it under a new version`
    )
  }
  if (r.reason.startsWith("Limit of total fields")) {
    return "the products' metadata has too many distinct keys; keep free-form data under metadata.context"
  }
  if (r.type === "invalid_index_name_exception") return "fix the index name (lower case, no spaces or \\/*?\"<>|,#:)"
  if (r.type === "cluster_block_exception") {
    return "the index or cluster is read-only (often: a disk passed the flood-stage watermark); free space, then clear the block"
  }
  if (r.status === 429) return "the cluster kept refusing writes (queue full); retry later, or lower bulkMaxDocs"
  if (r.reason.includes("too long") && r.reason.includes("512 bytes")) return "product ids must be at most 512 bytes"
  return "see the reason above; the other documents of the request may have been written"
}

export const make = (engine: Engine.Engine, connection: Connection): GrqIndex.GrqIndexShape => {
  const product = Engine.productName(engine.kind)
  const where = `${product} at ${engine.url}`
  const policy: Retry.Policy = { ...Retry.requestDefaults, retries: connection.maxRetries }
  const schedule = Retry.schedule(policy, { while: isRetryable })
  const redact = engine.redact

  const hintFor = (e: Engine.EngineError): string | undefined => {
    switch (e.kind) {
      case "connection":
        return `is the ${product} cluster up, and is the GRQ URL right?`
      case "timeout":
        return `the cluster did not answer within ${connection.requestTimeoutMs} ms; check its load, or raise requestTimeoutMs`
      case "product":
        return "this is not an Elasticsearch server (OpenSearch?); for OpenSearch set GRQ_ES_ENGINE=opensearch"
      case "client":
        return undefined
      case "response":
        if (e.status === 401) return "the cluster wants credentials: give username and password (or user:pass@ in the URL) or an API key"
        if (e.status === 403) return "the credentials lack a privilege for this action on the grq_* indexes"
        if (e.status === 413) return "the bulk request is larger than the cluster accepts (http.max_content_length): lower bulkMaxBytes"
        if (e.status === 429) return "the cluster is overloaded (429 after retries); try again later"
        return undefined
    }
  }

  const indexError = (action: string, e: Engine.EngineError): Errors.IndexError => {
    const hint = hintFor(e)
    return new Errors.IndexError({
      message: redact(`GRQ (${where}): could not ${action}: ${e.message}`),
      ...(hint !== undefined ? { hint: redact(hint) } : {}),
      cause: e
    })
  }

  /** Runs one engine call with the retry policy; failures become IndexErrors saying what was being done. */
  const call = <A>(
    action: string,
    effect: Effect.Effect<A, Engine.EngineError>
  ): Effect.Effect<A, Errors.IndexError> =>
    effect.pipe(
      Effect.retry(schedule),
      Effect.mapError((e) => indexError(action, e)),
      // One span per request, over its retries. engine.url is already the
      // displayed URL (credentials masked); the action names what, never the body.
      Effect.withSpan("grq request", {
        kind: "client",
        attributes: { "db.system": engine.kind, "server.address": engine.url, "hysds_stac.grq.action": redact(action) }
      })
    )

  /** The same, keeping "not found" (no alias or index yet) apart from failures. */
  const callOrMissing = <A>(
    action: string,
    effect: Effect.Effect<A, Engine.EngineError>
  ): Effect.Effect<Option.Option<A>, Errors.IndexError> =>
    call(
      action,
      effect.pipe(
        Effect.map(Option.some),
        Effect.catchIf(Engine.isNotFound, () => Effect.succeed(Option.none<A>()))
      )
    )

  const rejectionOf = (op: Op, item: Engine.BulkItem): Rejection => ({
    index: item._index ?? op.ref.index,
    id: item._id ?? op.ref.id,
    status: item.status,
    type: item.error?.type ?? `HTTP ${item.status}`,
    reason: redact(item.error?.reason ?? "(no reason given)")
  })

  /**
   * Sends one chunk; retries the items refused with 429 (alone) and answers
   * with the items that failed for good. `accept` says which other non-2xx
   * items are fine (a delete of something already gone).
   */
  const sendChunk = (
    ops: ReadonlyArray<Op>,
    what: string,
    accept: (item: Engine.BulkItem) => boolean
  ): Effect.Effect<Array<Rejection>, Errors.IndexError> =>
    Effect.gen(function* () {
      const rejected: Array<Rejection> = []
      let pending = ops
      for (let attempt = 0; pending.length > 0; attempt++) {
        const body = pending.map((op) => op.lines).join("")
        const items = yield* call(`${what} (${pending.length} operation(s))`, engine.bulk(body, connection.refresh))
        if (items.length !== pending.length) {
          return yield* new Errors.IndexError({
            message: `GRQ (${where}): the bulk response has ${items.length} item(s) for ${pending.length} operation(s)`
          })
        }
        const throttled: Array<Op> = []
        items.forEach((item, i) => {
          const op = pending[i] as Op
          if ((item.status >= 200 && item.status < 300) || accept(item)) return
          if (item.status === 429 && attempt < connection.maxRetries) throttled.push(op)
          else rejected.push(rejectionOf(op, item))
        })
        if (throttled.length > 0) {
          yield* Effect.logDebug(`GRQ: ${throttled.length} bulk item(s) throttled (429); retrying them`)
          yield* Effect.sleep(Duration.millis(Retry.delayMillis(policy, attempt + 1)))
        }
        pending = throttled
      }
      return rejected
    })

  const sendAll = (ops: ReadonlyArray<Op>, what: string, accept: (item: Engine.BulkItem) => boolean) =>
    Effect.gen(function* () {
      const rejected: Array<Rejection> = []
      // In order, one at a time: a record repeated in a later chunk must land last.
      for (const part of chunk(ops, connection.bulkMaxDocs, connection.bulkMaxBytes)) {
        rejected.push(...(yield* sendChunk(part, what, accept)))
      }
      return rejected
    })

  const find: GrqIndex.GrqIndexShape["find"] = (id) =>
    Effect.gen(function* () {
      const page = yield* callOrMissing(
        `look up "${id}"`,
        engine.search(Template.ALIAS, {
          query: { ids: { values: [id] } },
          size: 2,
          sort: [{ _index: "asc" }],
          track_total_hits: false
        })
      )
      const hits = Option.match(page, { onNone: () => [], onSome: (p) => p.hits })
      const [first, second] = hits
      if (!first) return Option.none()
      // Several indexes under the alias may hold the same _id (a product re-ingested
      // under a new version); answer with the first index name, always the same one.
      if (second) {
        yield* Effect.logWarning(
          `GRQ id "${id}" is in several indexes under the alias ${Template.ALIAS} (${first._index}, ${second._index}, ...); using ${first._index}`
        )
      }
      return Option.some({ index: first._index, id: first._id, doc: first._source ?? {} })
    })

  const bulkIndex: GrqIndex.GrqIndexShape["bulkIndex"] = (records) =>
    Effect.gen(function* () {
      if (records.length === 0) return
      const ops: Array<Op> = []
      const unserialisable: Array<Rejection> = []
      for (const r of records) {
        try {
          ops.push(opOf(r, "index", r.doc))
        } catch (cause) {
          unserialisable.push({
            index: r.index,
            id: r.id,
            status: 0,
            type: "serialization_error",
            reason: `the document is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`
          })
        }
      }
      const rejected = [...unserialisable, ...(yield* sendAll(ops, `index ${records.length} document(s)`, () => false))]
      const first = rejected[0]
      if (first) {
        return yield* new Errors.IndexError({
          message: redact(
            `GRQ (${where}) rejected ${rejected.length} of ${records.length} document(s); the first is "${first.id}" ` +
              `in ${first.index}: ${first.type}: ${first.reason}`
          ),
          id: first.id,
          hint: hintForRejection(first),
          cause: rejected.slice(0, 10)
        })
      }
    })

  /** A delete of a document, or in an index, that is not there: already done. */
  const gone = (item: Engine.BulkItem): boolean =>
    item.status === 404 && (item.result === "not_found" || item.error?.type === "index_not_found_exception")

  const remove: GrqIndex.GrqIndexShape["remove"] = (refs) =>
    Effect.gen(function* () {
      if (refs.length === 0) return
      const ops = refs.map((ref) => opOf(ref, "delete"))
      const rejected = yield* sendAll(ops, `delete ${refs.length} document(s)`, gone)
      const first = rejected[0]
      if (first) {
        return yield* new Errors.IndexError({
          message: redact(
            `GRQ (${where}) could not delete ${rejected.length} of ${refs.length} document(s); the first is "${first.id}" ` +
              `in ${first.index}: ${first.type}: ${first.reason}`
          ),
          id: first.id,
          hint: hintForRejection(first),
          cause: rejected.slice(0, 10)
        })
      }
    })

  const list: GrqIndex.GrqIndexShape["list"] = (filter) =>
    Effect.gen(function* () {
      // `dataset` is a keyword in the template; indexes made before it (grq2's, or
      // without any template) may have it as text, where a term query can also
      // match a single word of it. The exact comparison below settles both.
      const query =
        filter.dataset === undefined
          ? { match_all: {} }
          : {
              bool: {
                should: [{ term: { dataset: filter.dataset } }, { term: { "dataset.keyword": filter.dataset } }],
                minimum_should_match: 1
              }
            }
      const action = filter.dataset === undefined ? "list documents" : `list documents of dataset "${filter.dataset}"`
      const records: Array<GrqIndex.GrqRecord> = []
      const first = yield* callOrMissing(
        action,
        engine.search(Template.ALIAS, { query, size: PAGE, sort: ["_doc"] }, KEEP_ALIVE)
      )
      if (Option.isNone(first)) return []
      const collect = (page: Engine.SearchPage) => {
        for (const hit of page.hits) {
          const doc = hit._source ?? {}
          if (filter.dataset === undefined || doc["dataset"] === filter.dataset) {
            records.push({ index: hit._index, id: hit._id, doc })
          }
        }
      }
      let page = first.value
      const scrollIds = new Set<string>()
      yield* Effect.gen(function* () {
        collect(page)
        while (page.hits.length > 0 && page.scrollId !== undefined) {
          scrollIds.add(page.scrollId)
          page = yield* call(action, engine.scroll(page.scrollId, KEEP_ALIVE))
          collect(page)
        }
        if (page.scrollId !== undefined) scrollIds.add(page.scrollId)
      }).pipe(
        // Scrolls hold resources on the cluster until they expire: let them go now.
        Effect.ensuring(
          Effect.suspend(() => Effect.forEach(scrollIds, (id) => Effect.ignore(engine.clearScroll(id)), { discard: true }))
        )
      )
      return records.sort((a, b) => compare(a.id, b.id) || compare(a.index, b.index))
    })

  /** Fails unless the configured engine is the one answering at the URL. */
  const verifyEngine = (action: string) =>
    Effect.gen(function* () {
      const identity = yield* engine.identify().pipe(
        Effect.retry(schedule),
        Effect.mapError((e) =>
          e.kind === "product"
            ? new Errors.IndexError({
                message: `GRQ is configured as Elasticsearch, but ${engine.url} is not Elasticsearch: it does not answer with the header X-Elastic-Product: Elasticsearch (is it OpenSearch?)`,
                hint: "for OpenSearch set GRQ_ES_ENGINE=opensearch; otherwise check the GRQ URL",
                cause: e
              })
            : indexError(`reach the cluster (${action})`, e)
        )
      )
      if (identity.distribution !== engine.kind) {
        const actual =
          identity.distribution === "unknown"
            ? "neither OpenSearch nor Elasticsearch"
            : `${Engine.productName(identity.distribution)}${identity.version ? ` ${identity.version}` : ""}`
        return yield* new Errors.IndexError({
          message: `GRQ is configured as ${product}, but ${engine.url} is ${actual}`,
          hint:
            identity.distribution === "unknown"
              ? "check the GRQ URL"
              : `set GRQ_ES_ENGINE=${identity.distribution}, or point GRQ_ES_URL at the ${product} cluster`
        })
      }
      return identity
    })

  const check: GrqIndex.GrqIndexShape["check"] = () =>
    Effect.gen(function* () {
      yield* verifyEngine("check")
      const health = yield* call("read the cluster health", engine.health())
      if (health.status === "red") {
        return yield* new Errors.IndexError({
          message: `GRQ (${where}): cluster ${health.cluster} is red: some primary shards are unassigned`,
          hint: "see GET /_cluster/allocation/explain on the cluster"
        })
      }
      const installed = yield* call(`read the index template ${Template.NAME}`, engine.getIndexTemplate(Template.NAME))
      if (Option.isSome(installed)) {
        const problem = Template.problem(installed.value)
        if (problem !== undefined) {
          return yield* new Errors.IndexError({
            message: `GRQ (${where}): the index template ${Template.NAME} is not usable: ${problem}`,
            hint: "run `hysds-stac grq init` to replace it"
          })
        }
        const version = Template.installedVersion(installed.value)
        if (version === undefined || version < Template.VERSION) {
          yield* Effect.logWarning(
            `GRQ index template ${Template.NAME} is version ${version ?? "(none)"}, this hysds-stac has ${Template.VERSION}; ` +
              "run `hysds-stac grq init` to update it (new indexes only)"
          )
        }
        return
      }
      const legacy = yield* call(`read the legacy index template ${Template.NAME}`, engine.getLegacyTemplate(Template.NAME))
      if (Option.isSome(legacy) && Template.legacyProblem(legacy.value) === undefined) {
        yield* Effect.logWarning(
          `GRQ has only grq2's legacy index template ${Template.NAME} (_template); it works, but ` +
            "`hysds-stac grq init` installs the composable one (which takes precedence for new indexes)"
        )
        return
      }
      return yield* new Errors.IndexError({
        message: `GRQ (${where}): the index template ${Template.NAME} (for ${Template.PATTERN}, alias ${Template.ALIAS}) is not installed`,
        hint: "run `hysds-stac grq init`: without it new grq_* indexes are not under the alias grq, and published products are not found"
      })
    })

  const init: GrqIndex.GrqIndexShape["init"] = () =>
    Effect.gen(function* () {
      yield* verifyEngine("init")
      const put = (geoShape: boolean) => engine.putIndexTemplate(Template.NAME, Template.body({ geoShape }))
      yield* call(
        `install the index template ${Template.NAME}`,
        put(true).pipe(
          Effect.catchIf(
            (e) => e.kind === "response" && e.status === 400 && /\[geo_shape\].*does not exist/.test(JSON.stringify(e.body) ?? ""),
            () =>
              Effect.zipRight(
                Effect.logWarning(
                  `GRQ: ${where} has no geo_shape field type (a minimal distribution without the spatial module); ` +
                    "location is stored but not indexed: spatial queries on it will not work"
                ),
                put(false)
              )
          )
        )
      )
      // Indexes made before the template (by grq2 without it, or by hand) join the
      // alias too; no grq_* index at all is fine.
      yield* callOrMissing(
        `add the grq_* indexes to the alias ${Template.ALIAS}`,
        engine.updateAliases([{ add: { index: Template.PATTERN, alias: Template.ALIAS } }])
      ).pipe(
        Effect.catchTag("IndexError", (e) =>
          Effect.fail(
            /invalid_alias_name_exception|exists with the same name as the alias|an index exists with the same name/i.test(e.message)
              ? new Errors.IndexError({
                  message: e.message,
                  hint: `an index named ${Template.ALIAS} exists; GRQ needs that name for the alias: reindex it into a grq_* index, then delete it`,
                  cause: e.cause
                })
              : e
          )
        )
      )
    })

  return { check, init, find, bulkIndex, remove, list }
}

/** The GrqIndex layer over the engine an adapter builds from its resolved connection. */
export const layerOver =
  (engine: (connection: Config.Connection) => Effect.Effect<Engine.Engine, never, Scope.Scope>) =>
  (config: Config.GrqConfig): Layer.Layer<GrqIndex.GrqIndex, Errors.ConfigError> =>
    Layer.scoped(
      GrqIndex.GrqIndex,
      Effect.gen(function* () {
        const connection = yield* Config.resolve(config)
        return make(yield* engine(connection), connection)
      })
    )
