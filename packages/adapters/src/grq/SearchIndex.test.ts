/**
 * SearchIndex's own logic (splitting, retries, what counts as done), against
 * a scripted engine: the cases a real server will not produce on demand
 * (a full write queue, a dropped connection). The real servers are in
 * OpenSearchIndex.test.ts and ElasticsearchIndex.test.ts.
 */
import { describe, expect, test } from "bun:test"
import { Effect, Either, Option } from "effect"
import type { GrqIndex } from "@hysds-stac/core"
import * as Config from "./Config.ts"
import * as Engine from "./Engine.ts"
import * as SearchIndex from "./SearchIndex.ts"
import * as IndexTemplate from "./IndexTemplate.ts"

interface Op {
  readonly action: string
  readonly index: string
  readonly id: string
}

/** An engine whose `bulk` answers from `respond`; every call's operations are recorded. */
const scripted = (
  respond: (ops: ReadonlyArray<Op>, call: number) => ReadonlyArray<Engine.BulkItem> | Engine.EngineError,
  overrides: Partial<Engine.Engine> = {}
) => {
  const calls: Array<{ ops: Array<Op>; bytes: number }> = []
  const notUsed = () => Effect.die("not used in this test")
  const engine: Engine.Engine = {
    kind: "opensearch",
    url: "http://fake:9200",
    redact: (s) => s,
    identify: notUsed,
    health: notUsed,
    refresh: notUsed,
    bulk: (ndjson) =>
      Effect.suspend(() => {
      const lines = ndjson.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)
      const ops: Array<Op> = []
      for (let i = 0; i < lines.length; i++) {
        const [action, meta] = Object.entries(lines[i]!)[0] as [string, { _index: string; _id: string }]
        ops.push({ action, index: meta._index, id: meta._id })
        if (action === "index") i++
      }
      calls.push({ ops, bytes: new TextEncoder().encode(ndjson).length })
      const answer = respond(ops, calls.length)
      return answer instanceof Engine.EngineError ? Effect.fail(answer) : Effect.succeed(answer)
      }),
    search: notUsed,
    scroll: notUsed,
    clearScroll: notUsed,
    putIndexTemplate: notUsed,
    getIndexTemplate: notUsed,
    getLegacyTemplate: notUsed,
    updateAliases: notUsed,
    getAliases: notUsed,
    deleteAlias: notUsed,
    ...overrides
  }
  return { engine, calls }
}

const connection = (extra: Partial<Config.GrqConfig> = {}): Config.Connection =>
  Either.getOrThrow(Config.resolve({ url: "http://fake:9200", refresh: "wait_for", maxRetries: 2, ...extra }))

const ok = (ops: ReadonlyArray<Op>): Array<Engine.BulkItem> => ops.map((o) => ({ _index: o.index, _id: o.id, status: 201 }))

const records = (n: number, size = 10): Array<GrqIndex.GrqRecord> =>
  Array.from({ length: n }, (_, i) => ({ index: "grq_v1_t", id: `id-${i}`, doc: { id: `id-${i}`, pad: "x".repeat(size) } }))

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.either(effect))

