/**
 * Parity with HySDS: the GRQ documents and `_datasets.json` an ingest writes,
 * field by field against what HySDS 3.3 + grq2 make of the same job
 * (ParityJob.ts, derived by hand from their rules), on the embedded index and
 * on the real OpenSearch and Elasticsearch of test/services. Documents on the
 * servers are read back through their REST API, not through hysds-stac.
 *
 * Also: an entry's `index.aliases` are aliases of its index on each backend,
 * and a rolled-back ingest removes the aliases it added and no other.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { BunContext } from "@effect/platform-bun"
import { Embedded, ElasticsearchIndex, OpenSearchIndex } from "@hysds-stac/adapters"
import { GrqIndex, Ingest, Journal, Progress, PyJson } from "@hysds-stac/core"
import { Effect, Exit, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { services } from "../../packages/adapters/src/contract/Services.ts"
import { deleteGrqDocs, grqDocs, tag } from "../integration/Real.ts"
import { parityJob, secondIfgJob } from "./ParityJob.ts"

const T = 240_000
const env = services()

type Json = Record<string, unknown>

interface Backend {
  readonly name: string
  /** The GrqIndex layer, or none for the embedded one. */
  readonly grq?: Layer.Layer<GrqIndex.GrqIndex, unknown>
  readonly url?: string
}

const backends: Array<Backend> = [{ name: "embedded" }]
if (env?.["OPENSEARCH_URL"]) {
  backends.push({ name: "OpenSearch", url: env["OPENSEARCH_URL"], grq: OpenSearchIndex.layer({ url: env["OPENSEARCH_URL"], refresh: "wait_for" }) })
}
if (env?.["ELASTICSEARCH_URL"]) {
  backends.push({
    name: "Elasticsearch",
    url: env["ELASTICSEARCH_URL"],
    grq: ElasticsearchIndex.layer({ url: env["ELASTICSEARCH_URL"], refresh: "wait_for" })
  })
}
if (env !== undefined && backends.length < 3 && process.env.HYSDS_STAC_REQUIRE_SERVICES === "1") {
  test("OpenSearch and Elasticsearch are among the running test services", () => {
    expect(backends.map((b) => b.name)).toEqual(["embedded", "OpenSearch", "Elasticsearch"])
  })
}

const layers = (backend: Backend, stateDir: string) =>
  backend.grq ? Layer.merge(Embedded.layer({ stateDir }), backend.grq) : Embedded.layer({ stateDir })

const run = <A, E>(backend: Backend, stateDir: string, effect: Effect.Effect<A, E, GrqIndex.GrqIndex>) =>
  Effect.runPromise(effect.pipe(Effect.provide(layers(backend, stateDir))) as Effect.Effect<A, E>)

const ingest = (backend: Backend, stateDir: string, jobDir: string, datasetsFile: string, progress = Progress.Progress.none) =>
  Effect.runPromiseExit(
    Ingest.run({
      jobDir,
      datasetsFile,
      force: false,
      dryRun: false,
      stac: true,
      concurrency: 4,
      batchSize: 500,
      hostname: "parity-host",
      env: {}
    }).pipe(Effect.provide(Layer.mergeAll(layers(backend, stateDir), Journal.memory([]), progress, BunContext.layer)))
  )

/** The stored documents, read from the server's REST API (embedded: through the port). */
const storedDocs = async (backend: Backend, stateDir: string, ids: ReadonlyArray<string>) => {
  if (backend.url) return grqDocs(backend.url, ids)
  const found = await run(backend, stateDir, Effect.forEach(ids, (id) => Effect.flatMap(GrqIndex.GrqIndex, (g) => g.find(id))))
  return found.flatMap((o) => (Option.isSome(o) ? [{ index: o.value.index, id: o.value.id, doc: o.value.doc as Json }] : []))
}

/** The aliases of an index, from the server's REST API (embedded: through the port). */
const aliasesOf = async (backend: Backend, stateDir: string, index: string): Promise<Array<string>> => {
  if (backend.url) {
    const r = await fetch(`${backend.url}/${index}/_alias`)
    if (r.status === 404) return []
    const body = (await r.json()) as Record<string, { aliases: Record<string, unknown> }>
    return Object.keys(body[index]?.aliases ?? {}).sort()
  }
  return [...(await run(backend, stateDir, Effect.flatMap(GrqIndex.GrqIndex, (g) => g.aliasesOf(index))))].sort()
}

