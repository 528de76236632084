/**
 * End-to-end: `hysds-stac ingest` on copies of the examples, into the embedded
 * default state dir, checked through the CLI's output and the state itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import {
  DATASETS,
  EMPTY_SUMMARY,
  EXIT,
  TIMEOUT,
  type CliResult,
  type Json,
  type Sandbox,
  type Snapshot,
  describeRun,
  emptyDirsBelowBuckets,
  dirTree,
  hashTree,
  ingest,
  leftovers,
  parseJson,
  progressUndoneSteps,
  readJson,
  reportedUndoneSteps,
  sandbox,
  snapshot,
  collect,
  spawnCli,
  storeDir,
  strictlyDecreasing,
  summary,
  withoutIngestTime
} from "../support/State.ts"

const CATALOG = "stac_catalog_20240115_etna"
const BASE = `https://stac-data.example.com/catalogs/${CATALOG}`
const CATALOG_STORE = `s3/hysds-stac-catalogs/catalogs/${CATALOG}`
const AOI = "AOI_volcano_etna"
const IFG = "S1-IFG_RM_20240115T103000_20240116T103000_etna"
const SLC = "S1-SLC_20240101T000000_input"
const ITEMS = ["etna-scene-001", "etna-scene-002", "etna-scene-003"]
const AOI_STORE = `s3/hysds-products/products/area_of_interest/v1.0/${AOI}`
const AOI_BROWSE_STORE = `s3/hysds-browse/browse/area_of_interest/v1.0/${AOI}`
const IFG_STORE = `s3/hysds-products/products/S1-IFG/2024/01/15/${IFG}`
const PROV = { wasGeneratedBy: "task-mixed-job" }

/** Everything the mixed-job publishes, relative to store/. */
const MIXED_STORE_FILES = [
  `${CATALOG_STORE}/catalog.json`,
  `${CATALOG_STORE}/etna-scenes/collection.json`,
  ...ITEMS.flatMap((i) => [`${CATALOG_STORE}/etna-scenes/items/${i}/data.tif`, `${CATALOG_STORE}/etna-scenes/items/${i}/${i}.json`, `${CATALOG_STORE}/etna-scenes/items/${i}/thumb.png`]),
  // Each classic product with the job's _context.json as <id>.context.json; only the small image at the browse location (as HySDS).
  ...["browse.png", "browse_small.png", "context.json", "dataset.json", "h5", "met.json"].map((s) => `${AOI_STORE}/${AOI}.${s}`),
  `${AOI_BROWSE_STORE}/${AOI}.browse_small.png`,
  // HySDS's publish context stays at each publish location after a success.
  ...[CATALOG_STORE, AOI_STORE, IFG_STORE].map((d) => `${d}/_publish.context.json`),
  ...["browse.png", "browse_small.png", "context.json", "dataset.json", "h5", "met.json"].map((s) => `${IFG_STORE}/${IFG}.${s}`)
].sort()

const expectRun = (r: CliResult, code: number) => {
  if (r.exitCode !== code) throw new Error(`expected exit ${code}\n${describeRun(r)}`)
}

const fileMap = (s: Snapshot) => new Map(s.files)

/** Joins a relative href to the directory of `fromRel` (both relative to the catalog dir). */
const resolveRel = (fromRel: string, href: string): string => path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), href))

// ---------------------------------------------------------------------------