describe("SearchIndex bulk requests", () => {
  test("split by operation count, in order", async () => {
    const { engine, calls } = scripted(ok)
    const index = SearchIndex.make(engine, connection({ bulkMaxDocs: 500 }))
    expect(Either.isRight(await run(index.bulkIndex(records(1200))))).toBe(true)
    expect(calls.map((c) => c.ops.length)).toEqual([500, 500, 200])
    expect(calls.flatMap((c) => c.ops.map((o) => o.id))).toEqual(records(1200).map((r) => r.id))
  })

  test("split by size; a document larger than the limit goes alone", async () => {
    const { engine, calls } = scripted(ok)
    const index = SearchIndex.make(engine, connection({ bulkMaxBytes: 1000 }))
    const big: GrqIndex.GrqRecord = { index: "grq_v1_t", id: "big", doc: { pad: "y".repeat(5000) } }
    const recs = [...records(20, 100), big, ...records(3, 100)]
    expect(Either.isRight(await run(index.bulkIndex(recs)))).toBe(true)
    for (const c of calls) expect(c.bytes <= 1000 || c.ops.length === 1).toBe(true)
    expect(calls.find((c) => c.ops.some((o) => o.id === "big"))?.ops.length).toBe(1)
    expect(calls.reduce((n, c) => n + c.ops.length, 0)).toBe(24)
  })

  test("items refused with 429 are sent again, alone", async () => {
    const { engine, calls } = scripted((ops, call) =>
      ops.map((o) =>
        call === 1 && o.id === "id-1"
          ? { _index: o.index, _id: o.id, status: 429, error: { type: "es_rejected_execution_exception", reason: "queue full" } }
          : { _index: o.index, _id: o.id, status: 201 }
      )
    )
    const index = SearchIndex.make(engine, connection())
    expect(Either.isRight(await run(index.bulkIndex(records(3))))).toBe(true)
    expect(calls.map((c) => c.ops.map((o) => o.id))).toEqual([["id-0", "id-1", "id-2"], ["id-1"]])
  })

  test("rejections from every chunk are counted; the first is named with its index and reason", async () => {
    const { engine } = scripted((ops) =>
      ops.map((o) =>
        o.id === "id-3" || o.id === "id-7"
          ? {
              _index: o.index,
              _id: o.id,
              status: 400,
              error: { type: "mapper_parsing_exception", reason: "failed to parse field [metadata.q] of type [long]" }
            }
          : { _index: o.index, _id: o.id, status: 201 }
      )
    )
    const index = SearchIndex.make(engine, connection({ bulkMaxDocs: 5 }))
    const result = await run(index.bulkIndex(records(10)))
    const error = Either.getLeft(result).pipe(Option.getOrThrow)
    expect(error.id).toBe("id-3")
    expect(error.message).toBe(
      'GRQ (OpenSearch at http://fake:9200) rejected 2 of 10 document(s); the first is "id-3" in grq_v1_t: ' +
        "mapper_parsing_exception: failed to parse field [metadata.q] of type [long]"
    )
    expect(error.hint).toContain("another type")
  })

  test("a dropped connection is retried (maxRetries), then fails saying what was being done", async () => {
    const { engine, calls } = scripted(() => new Engine.EngineError({ kind: "connection", message: "connect ECONNREFUSED 10.0.0.1:9200" }))
    const index = SearchIndex.make(engine, connection({ maxRetries: 2 }))
    const error = Either.getLeft(await run(index.bulkIndex(records(2)))).pipe(Option.getOrThrow)
    expect(calls.length).toBe(3)
    expect(error.message).toContain("could not index 2 document(s) (2 operation(s)): connect ECONNREFUSED")
    expect(error.hint).toContain("cluster up")
  })

  test("a 400 for the whole request is not retried", async () => {
    const { engine, calls } = scripted(
      () => new Engine.EngineError({ kind: "response", status: 400, type: "illegal_argument_exception", message: "HTTP 400: bad" })
    )
    const index = SearchIndex.make(engine, connection())
    expect(Either.isLeft(await run(index.bulkIndex(records(1))))).toBe(true)
    expect(calls.length).toBe(1)
  })

  test("remove: a missing document or index is done; other item failures are not", async () => {
    const refreshed: Array<ReadonlyArray<string>> = []
    const { engine } = scripted(
      (ops) =>
        ops.map((o): Engine.BulkItem => {
          if (o.id === "gone") return { _index: o.index, _id: o.id, status: 404, result: "not_found" }
          if (o.id === "no-index")
            return { _index: o.index, _id: o.id, status: 404, error: { type: "index_not_found_exception", reason: "no such index" } }
          if (o.id === "blocked")
            return { _index: o.index, _id: o.id, status: 403, error: { type: "cluster_block_exception", reason: "index read-only" } }
          return { _index: o.index, _id: o.id, status: 200, result: "deleted" }
        }),
      { refresh: (indexes) => Effect.sync(() => void refreshed.push(indexes)) }
    )
    const index = SearchIndex.make(engine, connection())
    const refs = (...ids: Array<string>) => ids.map((id) => ({ index: "grq_v1_t", id }))
    expect(Either.isRight(await run(index.remove(refs("gone", "no-index", "there"))))).toBe(true)
    // Visible when remove returns: one refresh of the index, after the deletes.
    expect(refreshed).toEqual([["grq_v1_t"]])
    const error = Either.getLeft(await run(index.remove(refs("there", "blocked")))).pipe(Option.getOrThrow)
    expect(error.id).toBe("blocked")
    expect(error.hint).toContain("read-only")
  })
})

