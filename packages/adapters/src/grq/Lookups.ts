/**
 * Reading from the alias `grq`: one product by id (what HySDS calls "exists"),
 * many at once (`findMany`, one `ids` query per 1,000 ids, for the claim)
 * and all documents, of one dataset or all, by scroll (no 10,000-hit limit),
 * sorted by id, then index. A missing alias or index reads as empty.
 */
import { Effect, Option } from "effect"
import type { GrqIndex } from "@hysds-stac/core"
import type * as Engine from "./Engine.ts"
import type { Calls } from "./GrqCalls.ts"
import * as IndexTemplate from "./IndexTemplate.ts"

/** Scroll page size and keep-alive for `list`. */
const PAGE = 1000
const KEEP_ALIVE = "2m"

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

export const find =
  (g: Calls): GrqIndex.GrqIndexShape["find"] =>
  (id) =>
  Effect.gen(function* () {
    const page = yield* g.callOrMissing(
      `look up "${id}"`,
      g.engine.search(IndexTemplate.ALIAS, {
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
        `GRQ id "${id}" is in several indexes under the alias ${IndexTemplate.ALIAS} (${first._index}, ${second._index}, ...); using ${first._index}`
      )
    }
    return Option.some({ index: first._index, id: first._id, doc: first._source ?? {} })
  })

/** Ids per `findMany` request, and the hits one request may answer (the default `index.max_result_window`). */
const IDS_PER_REQUEST = 1000
const HITS_PER_REQUEST = 10_000

export const findMany =
  (g: Calls): GrqIndex.GrqIndexShape["findMany"] =>
  (ids) =>
  Effect.gen(function* () {
    const wanted = [...new Set(ids)]
    const chunks: Array<Array<string>> = []
    for (let i = 0; i < wanted.length; i += IDS_PER_REQUEST) chunks.push(wanted.slice(i, i + IDS_PER_REQUEST))
    const found = new Map<string, GrqIndex.GrqRecord>()
    const repeated: Array<string> = []
    yield* Effect.forEach(
      chunks,
      (chunk) =>
        Effect.gen(function* () {
          const page = yield* g.callOrMissing(
            `look up ${chunk.length} id(s)`,
            g.engine.search(IndexTemplate.ALIAS, {
              query: { ids: { values: chunk } },
              size: HITS_PER_REQUEST,
              sort: [{ _index: "asc" }],
              track_total_hits: false
            })
          )
          const hits = Option.match(page, { onNone: () => [], onSome: (p) => p.hits })
          if (hits.length >= HITS_PER_REQUEST) {
            // Ids held by many indexes each filled the page: look this chunk up one by one.
            for (const id of chunk) {
              const one = yield* find(g)(id)
              if (Option.isSome(one)) found.set(id, one.value)
            }
            return
          }
          // Sorted by index name: the first hit of an id is the one `find` answers with.
          for (const h of hits) {
            if (found.has(h._id)) repeated.push(h._id)
            else found.set(h._id, { index: h._index, id: h._id, doc: h._source ?? {} })
          }
        }),
      { concurrency: 4, discard: true }
    )
    if (repeated.length > 0) {
      const id = repeated[0]!
      yield* Effect.logWarning(
        `GRQ: ${repeated.length} id(s) are in several indexes under the alias ${IndexTemplate.ALIAS}, e.g. "${id}"; using ${found.get(id)?.index ?? "the first index"} for each (the first by name)`
      )
    }
    return wanted.flatMap((id) => {
      const r = found.get(id)
      return r === undefined ? [] : [r]
    })
  })

export const list =
  (g: Calls): GrqIndex.GrqIndexShape["list"] =>
  (filter) =>
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
    const first = yield* g.callOrMissing(
      action,
      g.engine.search(IndexTemplate.ALIAS, { query, size: PAGE, sort: ["_doc"] }, KEEP_ALIVE)
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
        page = yield* g.call(action, g.engine.scroll(page.scrollId, KEEP_ALIVE))
        collect(page)
      }
      if (page.scrollId !== undefined) scrollIds.add(page.scrollId)
    }).pipe(
      // Scrolls hold resources on the cluster until they expire: let them go now.
      Effect.ensuring(
        Effect.suspend(() => Effect.forEach(scrollIds, (id) => Effect.ignore(g.engine.clearScroll(id)), { discard: true }))
      )
    )
    return records.sort((a, b) => compare(a.id, b.id) || compare(a.index, b.index))
  })

