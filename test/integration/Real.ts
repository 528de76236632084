/**
 * Support for the integration tests: the `hysds-stac` CLI run as a process
 * against the REAL servers of test/services (SeaweedFS S3, OpenSearch,
 * Elasticsearch, STAC-FastAPI on pgstac or on OpenSearch), and the servers' own view of what
 * landed, read straight from them (the S3 API, the search cluster's REST API,
 * the STAC API), never from our CLI's output.
 *
 * The servers are shared by every test file, every rerun and every parallel
 * run, so everything a test creates carries a tag of its own: the buckets, the
 * product and catalog ids, the STAC collection and item ids (see `mixedJob`).
 * Index names (`grq_<version>_<dataset>`) are the product's and are shared; the
 * documents in them are told apart by their ids.
 */
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { CLI } from "../support/State.ts"
import { services as readServices, type ServicesEnv } from "../../packages/adapters/src/contract/Services.ts"
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client
} from "./S3Sdk.ts"

export type { ServicesEnv }

/** The repository root: the CLI always runs from here. */
export const ROOT = path.resolve(import.meta.dir, "..", "..")
export const EXAMPLES = path.join(ROOT, "examples")
export const DATASETS = path.join(EXAMPLES, "datasets.json")
/** How the CLI is started (the compiled executable when the test script built one; see State.CLI). */
export { CLI }

/** Exit codes of packages/cli/src/ExitCode.ts, restated so a change is noticed. */
export const EXIT = { ok: 0, internal: 1, config: 3, validation: 4, conflict: 5, storage: 6, index: 7, catalogApi: 8 } as const

/** The services' endpoints, or undefined: every suite then skips, saying why (see Services.ts). */
export const services = (): ServicesEnv | undefined => readServices()

/** A short lowercase tag, valid in bucket names, product ids, STAC ids and index queries. */
export const tag = (): string => `t${Date.now().toString(36).slice(-4)}${randomBytes(4).toString("hex")}`

export const tempDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `hysds-stac-it-${prefix}-`))

export const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex")

// ---------------------------------------------------------------------------
// Renamed copies of the example jobs

const MIXED = {
  aoi: "AOI_volcano_etna",
  ifg: "S1-IFG_RM_20240115T103000_20240116T103000_etna",
  catalog: "stac_catalog_20240115_etna",
  collection: "etna-scenes",
  item: "etna-scene"
} as const

const FAILING = {
  aoi: "AOI_alpha",
  aoi2: "AOI_zz_beta",
  catalog: "stac_catalog_20240201_fail",
  collection: "fail-scenes",
  item: "fail-scene"
} as const

export interface Job {
  readonly dir: string
  readonly tag: string
  /** Classic products, by their (renamed) ids. */
  readonly products: ReadonlyArray<string>
  readonly catalog: string
  readonly collection: string
  readonly items: ReadonlyArray<string>
  /** Every GRQ document id the job publishes: the products and the items. */
  readonly docIds: ReadonlyArray<string>
}

