/**
 * The integration suite both server adapters run against their real server:
 * the shared GrqIndex contract, then what only a real engine can show
 * (its own mapping errors, bulk splitting, the engine check, redaction).
 *
 * Safe on the shared test servers: every index this run makes is under a
 * prefix unique to the run and deleted at the end. The `grq` template that
 * `init` installs is left in place: installing it is idempotent, and other
 * suites (and the CLI) rely on it being there.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Context, Effect, Layer, ManagedRuntime, Option } from "effect"
import { type Errors, GrqIndex } from "@hysds-stac/core"
import { grqIndexContract } from "../contract/GrqIndexContract.ts"
import { unique } from "../contract/Services.ts"
import type { GrqConfig } from "./Config.ts"

export interface ServerSuite {
  /** "OpenSearch" or "Elasticsearch". */
  readonly name: string
  readonly url: string
  /** The other engine's URL, when it runs too. */
  readonly otherUrl: string | undefined
  readonly layer: (config: GrqConfig) => Layer.Layer<GrqIndex.GrqIndex, Errors.ConfigError>
}

/** Deletes the indexes named `<prefix>*`, by name: Elasticsearch 8 refuses wildcard deletes. */
const deleteIndexes = async (url: string, prefix: string): Promise<void> => {
  try {
    const listed = await fetch(`${url}/_cat/indices/${prefix}*?format=json&h=index&expand_wildcards=all`)
    if (!listed.ok) return
    const names = ((await listed.json()) as Array<{ index: string }>).map((i) => i.index)
    if (names.length > 0) await fetch(`${url}/${names.join(",")}`, { method: "DELETE" })
  } catch (e) {
    console.warn(`could not delete the test indexes ${prefix}* at ${url}: ${String(e)}`)
  }
}

