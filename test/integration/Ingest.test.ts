/**
 * `hysds-stac ingest` of the (renamed) example mixed job into REAL servers:
 * SeaweedFS S3, GRQ on OpenSearch (then on Elasticsearch), STAC-FastAPI on
 * pgstac (then stac-fastapi-opensearch as the registry). What landed is read back from the servers themselves: objects and
 * their bytes through the S3 API, documents through the cluster's REST API
 * (under the alias `grq`), the collection and items through the STAC API.
 * Then HySDS's dedup: a re-ingest fails with "already exists" and changes
 * nothing; `--force` publishes again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SQL } from "bun"
import * as fs from "node:fs"
import * as path from "node:path"
import {
  EXIT,
  type Engine,
  type Registry,
  type Fixture,
  type Job,
  describeRun,
  expectExit,
  fixture,
  grqAliasIndexes,
  grqDocs,
  grqState,
  ingest,
  isLeftover,
  mixedJob,
  parseJson,
  readObject,
  s3State,
  services,
  registryState,
  stacGet,
  stacState,
  tag,
  tempDir
} from "./Real.ts"

const svc = services()
const TIMEOUT = 180_000

/** A classic product as published: its files and the job's _context.json as <id>.context.json. */
const AOI_FILES = ["browse.png", "browse_small.png", "context.json", "dataset.json", "h5", "met.json"]

/** Every object the mixed job publishes, as `bucket/key`. */
const expectedKeys = (fx: Fixture, job: Job) => {
  const [aoi, ifg] = job.products as [string, string]
  const catalog = `${fx.buckets.catalogs}/catalogs/${job.catalog}`
  return [
    `${catalog}/catalog.json`,
    `${catalog}/${job.collection}/collection.json`,
    ...job.items.flatMap((i) => [`${catalog}/${job.collection}/items/${i}/${i}.json`, `${catalog}/${job.collection}/items/${i}/data.tif`, `${catalog}/${job.collection}/items/${i}/thumb.png`]),
    ...AOI_FILES.map((s) => `${fx.buckets.products}/products/area_of_interest/v1.0/${aoi}/${aoi}.${s}`),
    // Only the small image goes to the browse location, as HySDS does.
    `${fx.buckets.browse}/browse/area_of_interest/v1.0/${aoi}/${aoi}.browse_small.png`,
    ...AOI_FILES.map((s) => `${fx.buckets.products}/products/S1-IFG/2024/01/15/${ifg}/${ifg}.${s}`),
    // HySDS's publish context stays at each publish location after a success.
    ...[catalog, `${fx.buckets.products}/products/area_of_interest/v1.0/${aoi}`, `${fx.buckets.products}/products/S1-IFG/2024/01/15/${ifg}`].map((d) => `${d}/_publish.context.json`)
  ].sort()
}

type Link = { rel: string; href: string }

/** The links of a collection as pgstac stores it (its API answers with links of its own making). */
const storedCollectionLinks = async (env: NonNullable<typeof svc>, id: string): Promise<Array<Link>> => {
  const sql = new SQL({ hostname: env.PGHOST, port: Number(env.PGPORT), username: env.PGUSER, password: env.PGPASSWORD, database: env.PGDATABASE })
  try {
    const rows: Array<{ links: Array<Link> | null }> = await sql`SELECT content->'links' AS links FROM pgstac.collections WHERE id = ${id}`
    expect(rows).toHaveLength(1)
    return rows[0]!.links ?? []
  } finally {
    await sql.close()
  }
}