/** Rewrites names (file and directory names, file contents) with one pass per string, longest first. */
const rewrite = (src: string, dst: string, pairs: ReadonlyArray<readonly [string, string]>) => {
  const sorted = [...pairs].sort((a, b) => b[0].length - a[0].length)
  const pattern = new RegExp(sorted.map(([from]) => from.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&")).join("|"), "g")
  const map = new Map(sorted)
  const apply = (s: string) => s.replace(pattern, (m) => map.get(m)!)
  const walk = (from: string, to: string) => {
    fs.mkdirSync(to, { recursive: true })
    for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
      const source = path.join(from, entry.name)
      const target = path.join(to, apply(entry.name))
      if (entry.isDirectory()) walk(source, target)
      else if (entry.name.endsWith(".json")) fs.writeFileSync(target, apply(fs.readFileSync(source, "utf8")))
      else fs.copyFileSync(source, target)
    }
  }
  walk(src, dst)
}

/**
 * A copy of examples/mixed-job whose every id carries `t`: products
 * `AOI_volcano_etna_<t>` and `S1-IFG_..._etna_<t>`, catalog
 * `stac_catalog_20240115_etna_<t>`, collection `etna-scenes-<t>` unless
 * `collection` names another (a job B may join job A's collection), items
 * `etna-scene-<t>-00N`.
 * Its `_datasets.json` (the output of an earlier run) is left out.
 */
export const mixedJob = (t: string, collection: string = `${MIXED.collection}-${t}`): Job => {
  const dir = path.join(tempDir("job"), `mixed-job-${t}`)
  const names = {
    aoi: `${MIXED.aoi}_${t}`,
    ifg: `${MIXED.ifg}_${t}`,
    catalog: `${MIXED.catalog}_${t}`,
    collection,
    item: (n: number) => `${MIXED.item}-${t}-00${n}`
  }
  rewrite(path.join(EXAMPLES, "mixed-job"), dir, [
    [MIXED.aoi, names.aoi],
    [MIXED.ifg, names.ifg],
    [MIXED.catalog, names.catalog],
    [MIXED.collection, names.collection],
    [`${MIXED.item}-00`, `${MIXED.item}-${t}-00`]
  ])
  fs.rmSync(path.join(dir, "_datasets.json"), { force: true })
  const items = [1, 2, 3].map(names.item)
  return { dir, tag: t, products: [names.aoi, names.ifg], catalog: names.catalog, collection: names.collection, items, docIds: [names.aoi, names.ifg, ...items] }
}

/**
 * A copy of examples/failing-job renamed the same way (`AOI_alpha_<t>`,
 * `AOI_zz_beta_<t>`, `stac_catalog_20240201_fail_<t>`, collection
 * `fail-scenes-<t>` or `collection`, items `fail-scene-<t>-00N`). It still fails at
 * GRQ on the real mapping conflict of `metadata.quality` (a number in one
 * product, an object in the other).
 */
export const failingJob = (t: string, collection: string = `${FAILING.collection}-${t}`): Job => {
  const dir = path.join(tempDir("job"), `failing-job-${t}`)
  rewrite(path.join(EXAMPLES, "failing-job"), dir, [
    [FAILING.aoi, `${FAILING.aoi}_${t}`],
    [FAILING.aoi2, `${FAILING.aoi2}_${t}`],
    [FAILING.catalog, `${FAILING.catalog}_${t}`],
    [FAILING.collection, collection],
    [`${FAILING.item}-00`, `${FAILING.item}-${t}-00`]
  ])
  fs.rmSync(path.join(dir, "_datasets.json"), { force: true })
  const products = [`${FAILING.aoi}_${t}`, `${FAILING.aoi2}_${t}`]
  const items = [1, 2, 3].map((n) => `${FAILING.item}-${t}-00${n}`)
  return { dir, tag: t, products, catalog: `${FAILING.catalog}_${t}`, collection, items, docIds: [...products, ...items] }
}

// ---------------------------------------------------------------------------
// The CLI

export interface Buckets {
  readonly catalogs: string
  readonly products: string
  readonly browse: string
}

export type Engine = "opensearch" | "elasticsearch"

/**
 * Which STAC API of the test services: stac-fastapi-pgstac (`STAC_API_URL`)
 * or stac-fastapi-opensearch (`SFEOS_STAC_API_URL`, "SFEOS").
 */
export type Registry = "pgstac" | "sfeos"

export const REGISTRIES: ReadonlyArray<Registry> = ["pgstac", "sfeos"]

/** The URL of `registry`'s STAC API; fails clearly when services.env lacks it. */
export const stacUrlOf = (svc: ServicesEnv, registry: Registry): string => {
  const name = registry === "pgstac" ? "STAC_API_URL" : "SFEOS_STAC_API_URL"
  const url = svc[name]
  if (!url) throw new Error(`test/services/.run/services.env has no ${name}: run test/services/services.sh start`)
  return url
}

export interface Backends {
  readonly svc: ServicesEnv
  readonly engine: Engine
  readonly grqUrl: string
  readonly registry: Registry
  /** The STAC API the CLI publishes to (pgstac's or SFEOS's). */
  readonly stacUrl: string
  readonly buckets: Buckets
  /** STAC_DATA_URL: the host (and path) the catalogs are published under, `https://<it>/catalogs/...`. */
  readonly dataUrl: string
  /** A credentials file with a [default] profile holding the test keys (datasets.json's `s3-profile-name: default`). */
  readonly credentialsFile: string
}

/** What the CLI needs to publish into the real servers. */
export const cliEnv = (b: Backends, overrides: Record<string, string | undefined> = {}): Record<string, string> => {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k, v]) => v !== undefined && !/^(AWS_|S3_|GRQ_|STAC_|HYSDS_)/.test(k)
    )
  ) as Record<string, string>
  const env: Record<string, string | undefined> = {
    ...inherited,
    HYSDS_STAC_STORE: "s3",
    S3_ENDPOINT: b.svc.S3_ENDPOINT,
    S3_ACCESS_KEY_ID: b.svc.S3_ACCESS_KEY_ID,
    S3_SECRET_ACCESS_KEY: b.svc.S3_SECRET_ACCESS_KEY,
    S3_REGION: b.svc.S3_REGION ?? "us-east-1",
    S3_FORCE_PATH_STYLE: "true",
    AWS_SHARED_CREDENTIALS_FILE: b.credentialsFile,
    AWS_CONFIG_FILE: `${b.credentialsFile}.config-absent`,
    GRQ_ES_ENGINE: b.engine,
    GRQ_ES_URL: b.grqUrl,
    STAC_API_URL: b.stacUrl,
    STAC_S3_BUCKET: b.buckets.catalogs,
    DATASET_BUCKET: b.buckets.products,
    BROWSE_BUCKET: b.buckets.browse,
    STAC_DATA_URL: b.dataUrl,
    ...overrides
  }
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined))
}