export const serverSuite = (suite: ServerSuite): void => {
  const prefix = unique(`grq_test_${suite.name.toLowerCase()}`)
  const config = (extra: Partial<GrqConfig> = {}): GrqConfig => ({ url: suite.url, refresh: "wait_for", ...extra })
  /** The adapter, with the template installed (as `hysds-stac grq init` would) when first built. */
  const initialised = (extra: Partial<GrqConfig> = {}) =>
    Layer.tap(suite.layer(config(extra)), (ctx) => Context.get(ctx, GrqIndex.GrqIndex).init())

  afterAll(() => deleteIndexes(suite.url, prefix))

  grqIndexContract(suite.name, () => initialised(), { indexPrefix: `${prefix}_contract` })

  describe(`${suite.name}Index on a real server`, () => {
    let runtime: ManagedRuntime.ManagedRuntime<GrqIndex.GrqIndex, unknown>
    beforeAll(() => {
      runtime = ManagedRuntime.make(initialised())
    })
    afterAll(() => runtime.dispose())
    const exec = <A, E>(f: (g: GrqIndex.GrqIndexShape) => Effect.Effect<A, E>): Promise<A> =>
      runtime.runPromise(Effect.flatMap(GrqIndex.GrqIndex, f))
    const failure = <A>(f: (g: GrqIndex.GrqIndexShape) => Effect.Effect<A, Errors.IndexError>) =>
      runtime.runPromise(Effect.flip(Effect.flatMap(GrqIndex.GrqIndex, f)))
    /** One-off use of an adapter with its own config; never initialised. */
    const once = <A, E>(extra: Partial<GrqConfig>, f: (g: GrqIndex.GrqIndexShape) => Effect.Effect<A, E>) =>
      Effect.runPromise(Effect.flip(Effect.flatMap(GrqIndex.GrqIndex, f)).pipe(Effect.provide(suite.layer(config(extra)))))
    const doc = (index: string, id: string, extra: Record<string, unknown> = {}): GrqIndex.GrqRecord => ({
      index,
      id,
      doc: { id, objectid: id, dataset: "grq-test", system_version: "v1", ...extra }
    })

    test("init is repeatable and check then passes", async () => {
      await exec((g) => g.init())
      await exec((g) => g.check())
    }, 30_000)

    test("a typical HySDS product document fits the template (geometry, center, dates, free metadata)", async () => {
      const id = unique("S1-IW-SLC")
      const product = doc(`${prefix}_v2.0_slc`, id, {
        dataset: "S1-IW-SLC",
        dataset_type: "slc",
        dataset_level: "L1",
        version: "v2.0",
        ipath: "hysds::data/S1-IW-SLC",
        label: "S1A IW SLC",
        location: {
          type: "Polygon",
          coordinates: [[[-118.5, 34.0], [-117.5, 34.0], [-117.5, 35.0], [-118.5, 35.0], [-118.5, 34.0]]]
        },
        center: { type: "Point", coordinates: [-118.0, 34.5] },
        starttime: "2020-01-01T00:00:00.123456Z",
        endtime: "2020-01-01T00:00:24Z",
        creation_timestamp: "2020-01-02T03:04:05.678Z",
        "@timestamp": new Date().toISOString(),
        temporal_span: 0,
        urls: ["s3://bucket/products/x", "https://example.com/products/x"],
        browse_urls: [],
        images: [{ img: "x.browse.png", small_img: "x.browse_small.png", tooltip: "browse" }],
        prov: {},
        metadata: { platform: "Sentinel-1A", orbit: 12345, context: { anything: [1, "two", { three: null }] } }
      })
      await exec((g) => g.bulkIndex([product]))
      expect(Option.getOrThrow(await exec((g) => g.find(id))).doc).toEqual(product.doc)
    }, 30_000)

    test("a number then an object in metadata.quality: rejected naming the document, the others written", async () => {
      const index = `${prefix}_conflict`
      const first = doc(index, unique("number"), { metadata: { quality: 1 } })
      const ok = doc(index, unique("ok"), { metadata: { quality: 2 } })
      const bad = doc(index, unique("object"), { metadata: { quality: { score: 3 } } })
      await exec((g) => g.bulkIndex([first]))
      const error = await failure((g) => g.bulkIndex([ok, bad]))
      expect(error._tag).toBe("IndexError")
      expect(error.id).toBe(bad.id)
      expect(error.message).toContain(`rejected 1 of 2 document(s); the first is "${bad.id}" in ${index}`)
      // ES 8 says document_parsing_exception, OpenSearch mapper_parsing_exception; both name the field.
      expect(error.message).toMatch(/(mapper|document)_parsing_exception: .*failed to parse field \[metadata\.quality\] of type \[long\]/)
      expect(error.hint).toContain("another type")
      expect(Option.isSome(await exec((g) => g.find(ok.id)))).toBe(true)
      expect(Option.isNone(await exec((g) => g.find(bad.id)))).toBe(true)
    }, 30_000)

    test("bulk requests are split by count and size; every document is written, listed and removed", async () => {
      const dataset = unique("split")
      const records = Array.from({ length: 1200 }, (_, i) =>
        doc(`${prefix}_split_${i % 2}`, `${dataset}-${String(i).padStart(4, "0")}`, { dataset, metadata: { n: i } })
      )
      const small = { bulkMaxDocs: 500, bulkMaxBytes: 48 * 1024 }
      const written = await Effect.runPromise(
        Effect.flatMap(GrqIndex.GrqIndex, (g) => Effect.zipRight(g.bulkIndex(records), g.list({ dataset }))).pipe(
          Effect.provide(suite.layer(config(small)))
        )
      )
      expect(written.length).toBe(1200)
      expect(written.map((r) => r.id)).toEqual(records.map((r) => r.id))
      expect(written[7]).toEqual({ index: records[7]!.index, id: records[7]!.id, doc: records[7]!.doc })
      expect(Option.getOrThrow(await exec((g) => g.find(records[1199]!.id))).index).toBe(`${prefix}_split_1`)
      await Effect.runPromise(
        Effect.flatMap(GrqIndex.GrqIndex, (g) => g.remove(records)).pipe(Effect.provide(suite.layer(config(small))))
      )
      expect(await exec((g) => g.list({ dataset }))).toEqual([])
    }, 120_000)

    test("find answers with the first index by name when several under the alias hold the id", async () => {
      const id = unique("twice")
      await exec((g) => g.bulkIndex([doc(`${prefix}_v2`, id), doc(`${prefix}_v1`, id)]))
      expect(Option.getOrThrow(await exec((g) => g.find(id))).index).toBe(`${prefix}_v1`)
    }, 30_000)

    test("documents outside grq_* are written but not under the alias", async () => {
      const index = `x${prefix}_outside`
      const id = unique("outside")
      try {
        await exec((g) => g.bulkIndex([doc(index, id)]))
        expect(Option.isNone(await exec((g) => g.find(id)))).toBe(true)
      } finally {
        await deleteIndexes(suite.url, index)
      }
    }, 30_000)

    test("an index name the server refuses is reported with its reason", async () => {
      const error = await failure((g) => g.bulkIndex([doc(`${prefix}_UPPER`, unique("upper"))]))
      expect(error.message).toContain("invalid_index_name_exception")
      expect(error.message).toContain("must be lowercase")
    }, 30_000)

    test("check fails clearly on a closed port", async () => {
      const error = await once({ url: "http://127.0.0.1:9", maxRetries: 1 }, (g) => g.check())
      expect(error._tag).toBe("IndexError")
      expect(error.message).toContain("http://127.0.0.1:9")
      expect(error.message).toContain("ECONNREFUSED")
      expect(error.hint).toContain("cluster up")
    }, 30_000)

    test("credentials never appear in errors", async () => {
      const inUrl = await once({ url: "http://grquser:secret@127.0.0.1:9", maxRetries: 0 }, (g) => g.check())
      const asFields = await once(
        { url: "http://127.0.0.1:9", username: "grquser", password: "hunter22", maxRetries: 0 },
        (g) => g.bulkIndex([doc(`${prefix}_x`, "x")])
      )
      const withKey = await once({ url: "http://127.0.0.1:9", apiKey: "c2VjcmV0a2V5", maxRetries: 0 }, (g) => g.find("x"))
      for (const [error, secrets] of [
        [inUrl, ["secret", Buffer.from("grquser:secret").toString("base64")]],
        [asFields, ["hunter22"]],
        [withKey, ["c2VjcmV0a2V5"]]
      ] as const) {
        const everything = `${error.message} ${error.hint} ${JSON.stringify(error)} ${String(error)} ${JSON.stringify(error.cause)}`
        for (const s of secrets) expect(everything).not.toContain(s)
      }
      expect(inUrl.message).toContain("http://grquser:***@127.0.0.1:9")
    }, 30_000)

    if (suite.otherUrl !== undefined) {
      const otherUrl = suite.otherUrl
      test(`check fails clearly on the other engine's URL`, async () => {
        const error = await once({ url: otherUrl, maxRetries: 0 }, (g) => g.check())
        expect(error._tag).toBe("IndexError")
        expect(error.message).toContain(`configured as ${suite.name}`)
        expect(error.message).toContain(otherUrl)
        expect(error.message).toMatch(suite.name === "OpenSearch" ? /is Elasticsearch/ : /is not Elasticsearch/)
        expect(error.hint).toContain("GRQ_ES_ENGINE")
      }, 30_000)
    } else {
      test.skip(`check on the other engine's URL (its server is not running)`, () => {})
    }

    test("a bad config fails the layer", async () => {
      const error = await Effect.runPromise(
        Effect.flip(Layer.build(suite.layer(config({ url: "ftp://user:secret@host/" }))).pipe(Effect.scoped))
      )
      expect(error._tag).toBe("ConfigError")
      expect(error.message).not.toContain("secret")
    })
  })
}