describe("ingest of mixed-job (1 STAC catalog, 2 classic products, 1 localized input)", () => {
  let sb: Sandbox
  let job: string
  let jobBefore: Array<readonly [string, string]>
  let run: CliResult
  let state: Snapshot

  beforeAll(async () => {
    sb = sandbox("mixed")
    job = sb.copyExample("mixed-job")
    jobBefore = hashTree(job)
    run = await ingest(job, sb.stateDir, ["--json"])
    state = await snapshot(sb.stateDir)
  }, TIMEOUT)
  afterAll(() => sb.cleanup())

  test("exits 0 and --json reports 3 products (1 stac, 2 classic), 3 items, the localized input skipped", () => {
    expectRun(run, EXIT.ok)
    const result = parseJson(run)
    expect(result.ok).toBe(true)
    expect(result.dryRun).toBe(false)
    expect(result.jobDir).toBe(job)
    expect(typeof result.tx).toBe("string")
    const products = [...result.products].sort((a: any, b: any) => (a.id < b.id ? -1 : 1))
    expect(products.map((p: any) => [p.id, p.kind, p.dataset])).toEqual([
      [AOI, "classic", "area_of_interest"],
      [IFG, "classic", "S1-IFG"],
      [CATALOG, "stac", "catalog"]
    ])
    const stac = products.find((p: any) => p.kind === "stac")
    expect(stac).toMatchObject({ collections: 1, items: 3, documents: 3, files: 11, location: `s3://hysds-stac-catalogs/catalogs/${CATALOG}` })
    // Where the time went, per phase, and the process's peak memory.
    expect(Object.keys(result.performance.phases)).toEqual(["plan", "claim", "files", "stac", "grq", "finish"])
    for (const seconds of Object.values(result.performance.phases)) expect(seconds).toBeGreaterThanOrEqual(0)
    expect(result.performance.phases.plan).toBeGreaterThan(0)
    expect(result.performance.peakRssBytes).toBeGreaterThan(10 * 1024 * 1024)
    expect(products.find((p: any) => p.id === AOI)).toMatchObject({ files: 7, documents: 1, items: 0, collections: 0 })
    expect(products.find((p: any) => p.id === IFG)).toMatchObject({ files: 6, documents: 1, items: 0, collections: 0 })
    expect(result.totals).toMatchObject({ products: 3, collections: 1, items: 3, documents: 5, files: 24 })
    expect(result.totals.bytes).toBe(products.reduce((n: number, p: any) => n + p.bytes, 0))
    expect(result.skipped).toHaveLength(1)
    expect(result.skipped[0].dir).toBe(path.join(job, SLC))
    expect(result.skipped[0].reason).toContain(".localized")
    // Every item lies inside its collection's extent: no warning (see the human summary's test for one).
    expect(result.warnings).toEqual([])
    expect(result.datasetsJson).toBe(path.join(job, "_datasets.json"))
    // --json keeps stdout to the one JSON object: progress and rollback lines go to stderr.
    expect(run.stderr).toBe("")
  })

  test("the store holds exactly the job's published files, and nothing of the localized input", () => {
    expect(state.files.map(([p]) => p)).toEqual(MIXED_STORE_FILES)
    expect(state.files.some(([p]) => p.includes(SLC))).toBe(false)
    expect(leftovers(state)).toEqual([])
    expect(emptyDirsBelowBuckets(sb.stateDir)).toEqual([])
  })

  test("classic product files and catalog assets are published byte for byte", () => {
    const src = new Map(jobBefore)
    const published = fileMap(state)
    for (const s of ["browse.png", "browse_small.png", "dataset.json", "h5", "met.json"]) {
      expect(published.get(`${AOI_STORE}/${AOI}.${s}`)).toBe(src.get(`${AOI}/${AOI}.${s}`)!)
      expect(published.get(`${IFG_STORE}/${IFG}.${s}`)).toBe(src.get(`${IFG}/${IFG}.${s}`)!)
    }
    expect(published.get(`${AOI_BROWSE_STORE}/${AOI}.browse_small.png`)).toBe(src.get(`${AOI}/${AOI}.browse_small.png`)!)
    expect(published.get(`${AOI_STORE}/${AOI}.context.json`)).toBe(src.get("_context.json")!)
    expect(published.get(`${IFG_STORE}/${IFG}.context.json`)).toBe(src.get("_context.json")!)
    for (const i of ITEMS) {
      for (const f of ["data.tif", "thumb.png"]) {
        expect(published.get(`${CATALOG_STORE}/etna-scenes/items/${i}/${f}`)).toBe(src.get(`${CATALOG}/etna-scenes/items/${i}/${f}`)!)
      }
    }
  })

  test("the published catalog is absolute: every link and relative asset href under the public URL, a self link on every document", () => {
    const store = path.join(storeDir(sb.stateDir), CATALOG_STORE)
    const source = path.join(job, CATALOG)
    const docs = ["catalog.json", "etna-scenes/collection.json", ...ITEMS.map((i) => `etna-scenes/items/${i}/${i}.json`)]
    for (const rel of docs) {
      const published = readJson(path.join(store, rel)) as Json
      const input = readJson(path.join(source, rel)) as Json
      // Same document otherwise.
      for (const key of Object.keys(input)) if (key !== "links" && key !== "assets") expect(published[key]).toEqual(input[key])
      const links = published.links as Array<Json>
      for (const link of links) expect(String(link.href).startsWith(`${BASE}/`)).toBe(true)
      const selfs = links.filter((l) => l.rel === "self")
      expect(selfs).toHaveLength(1)
      expect(selfs[0]!.href).toBe(`${BASE}/${rel}`)
      // Every input link kept, in order, its relative href made absolute.
      const inputLinks = input.links as Array<Json>
      expect(links.filter((l) => l.rel !== "self")).toEqual(inputLinks.map((l) => ({ ...l, href: `${BASE}/${resolveRel(rel, String(l.href))}` })))
      // Each absolute href names a document that was published.
      for (const link of links) expect(existsSync(path.join(store, String(link.href).slice(BASE.length + 1)))).toBe(true)
      if (input.assets !== undefined) {
        const inAssets = input.assets as Record<string, Json>
        const outAssets = published.assets as Record<string, Json>
        expect(Object.keys(outAssets)).toEqual(Object.keys(inAssets))
        for (const [name, asset] of Object.entries(inAssets)) {
          const href = String(asset.href)
          if (/^https?:\/\//.test(href)) {
            expect(outAssets[name]).toEqual(asset) // absolute asset hrefs of the input are kept
          } else {
            const target = resolveRel(rel, href)
            expect(outAssets[name]).toEqual({ ...asset, href: `${BASE}/${target}` })
            expect(existsSync(path.join(store, target))).toBe(true)
          }
        }
      }
    }
    const item = readJson(path.join(store, `etna-scenes/items/etna-scene-002/etna-scene-002.json`)) as any
    expect(item.assets.data.href).toBe(`${BASE}/etna-scenes/items/etna-scene-002/data.tif`)
    expect(item.assets.metadata.href).toBe("https://archive.example.com/meta/etna-scene-002.xml")
  })

  test("the job's own files are untouched; only _datasets.json is new", () => {
    const after = hashTree(job)
    expect(after.filter(([p]) => p !== "_datasets.json")).toEqual(jobBefore)
    expect(after.map(([p]) => p)).toContain("_datasets.json")
    expect(jobBefore.map(([p]) => p)).not.toContain("_datasets.json")
  })

  test("_datasets.json holds the 5 documents as HySDS writes them: items first, then the classic products in walk order", () => {
    const docs = readJson(path.join(job, "_datasets.json")) as Array<Json>
    expect(docs.map((d) => String(d.id))).toEqual([...ITEMS, AOI, IFG])
    // The documents sent to GRQ, before GRQ adds @timestamp, center and temporal_span (test/parity has them byte for byte).
    for (const d of docs) {
      const { "@timestamp": _t, center: _c, temporal_span: _s, location, ...stored } = state.documents.find((r) => r.id === d.id)!.doc as Json
      const { index, location: given, ...rest } = d
      expect(rest).toEqual(stored)
      expect(given).toEqual({ ...(location as Json), type: (given as Json).type })
      expect(index).toEqual(d.id === IFG ? { suffix: "s1-ifg_v2.0", aliases: ["grq"] } : undefined)
    }
  })

  test("GRQ holds the classic documents as HySDS writes them", () => {
    expect(state.documents.map((d) => [d.index, d.id])).toEqual([
      ["grq_s1-ifg_v2.0", IFG],
      ["grq_stac_catalog_catalog", "etna-scene-001"],
      ["grq_stac_catalog_catalog", "etna-scene-002"],
      ["grq_stac_catalog_catalog", "etna-scene-003"],
      ["grq_v1.0_area_of_interest", AOI]
    ])
    const aoi = state.documents.find((d) => d.id === AOI)!.doc as any
    const aoiDataset = readJson(path.join(job, AOI, `${AOI}.dataset.json`)) as Json
    expect(aoi).toMatchObject({
      id: AOI,
      objectid: AOI,
      dataset: "area_of_interest",
      ipath: "hysds::data/area_of_interest",
      system_version: "v1.0",
      dataset_type: "area_of_interest",
      dataset_level: "l0",
      urls: [`https://hysds-products.s3.amazonaws.com/products/area_of_interest/v1.0/${AOI}`],
      browse_urls: [`https://hysds-browse.s3.amazonaws.com/browse/area_of_interest/v1.0/${AOI}`],
      // File names: the UI links browse_urls[0] + "/" + small_img.
      images: [{ img: `${AOI}.browse.png`, small_img: `${AOI}.browse_small.png`, tooltip: AOI }],
      prov: PROV,
      metadata: readJson(path.join(job, AOI, `${AOI}.met.json`)),
      grq_index_result: { index: null },
      temporal_span: 1
    })
    // The centroid, as grq2 (shapely) adds it.
    expect(aoi.center.type).toBe("point")
    expect(aoi.center.coordinates[0]).toBeCloseTo(15.05, 9)
    expect(aoi.center.coordinates[1]).toBeCloseTo(37.75, 9)
    // Every key of dataset.json merged in, as is, but for location.type that grq2 lower-cases.
    for (const [k, v] of Object.entries(aoiDataset)) {
      expect(aoi[k]).toEqual(k === "location" ? { ...(v as Json), type: "polygon" } : v)
    }
    expect(aoi["@timestamp"]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
    expect(Math.abs(Date.parse(aoi["@timestamp"]) - Date.now())).toBeLessThan(10 * 60_000)

    const ifg = state.documents.find((d) => d.id === IFG)!.doc as any
    expect(ifg).toMatchObject({
      id: IFG,
      objectid: IFG,
      dataset: "S1-IFG",
      ipath: "hysds::data/S1-IFG",
      system_version: "v2.0",
      dataset_type: "interferogram",
      dataset_level: "l2",
      urls: [`https://hysds-products.s3.amazonaws.com/products/S1-IFG/2024/01/15/${IFG}`],
      // No browse in its entry: HySDS records no browse urls and no images.
      browse_urls: [],
      images: [],
      prov: PROV,
      metadata: { track: 124, perpendicular_baseline: 42.5 },
      grq_index_result: { index: { suffix: "s1-ifg_v2.0", aliases: ["grq"] } },
      temporal_span: 1
    })
    expect(ifg.index).toBeUndefined()
    expect(ifg.center.type).toBe("point")
    expect(typeof ifg["@timestamp"]).toBe("string")
  })

  test("GRQ holds one document per STAC item, with version, collection, item id and UTC times", () => {
    for (const id of ITEMS) {
      const record = state.documents.find((d) => d.id === id)!
      const doc = record.doc as any
      const item = readJson(path.join(job, CATALOG, "etna-scenes", "items", id, `${id}.json`)) as any
      expect(doc).toMatchObject({
        id,
        objectid: id,
        dataset: "catalog",
        ipath: "hysds::stac/catalog",
        dataset_type: "stac_catalog",
        dataset_level: "catalog",
        version: "stac_catalog",
        system_version: "stac_catalog",
        stac_collection: "etna-scenes",
        stac_item_id: id,
        prov: PROV,
        urls: [`${BASE}/etna-scenes/items/${id}`],
        location: { ...item.geometry, type: "polygon" }
      })
      for (const key of ["starttime", "endtime"]) {
        expect(typeof doc[key]).toBe("string")
        expect(doc[key].endsWith("Z")).toBe(true)
        expect(doc[key]).not.toContain("+00:00")
        expect(Date.parse(doc[key])).toBe(Date.parse(item.properties.datetime))
      }
      expect(doc.metadata.properties).toEqual(item.properties)
      expect(doc.metadata.assets.data.href).toBe(`${BASE}/etna-scenes/items/${id}/data.tif`)
      expect(doc.images).toEqual([{ img: "thumb.png", small_img: "thumb.png", tooltip: "thumbnail" }])
      expect(doc.browse_urls).toEqual([`${BASE}/etna-scenes/items/${id}`])
      expect(doc.center.type).toBe("point")
      expect(typeof doc["@timestamp"]).toBe("string")
    }
  })

  test("the registry holds collection etna-scenes and its 3 items, each with a canonical link to its published JSON", () => {
    expect(state.collections.map((c) => c.id)).toEqual(["etna-scenes"])
    expect(Object.keys(state.items)).toEqual(["etna-scenes"])
    expect(state.items["etna-scenes"]!.map((i) => i.id)).toEqual(ITEMS)
    const store = path.join(storeDir(sb.stateDir), CATALOG_STORE)
    const check = (doc: Json, rel: string) => {
      const links = doc.links as Array<Json>
      const canonical = links.filter((l) => l.rel === "canonical")
      expect(canonical).toHaveLength(1)
      expect(canonical[0]!.href).toBe(`${BASE}/${rel}`)
      // The registered document is the published one plus that link; a collection without its item links (the API serves its items).
      const published = readJson(path.join(store, rel)) as Json
      const publishedLinks = published.links as Array<Json>
      expect({ ...doc, links: links.filter((l) => l.rel !== "canonical") } as Json).toEqual(
        doc.type === "Collection" ? { ...published, links: publishedLinks.filter((l) => l.rel !== "item") } : published
      )
      return publishedLinks
    }
    expect(check(state.collections[0]!, "etna-scenes/collection.json").filter((l) => l.rel === "item")).toHaveLength(3)
    for (const item of state.items["etna-scenes"]!) {
      expect(item.collection).toBe("etna-scenes")
      check(item, `etna-scenes/items/${item.id}/${item.id}.json`)
    }
  })
})

test(
  "ingest prints a human summary naming the products, items and files published",
  async () => {
    const sb = sandbox("human")
    try {
      const job = sb.copyExample("mixed-job")
      // The third scene a day past its collection's temporal extent: published, with a warning.
      const scene3 = path.join(job, CATALOG, "etna-scenes/items/etna-scene-003/etna-scene-003.json")
      const item = JSON.parse(readFileSync(scene3, "utf8"))
      item.properties.datetime = "2024-01-19T10:30:00Z"
      writeFileSync(scene3, JSON.stringify(item, null, 2))
      const r = await ingest(job, sb.stateDir)
      expectRun(r, EXIT.ok)
      const out = r.stdout
      expect(out).toContain(`Published 3 products (1 STAC catalog, 2 classic) from ${job}`)
      expect(out).toMatch(new RegExp(`^ +stac +${CATALOG} +1 collection, 3 items, 11 files, [\\d.]+ KiB -> s3://hysds-stac-catalogs/catalogs/${CATALOG}$`, "m"))
      expect(out).toMatch(new RegExp(`^ +classic +${AOI} +7 files, [\\d.]+ KiB -> s3://s3-us-west-2\\.amazonaws\\.com:80/hysds-products/products/area_of_interest/v1\\.0/${AOI}$`, "m"))
      expect(out).toMatch(new RegExp(`^ +classic +${IFG} +6 files, [\\d.]+ KiB -> s3://hysds-products/products/S1-IFG/2024/01/15/${IFG}$`, "m"))
      expect(out).toContain(`skipped ${path.join(job, SLC)}: input of the job (.localized)`)
      expect(out).toContain("1 warning:")
      expect(out).toContain(`warning ${path.join(job, CATALOG, "etna-scenes/items/etna-scene-003/etna-scene-003.json")} $.properties.datetime: the item's time lies outside the temporal extent of its collection etna-scenes`)
      expect(out).toMatch(/^Totals: 3 products, 1 collection, 3 items, 5 GRQ documents, 24 files, [\d.]+ KiB$/m)
      expect(out).toContain(`Wrote ${path.join(job, "_datasets.json")} (transaction ingest-`)
      expect(out).not.toContain("Dry run")
      // Not a terminal: no progress line, no rollback.
      expect(r.stderr).toBe("")
      expect((await snapshot(sb.stateDir)).files).toHaveLength(27) // 24 published files and a publish context at each of the 3 publish locations
    } finally {
      sb.cleanup()
    }
  },
  TIMEOUT
)

test(
  "item times with UTC offsets, or a start/end range, become UTC times ending in Z in GRQ",
  async () => {
    const sb = sandbox("times")
    try {
      const job = sb.copyExample("mixed-job")
      const item = (n: number) => path.join(job, CATALOG, "etna-scenes", "items", `etna-scene-00${n}`, `etna-scene-00${n}.json`)
      const edit = (n: number, properties: Json) => {
        const json = readJson(item(n)) as any
        json.properties = { ...json.properties, ...properties }
        writeFileSync(item(n), JSON.stringify(json, null, 2))
      }
      edit(1, { datetime: "2024-01-15T10:30:00+00:00" })
      edit(2, { datetime: null, start_datetime: "2024-01-16T12:30:00+02:00", end_datetime: "2024-01-18T11:30:00+00:00" })
      const r = await ingest(job, sb.stateDir)
      expectRun(r, EXIT.ok)
      const docs = new Map((await snapshot(sb.stateDir)).documents.map((d) => [d.id, d.doc as any]))
      const utc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/
      for (const id of ITEMS) {
        for (const key of ["starttime", "endtime"]) {
          expect(docs.get(id)[key]).toMatch(utc)
          expect(docs.get(id)[key]).not.toContain("+00:00")
        }
      }
      expect(Date.parse(docs.get("etna-scene-001").starttime)).toBe(Date.parse("2024-01-15T10:30:00Z"))
      expect(Date.parse(docs.get("etna-scene-002").starttime)).toBe(Date.parse("2024-01-16T10:30:00Z"))
      expect(Date.parse(docs.get("etna-scene-002").endtime)).toBe(Date.parse("2024-01-18T11:30:00Z"))
      expect(docs.get("etna-scene-002").temporal_span).toBe(2)
      // The published item keeps the job's own values.
      const published = readJson(path.join(storeDir(sb.stateDir), CATALOG_STORE, "etna-scenes/items/etna-scene-001/etna-scene-001.json")) as any
      expect(published.properties.datetime).toBe("2024-01-15T10:30:00+00:00")
    } finally {
      sb.cleanup()
    }
  },
  TIMEOUT
)

test(
  "two ingests of the same job at once: one publishes, the other is refused (exit 5), nothing doubled or left over",
  async () => {
    const sb = sandbox("concurrent")
    try {
      const a = sb.copyExample("mixed-job", "a")
      const b = sb.copyExample("mixed-job", "b")
      const [ra, rb] = await Promise.all([ingest(a, sb.stateDir), ingest(b, sb.stateDir)])
      const codes = [ra.exitCode, rb.exitCode].sort((x, y) => x - y)
      if (codes[0] !== EXIT.ok || codes[1] !== EXIT.conflict) throw new Error(`expected one 0 and one 5\n${describeRun(ra)}\n${describeRun(rb)}`)
      const [winner, loser] = ra.exitCode === EXIT.ok ? [a, b] : [b, a]
      const lost = ra.exitCode === EXIT.ok ? rb : ra
      expect(lost.stderr).toMatch(/being published by another ingest|already exists/)
      const s = await snapshot(sb.stateDir)
      expect(s.files.map(([p]) => p)).toEqual(MIXED_STORE_FILES)
      expect(s.documents).toHaveLength(5)
      expect(s.items["etna-scenes"]!.map((i) => i.id)).toEqual(ITEMS)
      expect(leftovers(s)).toEqual([])
      expect(existsSync(path.join(winner, "_datasets.json"))).toBe(true)
      expect(existsSync(path.join(loser, "_datasets.json"))).toBe(false)
    } finally {
      sb.cleanup()
    }
  },
  TIMEOUT
)

// ---------------------------------------------------------------------------

describe("ingesting the same job again", () => {
  let sb: Sandbox
  let job: string
  let first: Snapshot

  beforeAll(async () => {
    sb = sandbox("again")
    job = sb.copyExample("mixed-job")
    expectRun(await ingest(job, sb.stateDir), EXIT.ok)
    first = await snapshot(sb.stateDir)
  }, TIMEOUT)
  afterAll(() => sb.cleanup())

  test(
    "is refused with exit 5 (conflict) and changes nothing",
    async () => {
      const jobBefore = hashTree(job)
      const r = await ingest(job, sb.stateDir)
      expectRun(r, EXIT.conflict)
      expect(r.stderr).toContain("already exists")
      expect(r.stderr).toContain("conflict error")
      expect(r.stderr).toContain("--force")
      expect(r.stdout).not.toContain("Published")
      expect(await snapshot(sb.stateDir)).toEqual(first)
      expect(hashTree(job)).toEqual(jobBefore) // _datasets.json of the first run kept as it was
    },
    TIMEOUT
  )

  test(
    "with --json, the conflict is one JSON object on stdout",
    async () => {
      const r = await ingest(job, sb.stateDir, ["--json"])
      expectRun(r, EXIT.conflict)
      const out = parseJson(r)
      expect(out.ok).toBe(false)
      expect(out.error.category).toBe("conflict")
      expect(out.error.tag).toBe("ConflictError")
      expect(out.error.message).toContain("already exists")
      expect(out.rollback.failed).toEqual([])
      expect(await snapshot(sb.stateDir)).toEqual(first)
    },
    TIMEOUT
  )

  test(
    "with --force publishes it again: same objects, same documents and items, no backups left",
    async () => {
      const r = await ingest(job, sb.stateDir, ["--force"])
      expectRun(r, EXIT.ok)
      expect(r.stdout).toContain("Published 3 products")
      const again = await snapshot(sb.stateDir)
      expect(again.files).toEqual(first.files)
      expect(withoutIngestTime(again)).toEqual(withoutIngestTime(first))
      expect(leftovers(again)).toEqual([])
      expect(dirTree(storeDir(sb.stateDir)).some((d) => d.split("/").includes(".hysds-stac-backup"))).toBe(false)
      expect(emptyDirsBelowBuckets(sb.stateDir)).toEqual([])
    },
    TIMEOUT
  )

  test(
    "_force_ingest in _context.json acts as --force",
    async () => {
      const context = path.join(job, "_context.json")
      const original = readFileSync(context, "utf8")
      try {
        const forced = JSON.stringify({ ...(JSON.parse(original) as Json), _force_ingest: true })
        writeFileSync(context, forced)
        const r = await ingest(job, sb.stateDir)
        expectRun(r, EXIT.ok)
        const again = withoutIngestTime(await snapshot(sb.stateDir))
        // The product's <id>.context.json, not HySDS's _publish.context.json (the same job's, unchanged).
        const productContext = (p: string) => p.endsWith(".context.json") && !p.endsWith("/_publish.context.json")
        const exceptContexts = (snap: typeof again) => ({ ...snap, files: snap.files.filter(([p]) => !productContext(p)) })
        expect(exceptContexts(again)).toEqual(exceptContexts(withoutIngestTime(first)))
        // Each classic product holds the job's _context.json as it is now, as HySDS copies it.
        const sha = new Bun.CryptoHasher("sha256").update(forced).digest("hex")
        expect(again.files.filter(([p]) => productContext(p)).map(([, h]) => h)).toEqual([sha, sha])
      } finally {
        writeFileSync(context, original)
      }
    },
    TIMEOUT
  )

  test(
    "a forced re-ingest that fails puts the earlier publication back exactly",
    async () => {
      const before = await snapshot(sb.stateDir)
      const changed = sb.copyExample("mixed-job", "mixed-job-changed")
      // The catalog gains a file, and AOI's metadata a field of another type than GRQ mapped: indexing fails last.
      writeFileSync(path.join(changed, CATALOG, "extra.txt"), "not there before\n")
      writeFileSync(path.join(changed, AOI, `${AOI}.met.json`), JSON.stringify({ aoi_name: "Etna", priority: { level: 3 }, tags: ["volcano"] }))
      const r = await ingest(changed, sb.stateDir, ["--force"])
      expectRun(r, EXIT.index)
      expect(r.stderr).toContain(AOI)
      expect(r.stderr).not.toContain("FAILED")
      const after = await snapshot(sb.stateDir)
      expect(after).toEqual(before) // @timestamp included: the old documents themselves are back
      expect(leftovers(after)).toEqual([])
      expect(emptyDirsBelowBuckets(sb.stateDir)).toEqual([])
      expect(existsSync(path.join(changed, "_datasets.json"))).toBe(false)
    },
    TIMEOUT
  )
})

// ---------------------------------------------------------------------------

describe("failing-job (GRQ rejects AOI_zz_beta after files and STAC items were published)", () => {
  let sb: Sandbox

  beforeAll(() => {
    sb = sandbox("failing")
  })
  afterAll(() => sb.cleanup())

  test(
    "on top of mixed-job: exit 7, the rollback listed in reverse, the state exactly as before",
    async () => {
      expectRun(await ingest(sb.copyExample("mixed-job"), sb.stateDir), EXIT.ok)
      const before = await snapshot(sb.stateDir)
      const dirsBefore = dirTree(storeDir(sb.stateDir))
      const job = sb.copyExample("failing-job")
      const jobBefore = hashTree(job)

      const r = await ingest(job, sb.stateDir)
      expectRun(r, EXIT.index)
      expect(r.stderr).toContain("index error")
      expect(r.stderr).toContain("AOI_zz_beta")
      expect(r.stderr).toContain("mapper_parsing_exception")
      expect(r.stdout).toBe("")

      const report = reportedUndoneSteps(r.stderr)
      expect(r.stderr).toMatch(new RegExp(`^Rolled back ${report.length} steps:$`, "m"))
      expect(report.length).toBeGreaterThanOrEqual(5) // markers, objects, collection, items, documents at least
      expect(strictlyDecreasing(report)).toBe(true)
      expect(report.at(-1)).toBe(1)
      // The steps that ran after files were published are among those undone.
      expect(r.stderr).toMatch(/undone {2}step \d+: \d+ GRQ document\(s\)/)
      expect(r.stderr).toMatch(/undone {2}step \d+: 3 STAC item\(s\) in fail-scenes/)
      expect(r.stderr).toMatch(/undone {2}step \d+: STAC collection fail-scenes/)
      // The catalog's 11 objects: its catalog and collection (the head), then its items' batch (3 items and their 6 files).
      expect(r.stderr).toMatch(/undone {2}step \d+: 2 object\(s\) of stac_catalog_20240201_fail/)
      expect(r.stderr).toMatch(/undone {2}step \d+: 9 object\(s\) of stac_catalog_20240201_fail/)
      // The same steps were announced while rolling back, in the same order.
      expect(progressUndoneSteps(r.stderr)).toEqual(report)
      expect(r.stderr).not.toContain("FAILED")

      expect(await snapshot(sb.stateDir)).toEqual(before)
      expect(dirTree(storeDir(sb.stateDir))).toEqual(dirsBefore)
      expect(existsSync(path.join(job, "_datasets.json"))).toBe(false)
      expect(hashTree(job)).toEqual(jobBefore)
    },
    TIMEOUT
  )

  test(
    "with --json: one JSON object with the index error and the rollback report",
    async () => {
      const state = sb.path("state-json")
      const r = await ingest(sb.copyExample("failing-job", "failing-job-json"), state, ["--json"])
      expectRun(r, EXIT.index)
      const out = parseJson(r)
      expect(out.ok).toBe(false)
      expect(out.error.category).toBe("index")
      expect(out.error.tag).toBe("IndexError")
      expect(out.error.message).toContain("AOI_zz_beta")
      expect(typeof out.error.hint).toBe("string")
      const steps = (out.rollback.undone as Array<{ step: number }>).map((u) => u.step)
      expect(steps.length).toBeGreaterThanOrEqual(5)
      expect(strictlyDecreasing(steps)).toBe(true)
      expect(out.rollback.failed).toEqual([])
      expect(summary(await snapshot(state))).toEqual(EMPTY_SUMMARY)
      expect(emptyDirsBelowBuckets(state)).toEqual([])
    },
    TIMEOUT
  )
})

// ---------------------------------------------------------------------------

test(
  "failed-job (_job.json exit_code 1): exit 4 and nothing published",
  async () => {
    const sb = sandbox("failed")
    try {
      const job = sb.copyExample("failed-job")
      const r = await ingest(job, sb.stateDir)
      expectRun(r, EXIT.validation)
      expect(r.stderr).toContain("validation error")
      expect(r.stderr).toContain("exited with code 1")
      expect(r.stderr).toContain("Nothing had been published")
      expect(summary(await snapshot(sb.stateDir))).toEqual(EMPTY_SUMMARY)
      expect(existsSync(path.join(job, "_datasets.json"))).toBe(false)
    } finally {
      sb.cleanup()
    }
  },
  TIMEOUT
)

test(
  "--dry-run: exit 0, says nothing was published, and publishes nothing",
  async () => {
    const sb = sandbox("dry")
    try {
      const job = sb.copyExample("mixed-job")
      const jobBefore = hashTree(job)
      const r = await ingest(job, sb.stateDir, ["--dry-run"])
      expectRun(r, EXIT.ok)
      expect(r.stdout).toContain("Would publish 3 products (1 STAC catalog, 2 classic)")
      expect(r.stdout).toContain("Dry run: nothing was published.")
      expect(r.stdout).not.toContain("Wrote")
      expect(summary(await snapshot(sb.stateDir))).toEqual(EMPTY_SUMMARY)
      expect(hashTree(job)).toEqual(jobBefore) // no _datasets.json either

      const j = await ingest(job, sb.stateDir, ["--dry-run", "--json"])
      expectRun(j, EXIT.ok)
      const out = parseJson(j)
      expect(out).toMatchObject({ ok: true, dryRun: true, totals: { products: 3, items: 3, documents: 5, files: 24 } })
      expect(out.datasetsJson).toBeUndefined()
      expect(summary(await snapshot(sb.stateDir))).toEqual(EMPTY_SUMMARY)
      // A dry run leaves the job publishable.
      expectRun(await ingest(job, sb.stateDir), EXIT.ok)
    } finally {
      sb.cleanup()
    }
  },
  TIMEOUT
)

describe("STAC disabled: only the classic products, exactly as HySDS", () => {
  const check = async (state: string, r: CliResult) => {
    expectRun(r, EXIT.ok)
    const out = parseJson(r)
    expect(out.products.map((p: any) => [p.id, p.kind]).sort()).toEqual([
      [AOI, "classic"],
      [IFG, "classic"]
    ])
    expect(out.totals).toMatchObject({ products: 2, collections: 0, items: 0, documents: 2 })
    const s = await snapshot(state)
    expect(s.files.map(([p]) => p)).toEqual(MIXED_STORE_FILES.filter((p) => !p.startsWith("s3/hysds-stac-catalogs/")))
    expect(s.documents.map((d) => d.id)).toEqual([IFG, AOI])
    expect(s.collections).toEqual([])
    expect(s.items).toEqual({})
    const docs = readJson(path.join(out.jobDir, "_datasets.json")) as Array<Json>
    expect(docs.map((d) => d.id).sort()).toEqual([AOI, IFG])
  }

  test(
    "--no-stac",
    async () => {
      const sb = sandbox("nostac")
      try {
        const job = sb.copyExample("mixed-job")
        await check(sb.stateDir, await ingest(job, sb.stateDir, ["--no-stac", "--json"]))
      } finally {
        sb.cleanup()
      }
    },
    TIMEOUT
  )

  test(
    "HYSDS_STAC_DISABLE=1",
    async () => {
      const sb = sandbox("nostac-env")
      try {
        const job = sb.copyExample("mixed-job")
        await check(sb.stateDir, await ingest(job, sb.stateDir, ["--json"], { env: { HYSDS_STAC_DISABLE: "1" } }))
      } finally {
        sb.cleanup()
      }
    },
    TIMEOUT
  )
})

// ---------------------------------------------------------------------------

/**
 * Adds a classic product `AOI_big` of `files` files of `size` bytes to a job
 * (it matches the area_of_interest entry of examples/datasets.json).
 */
const addBigProduct = (job: string, files: number, size: number) => {
  const dir = path.join(job, "AOI_big")
  mkdirSync(dir, { recursive: true })
  const dataset = readJson(path.join(job, AOI, `${AOI}.dataset.json`)) as Json
  writeFileSync(path.join(dir, "AOI_big.dataset.json"), JSON.stringify({ ...dataset, label: "AOI big" }, null, 2))
  const chunk = new Uint8Array(size)
  for (let i = 0; i < files; i++) {
    chunk.fill(i % 251)
    writeFileSync(path.join(dir, `part_${String(i).padStart(5, "0")}.bin`), chunk)
  }
}

/** True once some file of AOI_big has landed in the store: the ingest is publishing. */
const publishing = (stateDir: string): boolean => {
  const dir = path.join(storeDir(stateDir), `s3/hysds-products/products/area_of_interest/v1.0/AOI_big`)
  try {
    return readdirSync(dir).some((name) => name.startsWith("part_"))
  } catch {
    return false
  }
}

/** True once a forced re-ingest has set aside some file of the AOI_big it replaces. */
const settingAside = (stateDir: string): boolean => {
  const dir = path.join(storeDir(stateDir), "s3/hysds-products/.hysds-stac-backup")
  try {
    return readdirSync(dir, { recursive: true }).some((name) => /AOI_big\/part_/.test(String(name)))
  } catch {
    return false
  }
}

interface Interrupted {
  readonly r: CliResult
  /** The signal that ended the process, when one did (then it did not exit by itself). */
  readonly signalCode: string | number | null
  readonly job: string
  readonly state: string
  readonly jobBefore: Array<readonly [string, string]>
  /** Signals sent after the first, while the rollback was running. */
  readonly repeated: number
  /** The state before the interrupted run (empty unless `force`). */
  readonly before: Snapshot
}

interface InterruptOptions {
  readonly signal: "SIGINT" | "SIGTERM"
  /** Keep pressing Ctrl-C while the CLI rolls back. */
  readonly again?: boolean
  /** Publish the job first, then interrupt a `--force` re-ingest while it sets that publication aside. */
  readonly force?: boolean
}

/**
 * Starts an ingest of mixed-job plus AOI_big and sends `signal` once it is publishing.
 * Without a terminal the CLI prints no progress, so "it has started publishing" is
 * read from the store: the first object of AOI_big. With `again`, SIGINT is sent
 * again every few milliseconds once the CLI says it is rolling back (an impatient
 * user). Should a run finish before the signals land, the job is made bigger and
 * the run tried again; if none can be interrupted, the test fails saying so.
 */
const interruptWhilePublishing = async (sb: Sandbox, label: string, options: InterruptOptions): Promise<Interrupted> => {
  const { signal, again = false, force = false } = options
  const ready = force ? settingAside : publishing
  const attempts = [
    { files: 400, size: 256 * 1024 },
    { files: 800, size: 512 * 1024 },
    { files: 1600, size: 512 * 1024 }
  ]
  const missed: Array<string> = []
  for (const [n, size] of attempts.entries()) {
    const job = sb.copyExample("mixed-job", `${label}-job-${n}`)
    addBigProduct(job, size.files, size.size)
    const state = sb.path(`${label}-state-${n}`)
    if (force) expectRun(await ingest(job, state), EXIT.ok)
    const before = await snapshot(state)
    const jobBefore = hashTree(job)
    const proc = spawnCli(["ingest", job, "--datasets", DATASETS, "--state-dir", state, ...(force ? ["--force"] : [])])
    const stdout = collect(proc.stdout)
    const stderr = collect(proc.stderr)
    let exited = false
    void proc.exited.then(() => (exited = true))
    const started = Date.now()
    // A deadline, not a duration: planning 400+ files took over 20 s on a loaded machine.
    while (!exited && !ready(state) && Date.now() - started < 120_000) await Bun.sleep(2)
    const seen = ready(state)
    if (!exited) proc.kill(signal)
    let repeated = 0
    if (again) {
      while (!exited && Date.now() - started < 180_000) {
        if (stderr.text.includes("rolling back...")) {
          proc.kill("SIGINT")
          repeated++
        }
        await Bun.sleep(5)
      }
    }
    const exitCode = await proc.exited
    await Promise.all([stdout.done, stderr.done])
    const r: CliResult = { exitCode, stdout: stdout.text, stderr: stderr.text }
    if (exitCode === EXIT.ok) {
      missed.push(`${size.files} x ${size.size} B: finished before the signal (publishing seen: ${seen})`)
      continue
    }
    if (!seen) throw new Error(`the ingest never started ${force ? "setting AOI_big aside" : "publishing AOI_big"}\n${describeRun(r)}`)
    if (again && repeated === 0) {
      missed.push(`${size.files} x ${size.size} B: the rollback ended before a second signal could be sent`)
      continue
    }
    return { r, signalCode: proc.signalCode, job, state, jobBefore, repeated, before }
  }
  throw new Error(`no ingest could be interrupted as the test needs, even the biggest:\n${missed.join("\n")}`)
}

/** What must hold after an interrupted ingest: it rolled back by itself, and nothing of it is left. */
const expectRolledBackCompletely = async (i: Interrupted) => {
  if (i.signalCode !== null) {
    throw new Error(`the CLI was killed by ${i.signalCode} instead of exiting after its rollback\n${describeRun(i.r)}\nleft in the state: ${JSON.stringify(summary(await snapshot(i.state)), null, 2)}`)
  }
  expectRun(i.r, EXIT.interrupted)
  expect(i.r.stdout).not.toContain("Published")
  expect(i.r.stderr).toContain("rolling back...")
  const undone = progressUndoneSteps(i.r.stderr)
  expect(strictlyDecreasing(undone)).toBe(true)
  expect(undone.at(-1)).toBe(1)
  expect(i.r.stderr).toMatch(/undone: step \d+, (backup of )?\d+ (existing )?object\(s\) of AOI_big/)
  expect(i.r.stderr).not.toContain("UNDO FAILED")
  const s = await snapshot(i.state)
  // Nothing of the run: no objects (markers and backups included), documents, collections or items.
  // A forced re-ingest leaves exactly what was published before it, @timestamp included.
  expect(s).toEqual(i.before)
  expect(leftovers(s)).toEqual([])
  expect(emptyDirsBelowBuckets(i.state)).toEqual([])
  // No _datasets.json written by the interrupted run (a forced re-ingest keeps the earlier one as it was).
  expect(existsSync(path.join(i.job, "_datasets.json"))).toBe(i.jobBefore.some(([p]) => p === "_datasets.json"))
  expect(hashTree(i.job)).toEqual(i.jobBefore)
}

describe("interrupting an ingest while it publishes", () => {
  let sb: Sandbox
  beforeAll(() => {
    sb = sandbox("interrupt")
  })
  afterAll(() => sb.cleanup())

  test(
    "SIGINT: exit 130, every step rolled back, nothing of the run left",
    async () => {
      const i = await interruptWhilePublishing(sb, "int", { signal: "SIGINT" })
      expect(summary(i.before)).toEqual(EMPTY_SUMMARY)
      await expectRolledBackCompletely(i)
    },
    600_000
  )

  test(
    "SIGTERM: the same",
    async () => {
      await expectRolledBackCompletely(await interruptWhilePublishing(sb, "term", { signal: "SIGTERM" }))
    },
    600_000
  )

  test(
    "SIGINT during a forced re-ingest, while it sets the earlier publication aside: that publication is back exactly",
    async () => {
      const i = await interruptWhilePublishing(sb, "force", { signal: "SIGINT", force: true })
      expect(i.before.documents).toHaveLength(6)
      await expectRolledBackCompletely(i)
    },
    600_000
  )

  // README: "The rollback itself cannot be interrupted: a second Ctrl-C does not cut it short."
  test(
    "Ctrl-C pressed again while rolling back does not cut the rollback short",
    async () => {
      const i = await interruptWhilePublishing(sb, "again", { signal: "SIGINT", again: true })
      expect(i.repeated).toBeGreaterThan(0)
      await expectRolledBackCompletely(i)
    },
    600_000
  )
})