for (const backend of backends) {
  describe(`HySDS parity of GRQ documents and _datasets.json: ${backend.name}`, () => {
    const t = tag()
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "hysds-stac-parity-"))
    const stateDir = path.join(root, "state")
    const job = parityJob(root, t)
    const ids = [job.ids.aoi, job.ids.multi, job.ids.ifg]
    let second: ReturnType<typeof secondIfgJob> | undefined
    let third: ReturnType<typeof secondIfgJob> | undefined
    const newIndex = `${job.customIndex}_new`

    beforeAll(async () => {
      if (backend.grq) await run(backend, stateDir, Effect.flatMap(GrqIndex.GrqIndex, (g) => g.init()))
      const exit = await ingest(backend, stateDir, job.dir, job.datasets)
      if (Exit.isFailure(exit)) throw new Error(`the parity job did not ingest: ${JSON.stringify(exit.cause)}`)
    }, T)

    afterAll(async () => {
      if (backend.url) {
        await deleteGrqDocs(backend.url, [...ids, ...(second ? [second.id] : []), ...(third ? [third.id] : [])])
        await fetch(`${backend.url}/${job.customIndex}`, { method: "DELETE" })
        await fetch(`${backend.url}/${newIndex}`, { method: "DELETE" })
      }
      fs.rmSync(root, { recursive: true, force: true })
    }, T)

    test("each stored document is HySDS's, field by field", async () => {
      const docs = await storedDocs(backend, stateDir, ids)
      expect(docs.map((d) => d.id).sort()).toEqual([...ids].sort())
      for (const expected of job.stored) {
        const got = docs.find((d) => d.id === expected.id)!
        expect(got.index).toBe(expected.index)
        const { "@timestamp": stamp, center, ...rest } = got.doc
        // Every field but the ingest time and the computed centre, exactly.
        expect(rest).toEqual(expected.doc)
        expect(stamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
        expect(Math.abs(Date.parse(String(stamp)) - Date.now())).toBeLessThan(3_600_000)
        const c = center as { type: string; coordinates: [number, number] }
        expect(c.type).toBe("point")
        expect(Math.abs(c.coordinates[0] - expected.center[0])).toBeLessThan(1e-6)
        expect(Math.abs(c.coordinates[1] - expected.center[1])).toBeLessThan(1e-6)
      }
    })

    test("images hold basenames ordered by browse.sort_order; no browse: images and browse_urls empty", async () => {
      const docs = await storedDocs(backend, stateDir, ids)
      const aoi = docs.find((d) => d.id === job.ids.aoi)!.doc
      expect((aoi.images as Array<Json>).map((i) => i.img)).toEqual([
        `${job.ids.aoi}.ifg.browse.png`,
        `${job.ids.aoi}.coh.browse.png`,
        `${job.ids.aoi}.browse.png`
      ])
      expect((aoi.images as Array<Json>)[0]!.small_img).toBeNull()
      const multi = docs.find((d) => d.id === job.ids.multi)!.doc
      expect(multi.images).toEqual([])
      expect(multi.browse_urls).toEqual([])
    })

    test("_datasets.json: HySDS's update_json per product in walk order, keys sorted, as Python's json.dump writes it", () => {
      const text = fs.readFileSync(path.join(job.dir, "_datasets.json"), "utf8")
      expect(JSON.parse(text)).toEqual(job.updates)
      // Python's rendering: a float stays a float, non-ASCII escaped, no final newline, sorted keys.
      expect(text).toContain('"ratio": 1.0\n')
      expect(text).toContain('"name": "Montr\\u00e9al"')
      expect(text.endsWith("]")).toBe(true)
      expect(text).toBe(PyJson.dump(PyJson.parse(text)))
      expect(text).not.toContain("@timestamp")
      expect(text).not.toContain('"center"')
    })

    test("index.aliases are aliases of the custom index", async () => {
      const aliases = await aliasesOf(backend, stateDir, job.customIndex)
      for (const a of job.aliases) expect(aliases).toContain(a)
    })

    test(
      "a rolled-back ingest removes the alias it added and keeps those that were there",
      async () => {
        const extra = `parity_${t}_extra`
        second = secondIfgJob(root, t, [...job.aliases, extra])
        const before = await aliasesOf(backend, stateDir, job.customIndex)
        expect(before).not.toContain(extra)
        // A directory where _datasets.json must go, made once planning is done: the last step fails.
        const late = Layer.succeed(Progress.Progress, {
          emit: (e) => (e._tag === "Planned" ? Effect.sync(() => fs.mkdirSync(path.join(second!.dir, "_datasets.json"))) : Effect.void)
        })
        const exit = await ingest(backend, stateDir, second.dir, second.datasets, late)
        expect(Exit.isFailure(exit)).toBe(true)
        expect(await aliasesOf(backend, stateDir, job.customIndex)).toEqual(before)
        expect(await storedDocs(backend, stateDir, [second.id])).toEqual([])
        // Without the failure the same ingest adds it.
        fs.rmdirSync(path.join(second.dir, "_datasets.json"))
        const ok = await ingest(backend, stateDir, second.dir, second.datasets)
        expect(Exit.isSuccess(ok)).toBe(true)
        expect(await aliasesOf(backend, stateDir, job.customIndex)).toContain(extra)
      },
      T
    )

    test(
      "a rolled-back ingest that created the index leaves it under the alias grq, without the aliases it added",
      async () => {
        const extra = `parity_${t}_new_extra`
        third = secondIfgJob(root, t, ["grq", extra], 3, `parity_${t}_new`)
        expect(await aliasesOf(backend, stateDir, newIndex)).toEqual([])
        const late = Layer.succeed(Progress.Progress, {
          emit: (e) => (e._tag === "Planned" ? Effect.sync(() => fs.mkdirSync(path.join(third!.dir, "_datasets.json"))) : Effect.void)
        })
        expect(Exit.isFailure(await ingest(backend, stateDir, third.dir, third.datasets, late))).toBe(true)
        expect(await storedDocs(backend, stateDir, [third.id])).toEqual([])
        // The index stays (as an index's mappings do); it keeps GRQ's alias, so what it holds later is found.
        expect(await aliasesOf(backend, stateDir, newIndex)).toEqual(["grq"])
      },
      T
    )
  })
}