describe("SearchIndex check", () => {
  const cluster = (templates: { composable?: Record<string, unknown>; legacy?: Record<string, unknown> }) =>
    SearchIndex.make(
      scripted(ok, {
        identify: () => Effect.succeed({ distribution: "opensearch", version: "3.8.0" }),
        health: () => Effect.succeed({ status: "yellow", cluster: "c" }),
        getIndexTemplate: () => Effect.succeed(Option.fromNullable(templates.composable)),
        getLegacyTemplate: () => Effect.succeed(Option.fromNullable(templates.legacy))
      }).engine,
      connection()
    )

  test("no template: fails, saying to run grq init", async () => {
    const error = Either.getLeft(await run(cluster({}).check())).pipe(Option.getOrThrow)
    expect(error.message).toContain("index template grq (for grq_*, alias grq) is not installed")
    expect(error.hint).toContain("hysds-stac grq init")
  })

  test("ours, or grq2's legacy one, passes; one without the alias does not", async () => {
    expect(Either.isRight(await run(cluster({ composable: IndexTemplate.body({ geoShape: true }) }).check()))).toBe(true)
    expect(
      Either.isRight(await run(cluster({ legacy: { index_patterns: ["grq_*"], aliases: { grq: {} } } }).check()))
    ).toBe(true)
    const noAlias = { index_patterns: ["grq_*"], template: { mappings: {} } }
    const error = Either.getLeft(await run(cluster({ composable: noAlias }).check())).pipe(Option.getOrThrow)
    expect(error.message).toContain("does not add new indexes to the alias grq")
  })
})

describe("chunk", () => {
  const ops = (...bytes: Array<number>) => bytes.map((b) => ({ bytes: b }))
  test("by count and by size, never empty", () => {
    expect(SearchIndex.chunk(ops(1, 1, 1, 1, 1), 2, 100).map((c) => c.length)).toEqual([2, 2, 1])
    expect(SearchIndex.chunk(ops(40, 40, 40, 200, 10), 100, 100).map((c) => c.length)).toEqual([2, 1, 1, 1])
    expect(SearchIndex.chunk([], 2, 100)).toEqual([])
  })
})

describe("Config", () => {
  test("credentials in the URL are used, and printed redacted", () => {
    const c = connection({ url: "https://grq%40user:p%3Ass@grq.example:9200/" })
    expect(c.node).toBe("https://grq.example:9200")
    expect(c.auth).toEqual({ username: "grq@user", password: "p:ss" })
    expect(c.display).toBe("https://grq%40user:***@grq.example:9200")
  })

  test("redact removes passwords, URL credentials, auth headers and the basic-auth token", () => {
    const c = connection({ url: "http://u:hunter22@h:9200" })
    const token = Buffer.from("u:hunter22").toString("base64")
    const text = `GET http://u:hunter22@h:9200/ failed; Authorization: Basic ${token}; {"authorization":"ApiKey abc123"}; pw hunter22`
    const out = c.redact(text)
    expect(out).not.toContain("hunter22")
    expect(out).not.toContain(token)
    expect(out).not.toContain("abc123")
    expect(out).toContain("http://u:***@h:9200/")
  })

  test("unusable settings are config errors", () => {
    expect(Either.isLeft(Config.resolve({ url: "not a url", refresh: "wait_for" }))).toBe(true)
    expect(Either.isLeft(Config.resolve({ url: "http://h", refresh: "wait_for", bulkMaxDocs: 0 }))).toBe(true)
    expect(Either.isLeft(Config.resolve({ url: "http://h", refresh: "wait_for", username: "u", apiKey: "k" }))).toBe(true)
  })
})