export const credentialsFile = (svc: ServicesEnv): string => {
  const file = path.join(tempDir("aws"), "credentials")
  fs.writeFileSync(file, `[default]\naws_access_key_id = ${svc.S3_ACCESS_KEY_ID}\naws_secret_access_key = ${svc.S3_SECRET_ACCESS_KEY}\n`)
  return file
}

export interface CliResult {
  readonly args: ReadonlyArray<string>
  readonly exitCode: number | null
  readonly signal: string | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** Runs `hysds-stac args...` from the repository root, as users do. */
export const cli = async (args: ReadonlyArray<string>, env: Record<string, string>, timeoutMs = 240_000): Promise<CliResult> => {
  const started = Date.now()
  const p = Bun.spawn([...CLI, ...args], { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" })
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs)
  const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()])
  await p.exited
  clearTimeout(timer)
  return { args, exitCode: p.exitCode, signal: p.signalCode === null ? null : String(p.signalCode), stdout, stderr, ms: Date.now() - started }
}

export const describeRun = (r: CliResult) =>
  `hysds-stac ${r.args.join(" ")}\nexit ${r.exitCode}${r.signal ? ` (${r.signal})` : ""} after ${r.ms} ms\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

/** Fails with the whole run in the message unless it exited with `code`. */
export const expectExit = (r: CliResult, code: number): CliResult => {
  if (r.exitCode !== code) throw new Error(`expected exit ${code}\n${describeRun(r)}`)
  return r
}

export const ingest = (job: Job | string, state: string, env: Record<string, string>, extra: ReadonlyArray<string> = []) =>
  cli(["ingest", typeof job === "string" ? job : job.dir, "--datasets", DATASETS, "--state-dir", state, "--json", ...extra], env)

export const parseJson = (text: string): any => {
  try {
    return JSON.parse(text)
  } catch {
    throw new Error(`not JSON:\n${text}`)
  }
}

/** `hysds-stac journal list --json`: the transactions of a state dir. */
export const journalList = async (state: string, env: Record<string, string>): Promise<Array<{ tx: string; state: string; steps: number }>> => {
  const r = expectExit(await cli(["journal", "list", "--all", "--state-dir", state, "--json"], env), 0)
  return parseJson(r.stdout)
}

// ---------------------------------------------------------------------------
// S3, read through the S3 API

export const s3Client = (svc: ServicesEnv) =>
  new S3Client({
    endpoint: svc.S3_ENDPOINT!,
    region: svc.S3_REGION ?? "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: svc.S3_ACCESS_KEY_ID!, secretAccessKey: svc.S3_SECRET_ACCESS_KEY! }
  })

export const bucketsFor = (t: string): Buckets => ({ catalogs: `hsit-${t}-cat`, products: `hsit-${t}-prod`, browse: `hsit-${t}-brw` })

export const createBuckets = async (client: S3Client, buckets: Buckets) => {
  for (const b of Object.values(buckets)) await client.send(new CreateBucketCommand({ Bucket: b }))
}

const listKeys = async (client: S3Client, bucket: string): Promise<Array<string>> => {
  const keys: Array<string> = []
  let token: string | undefined
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }))
    for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key)
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  return keys.sort()
}

/** Removes every object of the buckets, then the buckets (SeaweedFS has a bounded number of volumes: never leave any). */
export const deleteBuckets = async (client: S3Client, buckets: Buckets) => {
  for (const b of Object.values(buckets)) {
    try {
      const keys = await listKeys(client, b)
      for (let i = 0; i < keys.length; i += 1000) {
        await client.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }))
      }
      await client.send(new DeleteBucketCommand({ Bucket: b }))
    } catch (e) {
      console.warn(`could not delete bucket ${b}: ${(e as Error).message}`)
    }
  }
}

export const readObject = async (client: S3Client, bucket: string, key: string): Promise<Uint8Array> => {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return await r.Body!.transformToByteArray()
}

/** `bucket/key` → sha256 of every object in the buckets whose key contains `filter` (all when absent), sorted. */
export const s3State = async (client: S3Client, buckets: Buckets, filter?: string): Promise<Array<readonly [string, string]>> => {
  const out: Array<readonly [string, string]> = []
  for (const b of Object.values(buckets)) {
    for (const key of await listKeys(client, b)) {
      if (filter !== undefined && !key.includes(filter)) continue
      out.push([`${b}/${key}`, sha256(await readObject(client, b, key))])
    }
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

/** A key an ended ingest must not leave; HySDS's `_publish.context.json` stays after a success, so it is not one. */
export const isLeftover = (key: string) => key.includes(".hysds-stac-claim.json") || key.includes(".hysds-stac-backup")

// ---------------------------------------------------------------------------
// GRQ, read through the cluster's REST API

const json = async (url: string, init: RequestInit = {}): Promise<{ status: number; body: any }> => {
  const r = await fetch(url, { ...init, headers: { "content-type": "application/json", ...(init.headers ?? {}) } })
  const text = await r.text()
  let body: any = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON: kept as text
  }
  return { status: r.status, body }
}

export interface GrqDoc {
  readonly index: string
  readonly id: string
  readonly doc: Record<string, unknown>
}

/** The documents with these ids in any `grq_*` index (searched after a refresh, so deletes are seen), sorted. */
export const grqDocs = async (url: string, ids: ReadonlyArray<string>, target = "grq_*"): Promise<Array<GrqDoc>> => {
  await json(`${url}/${target}/_refresh?ignore_unavailable=true&allow_no_indices=true`, { method: "POST" })
  const r = await json(`${url}/${target}/_search?ignore_unavailable=true&allow_no_indices=true`, {
    method: "POST",
    body: JSON.stringify({ size: 1000, query: { ids: { values: ids } } })
  })
  if (r.status !== 200) throw new Error(`GRQ search at ${url} failed: ${r.status} ${JSON.stringify(r.body)}`)
  return (r.body.hits.hits as Array<{ _index: string; _id: string; _source: Record<string, unknown> }>)
    .map((h) => ({ index: h._index, id: h._id, doc: h._source }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.index < b.index ? -1 : 1))
}

/** As grqDocs, without GRQ's `@timestamp` (the ingest time): everything else must match exactly. */
export const grqState = async (url: string, ids: ReadonlyArray<string>) =>
  (await grqDocs(url, ids)).map(({ index, id, doc }) => {
    const { "@timestamp": _, ...rest } = doc
    return { index, id, doc: rest }
  })

/** The indexes the alias `grq` points at. */
export const grqAliasIndexes = async (url: string): Promise<Array<string>> => {
  const r = await json(`${url}/_alias/grq`)
  return r.status === 200 ? Object.keys(r.body).sort() : []
}

/** Deletes the documents with these ids from every `grq_*` index (found by a search, then one `_bulk` of deletes: the
 * Elasticsearch test distribution has no `_delete_by_query`). */
export const deleteGrqDocs = async (url: string, ids: ReadonlyArray<string>) => {
  if (ids.length === 0) return
  const found = await grqDocs(url, ids)
  if (found.length === 0) return
  const body = found.map((d) => JSON.stringify({ delete: { _index: d.index, _id: d.id } })).join("\n") + "\n"
  const r = await fetch(`${url}/_bulk?refresh=true`, { method: "POST", headers: { "content-type": "application/x-ndjson" }, body })
  if (r.status !== 200) console.warn(`could not delete GRQ documents at ${url}: ${r.status} ${await r.text()}`)
}

// ---------------------------------------------------------------------------
// STAC, read through the STAC API

export const stacGet = (stacUrl: string, p: string) => json(`${stacUrl.replace(/\/+$/, "")}/${p}`)

/** Every item of a collection, following `next` links, sorted by id. */
export const stacItems = async (stacUrl: string, collection: string): Promise<Array<Record<string, any>>> => {
  const out: Array<Record<string, any>> = []
  let next: string | undefined = `${stacUrl.replace(/\/+$/, "")}/collections/${encodeURIComponent(collection)}/items?limit=100`
  while (next) {
    const r = await json(next)
    if (r.status === 404) return []
    if (r.status !== 200) throw new Error(`GET ${next}: ${r.status} ${JSON.stringify(r.body)}`)
    out.push(...(r.body.features as Array<Record<string, any>>))
    next = (r.body.links as Array<{ rel: string; href: string; method?: string }> | undefined)?.find((l) => l.rel === "next" && (l.method ?? "GET") === "GET")?.href
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/**
 * Each collection (null when absent) with its items, as the STAC API serves
 * them. With `withoutStamps` (for SFEOS) the items lose `properties.created`
 * and `properties.updated`, which that server writes itself on every write
 * (the jobs' items have neither): a restored item is otherwise exact, but
 * stamped anew.
 */
export const stacState = async (stacUrl: string, collections: ReadonlyArray<string>, options: { readonly withoutStamps?: boolean } = {}) => {
  const out: Record<string, { collection: unknown; items: Array<Record<string, any>> }> = {}
  for (const c of collections) {
    const r = await stacGet(stacUrl, `collections/${encodeURIComponent(c)}`)
    if (r.status !== 200 && r.status !== 404) throw new Error(`GET collection ${c}: ${r.status} ${JSON.stringify(r.body)}`)
    const items = await stacItems(stacUrl, c)
    out[c] = {
      collection: r.status === 200 ? r.body : null,
      items: options.withoutStamps
        ? items.map((i) => {
            const { created: _c, updated: _u, ...properties } = (i.properties ?? {}) as Record<string, unknown>
            return { ...i, properties }
          })
        : items
    }
  }
  return out
}

/** stacState of the fixture's registry, stamps left out on SFEOS. */
export const registryState = (b: Backends, collections: ReadonlyArray<string>) =>
  stacState(b.stacUrl, collections, { withoutStamps: b.registry === "sfeos" })

export const deleteCollections = async (stacUrl: string, collections: ReadonlyArray<string>) => {
  for (const c of collections) await fetch(`${stacUrl.replace(/\/+$/, "")}/collections/${encodeURIComponent(c)}`, { method: "DELETE" })
}

// ---------------------------------------------------------------------------
// Everything at once

/** The state of everything `jobs` may have touched: S3 (keys under their tags), GRQ (their ids), STAC (their collections). */
export const worldState = async (
  client: S3Client,
  b: Backends,
  jobs: ReadonlyArray<Job>,
  options: { readonly wholeBuckets?: boolean } = {}
) => {
  const s3: Array<readonly [string, string]> = []
  if (options.wholeBuckets) s3.push(...(await s3State(client, b.buckets)))
  else for (const j of jobs) s3.push(...(await s3State(client, b.buckets, j.tag)))
  return {
    s3,
    grq: await grqState(b.grqUrl, jobs.flatMap((j) => j.docIds)),
    stac: await registryState(b, [...new Set(jobs.map((j) => j.collection))])
  }
}

/** Installs the GRQ index template and alias on the engine (as `hysds-stac grq init`). */
export const grqInit = async (b: Backends) => {
  const state = tempDir("init")
  expectExit(await cli(["grq", "init", "--state-dir", state, "--json"], cliEnv(b)), 0)
  fs.rmSync(state, { recursive: true, force: true })
}

/** One test file's world: its own buckets and credentials file, and every job it made, for the cleanup. */
export interface Fixture extends Backends {
  readonly client: S3Client
  /** The CLI's environment for these backends, with `overrides` (e.g. a proxy's URL) on top. */
  readonly env: (overrides?: Record<string, string | undefined>) => Record<string, string>
  /** Remembers a job so that `cleanup` removes its documents and collection. */
  readonly track: <J extends Job>(job: J) => J
  readonly cleanup: () => Promise<void>
}

/** Creates fresh buckets, and installs the GRQ template on the engine (as `hysds-stac grq init`, once per engine). */
export const fixture = async (svc: ServicesEnv, engine: Engine, grqUrl: string, name: string, registry: Registry = "pgstac"): Promise<Fixture> => {
  const t = tag()
  const client = s3Client(svc)
  const jobs: Array<Job> = []
  const backends: Backends = {
    svc,
    engine,
    grqUrl,
    registry,
    stacUrl: stacUrlOf(svc, registry),
    buckets: bucketsFor(t),
    dataUrl: `${name}-${t}.data.example.org`,
    credentialsFile: credentialsFile(svc)
  }
  await createBuckets(client, backends.buckets)
  await grqInit(backends)
  return {
    ...backends,
    client,
    env: (overrides = {}) => cliEnv(backends, overrides),
    track: (job) => {
      jobs.push(job)
      return job
    },
    cleanup: async () => {
      await deleteCollections(backends.stacUrl, [...new Set(jobs.map((j) => j.collection))])
      await deleteGrqDocs(grqUrl, jobs.flatMap((j) => j.docIds))
      await deleteBuckets(client, backends.buckets)
      for (const j of jobs) fs.rmSync(path.dirname(j.dir), { recursive: true, force: true })
      fs.rmSync(path.dirname(backends.credentialsFile), { recursive: true, force: true })
      client.destroy()
    }
  }
}