const suite = (engine: Engine, grqUrl: string | undefined, registry: Registry = "pgstac") => {
  let fx: Fixture
  let job: Job
  let state: string
  /** Where the catalog is published: every href of its objects is under it. */
  let base: string
  let published: Awaited<ReturnType<typeof world>>

  const world = async () => ({
    s3: await s3State(fx.client, fx.buckets),
    grq: await grqDocs(fx.grqUrl, job.docIds),
    stac: await registryState(fx, [job.collection])
  })

  beforeAll(async () => {
    fx = await fixture(svc!, engine, grqUrl!, `ingest-${engine}-${registry}`, registry)
    job = fx.track(mixedJob(tag()))
    state = tempDir("state")
    base = `https://${fx.dataUrl}/catalogs/${job.catalog}`
  }, TIMEOUT)

  afterAll(async () => {
    await fx?.cleanup()
    if (state) fs.rmSync(state, { recursive: true, force: true })
  }, TIMEOUT)

  test("publishes every object to S3 under the expected keys, and nothing else", async () => {
    const r = expectExit(await ingest(job, state, fx.env()), EXIT.ok)
    const out = parseJson(r.stdout)
    expect(out.ok).toBe(true)
    expect(out.totals).toMatchObject({ products: 3, collections: 1, items: 3, documents: 5 })
    const objects = await s3State(fx.client, fx.buckets)
    expect(objects.map(([k]) => k)).toEqual(expectedKeys(fx, job))
    expect(objects.filter(([k]) => isLeftover(k))).toEqual([])
    // The bytes are the job's own files (the STAC JSON is rewritten; everything else is copied as is).
    const [aoi] = job.products as [string]
    const h5 = objects.find(([k]) => k.endsWith(`${aoi}.h5`))!
    expect(h5[1]).toBe(new Bun.CryptoHasher("sha256").update(fs.readFileSync(path.join(job.dir, aoi, `${aoi}.h5`))).digest("hex"))
  }, TIMEOUT)

  test("the published catalog, collection and items have absolute https hrefs under STAC_DATA_URL and a self link each", async () => {
    const keyOf = (href: string) => `catalogs/${job.catalog}/${href.slice(base.length + 1)}`
    const read = async (rel: string) =>
      JSON.parse(new TextDecoder().decode(await readObject(fx.client, fx.buckets.catalogs, `catalogs/${job.catalog}/${rel}`)))
    const docs: Record<string, any> = {
      "catalog.json": await read("catalog.json"),
      [`${job.collection}/collection.json`]: await read(`${job.collection}/collection.json`)
    }
    for (const i of job.items) docs[`${job.collection}/items/${i}/${i}.json`] = await read(`${job.collection}/items/${i}/${i}.json`)
    const keys = new Set((await s3State(fx.client, fx.buckets)).map(([k]) => k.slice(fx.buckets.catalogs.length + 1)))
    for (const [rel, doc] of Object.entries(docs)) {
      const links = doc.links as Array<Link>
      const selfs = links.filter((l) => l.rel === "self")
      expect({ rel, self: selfs.map((l) => l.href) }).toEqual({ rel, self: [`${base}/${rel}`] })
      for (const l of links) {
        expect({ rel, link: l.rel, href: l.href.startsWith(`${base}/`) }).toEqual({ rel, link: l.rel, href: true })
        expect({ rel, target: keys.has(keyOf(l.href)) }).toEqual({ rel, target: true })
      }
      for (const [name, asset] of Object.entries((doc.assets ?? {}) as Record<string, { href: string }>)) {
        // Relative hrefs were rewritten to the published URL; an external https one is kept.
        expect({ rel, name, absolute: /^https:\/\//.test(asset.href) }).toEqual({ rel, name, absolute: true })
        if (name === "metadata") expect(asset.href).toStartWith("https://archive.example.com/")
        else {
          expect(asset.href).toStartWith(`${base}/`)
          expect({ rel, name, stored: keys.has(keyOf(asset.href)) }).toEqual({ rel, name, stored: true })
        }
      }
    }
    expect(docs["catalog.json"].id).toBe(job.catalog)
    expect(docs[`${job.collection}/collection.json`].id).toBe(job.collection)
  }, TIMEOUT)

  test(`indexes 2 classic and 3 item documents in ${engine} under the alias grq, in the expected indexes`, async () => {
    const [aoi, ifg] = job.products as [string, string]
    const docs = await grqDocs(fx.grqUrl, job.docIds, "grq")
    expect(docs.map((d) => [d.id, d.index])).toEqual(
      [
        [aoi, "grq_v1.0_area_of_interest"],
        [ifg, "grq_s1-ifg_v2.0"],
        ...job.items.map((i) => [i, "grq_stac_catalog_catalog"])
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1))
    )
    const aliased = await grqAliasIndexes(fx.grqUrl)
    for (const index of ["grq_v1.0_area_of_interest", "grq_s1-ifg_v2.0", "grq_stac_catalog_catalog"]) expect(aliased).toContain(index)
    const byId = new Map(docs.map((d) => [d.id, d.doc]))
    expect(byId.get(aoi)).toMatchObject({
      id: aoi,
      dataset: "area_of_interest",
      system_version: "v1.0",
      metadata: { aoi_name: "Etna", priority: 3 },
      urls: [`https://${fx.buckets.products}.s3.amazonaws.com/products/area_of_interest/v1.0/${aoi}`],
      browse_urls: [`https://${fx.buckets.browse}.s3.amazonaws.com/browse/area_of_interest/v1.0/${aoi}`]
    })
    expect(byId.get(ifg)).toMatchObject({ id: ifg, dataset: "S1-IFG", system_version: "v2.0", metadata: { track: 124, perpendicular_baseline: 42.5 } })
    for (const i of job.items) {
      const doc = byId.get(i) as any
      expect(doc).toMatchObject({ id: i, dataset: "catalog", stac_collection: job.collection, stac_item_id: i })
      expect(doc.metadata.assets.data.href).toBe(`${base}/${job.collection}/items/${i}/data.tif`)
      expect(doc["@timestamp"]).toMatch(/Z$/)
    }
    expect(docs.filter((d) => d.doc.dataset !== "catalog")).toHaveLength(2)
  }, TIMEOUT)

  test("STAC-FastAPI serves the collection and its 3 items, with canonical links to the published JSON", async () => {
    const served = (await stacState(fx.stacUrl, [job.collection]))[job.collection]!
    const collection = served.collection as { id: string; links: Array<Link> }
    expect(collection.id).toBe(job.collection)
    expect(collection.links.filter((l) => l.rel === "canonical").map((l) => l.href)).toEqual([`${base}/${job.collection}/collection.json`])
    // The API serves the items itself; the published collection.json keeps a link to each. Both
    // servers leave item links out of what they answer, so pgstac's stored row is what shows it.
    const fromS3 = JSON.parse(new TextDecoder().decode(await readObject(fx.client, fx.buckets.catalogs, `catalogs/${job.catalog}/${job.collection}/collection.json`)))
    expect((fromS3.links as Array<Link>).filter((l) => l.rel === "item")).toHaveLength(job.items.length)
    if (registry === "pgstac") {
      const stored = await storedCollectionLinks(svc!, job.collection)
      expect(stored.map((l) => l.rel)).toContain("canonical")
      expect(stored.filter((l) => l.rel === "item")).toEqual([])
    }
    expect(served.items.map((i) => i.id)).toEqual([...job.items])
    for (const item of served.items) {
      const rel = `${job.collection}/items/${item.id}/${item.id}.json`
      expect((item.links as Array<Link>).filter((l) => l.rel === "canonical").map((l) => l.href)).toEqual([`${base}/${rel}`])
      const fromS3 = JSON.parse(new TextDecoder().decode(await readObject(fx.client, fx.buckets.catalogs, `catalogs/${job.catalog}/${rel}`)))
      expect(item.collection).toBe(job.collection)
      expect(item.assets).toEqual(fromS3.assets)
      expect(item.geometry).toEqual(fromS3.geometry)
      expect(item.properties).toMatchObject(fromS3.properties)
      // And one by one, as a client would ask.
      expect((await stacGet(fx.stacUrl, `collections/${job.collection}/items/${item.id}`)).status).toBe(200)
    }
    published = await world()
  }, TIMEOUT)

  test("a re-ingest fails with exit 5 \"already exists\" and changes nothing", async () => {
    expect(published).toBeDefined()
    const r = await ingest(job, state, fx.env())
    if (r.exitCode !== EXIT.conflict) throw new Error(describeRun(r))
    expect(parseJson(r.stdout).error.message).toContain("already exists")
    // Everything as it was, the ingest time of the documents included.
    expect(await world()).toEqual(published)
  }, TIMEOUT)

  test("--force publishes again: exit 0, the same objects, documents and items, no leftovers", async () => {
    expect(published).toBeDefined()
    expectExit(await ingest(job, state, fx.env(), ["--force"]), EXIT.ok)
    const again = await world()
    expect(again.s3).toEqual(published.s3)
    expect(again.stac).toEqual(published.stac)
    expect(await grqState(fx.grqUrl, job.docIds)).toEqual(
      published.grq.map(({ index, id, doc }) => {
        const { "@timestamp": _, ...rest } = doc
        return { index, id, doc: rest }
      })
    )
  }, TIMEOUT)
}

describe.skipIf(!svc)("ingest into S3 + OpenSearch + STAC-FastAPI", () => {
  suite("opensearch", svc?.OPENSEARCH_URL)
})

if (svc && !svc.ELASTICSEARCH_URL) console.warn("Elasticsearch ingest tests skipped: services.env has no ELASTICSEARCH_URL")
describe.skipIf(!svc?.ELASTICSEARCH_URL)("ingest into S3 + Elasticsearch + STAC-FastAPI (GRQ_ES_ENGINE=elasticsearch)", () => {
  suite("elasticsearch", svc?.ELASTICSEARCH_URL)
})

describe.skipIf(!svc)("ingest into S3 + OpenSearch + stac-fastapi-opensearch (the second STAC registry)", () => {
  suite("opensearch", svc?.OPENSEARCH_URL, "sfeos")
})
