/**
 * `hysds-stac check --datasets ...` against REAL servers: it passes when every
 * backend is reachable and every publish location writable, and otherwise
 * names the backend that is not (the STAC API or GRQ at a closed port, a
 * missing bucket, the wrong GRQ engine), with the exit code of its category,
 * never printing a secret.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import * as fs from "node:fs"
import * as path from "node:path"
import * as FaultProxy from "./FaultProxy.ts"
import {
  DATASETS,
  EXIT,
  type CliResult,
  type Fixture,
  cli,
  describeRun,
  fixture,
  mixedJob,
  parseJson,
  s3State,
  services,
  tag,
  tempDir
} from "./Real.ts"

const svc = services()
const TIMEOUT = 120_000

type Check = { backend: string; target: string; ok: boolean; error?: { category: string; message: string; hint?: string } }

describe.skipIf(!svc)("check on real servers", () => {
  let fx: Fixture
  let dir: string
  let datasets: string
  let state: string
  /** A port nobody listens on: a proxy that was started, then killed. */
  let closed: FaultProxy.FaultProxy
  const runs: Array<CliResult> = []

  beforeAll(async () => {
    fx = await fixture(svc!, "opensearch", svc!.OPENSEARCH_URL!, "check")
    dir = tempDir("check")
    state = path.join(dir, "state")
    // examples/datasets.json, except its one hard-coded bucket (the SLC entry's
    // `s3://hysds-products/...`): on shared servers every location must be a
    // bucket of this file, so it takes the products bucket like the others.
    datasets = path.join(dir, "datasets.json")
    const text = fs.readFileSync(DATASETS, "utf8")
    expect(text).toContain("s3://hysds-products/products/slc/{id}")
    fs.writeFileSync(datasets, text.replace("s3://hysds-products/products/slc/{id}", "s3://{{ DATASET_BUCKET | default('hysds-products') }}/products/slc/{id}"))
    closed = FaultProxy.start(svc!.STAC_API_URL!)
    closed.kill()
  }, TIMEOUT)

  afterAll(async () => {
    closed?.stop()
    await fx?.cleanup()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  }, TIMEOUT)

  const check = async (overrides: Record<string, string | undefined> = {}, json = true, file = datasets) => {
    const r = await cli(["check", "--datasets", file, "--state-dir", state, ...(json ? ["--json"] : [])], fx.env(overrides))
    runs.push(r)
    return r
  }
  const checks = (r: CliResult): Array<Check> => parseJson(r.stdout).checks
  const failed = (r: CliResult) => checks(r).filter((c) => !c.ok)
  const expectExit = (r: CliResult, code: number) => {
    if (r.exitCode !== code) throw new Error(`expected exit ${code}\n${describeRun(r)}`)
  }

  test("exits 0 when every backend is reachable and every location writable, and leaves no probe behind", async () => {
    const r = await check()
    expectExit(r, EXIT.ok)
    const out = parseJson(r.stdout)
    expect(out.ok).toBe(true)
    expect(out.backends).toEqual({
      store: `S3 at ${svc!.S3_ENDPOINT}`,
      index: `GRQ on opensearch at ${svc!.OPENSEARCH_URL}`,
      registry: `STAC API at ${svc!.STAC_API_URL}`,
      // The default journal: a file journal in this run's state dir (HYSDS_STAC_JOURNAL unset).
      journal: expect.stringMatching(/^local file journal in \/.*\/journal$/)
    })
    expect(checks(r).map((c) => [c.backend, c.target, c.ok])).toEqual([
      ["store", `s3://${fx.buckets.catalogs}/catalogs`, true],
      ["store", `s3://s3-us-west-2.amazonaws.com:80/${fx.buckets.products}/products/area_of_interest`, true],
      ["store", `s3://s3-us-west-2.amazonaws.com:80/${fx.buckets.browse}/browse/area_of_interest`, true],
      ["store", `s3://${fx.buckets.products}/products/S1-IFG`, true],
      ["store", `s3://${fx.buckets.products}/products/slc`, true],
      ["index", "GRQ", true],
      ["registry", "STAC", true]
    ])
    // The probes were written and removed again.
    expect(await s3State(fx.client, fx.buckets)).toEqual([])
    const text = await check({}, false)
    expectExit(text, EXIT.ok)
    expect(text.stdout).not.toContain("FAIL")
  }, TIMEOUT)

  test("HYSDS_STAC_RETRIES sets how often a failing GRQ request is tried (the one retry policy)", async () => {
    // Every GRQ request answered 503 by a proxy in front of the real OpenSearch.
    const failing = FaultProxy.start(svc!.OPENSEARCH_URL!, [{ match: () => true, nth: 1, count: 1_000_000, status: 503 }])
    try {
      const tries = async (retries: string) => {
        const before = failing.seen.length
        const r = await check({ GRQ_ES_URL: failing.url, HYSDS_STAC_RETRIES: retries, HYSDS_STAC_RETRY_BASE_MS: "1", HYSDS_STAC_RETRY_MAX_MS: "5" })
        expectExit(r, EXIT.index)
        return failing.seen.length - before
      }
      const once = await tries("0")
      expect(once).toBeGreaterThan(0)
      expect(await tries("2")).toBe(3 * once)
    } finally {
      failing.stop()
    }
  }, TIMEOUT)

  test("the STAC API at a closed port: exit 8, the STAC API named", async () => {
    const r = await check({ STAC_API_URL: closed.url })
    expectExit(r, EXIT.catalogApi)
    expect(failed(r).map((c) => [c.backend, c.error?.category])).toEqual([["registry", "catalog-api"]])
    const error = failed(r)[0]!.error!
    expect(error.message).toContain("STAC API")
    expect(error.message).toContain(`127.0.0.1:${closed.port}`)
    expect(error.hint).toContain("STAC_API_URL")
    const text = await check({ STAC_API_URL: closed.url }, false)
    expectExit(text, EXIT.catalogApi)
    expect(text.stdout).toMatch(/FAIL\s+registry\s+STAC/)
    expect(text.stdout).toContain("STAC API")
  }, TIMEOUT)

  test("GRQ at a closed port: exit 7, the GRQ cluster named", async () => {
    const r = await check({ GRQ_ES_URL: closed.url })
    expectExit(r, EXIT.index)
    expect(failed(r).map((c) => [c.backend, c.error?.category])).toEqual([["index", "index"]])
    const error = failed(r)[0]!.error!
    expect(error.message).toContain("GRQ")
    expect(error.message).toContain("OpenSearch")
    expect(error.message).toContain(`127.0.0.1:${closed.port}`)
    const text = await check({ GRQ_ES_URL: closed.url }, false)
    expectExit(text, EXIT.index)
    expect(text.stdout).toMatch(/FAIL\s+index\s+GRQ/)
  }, TIMEOUT)

  test("a missing bucket: exit 6, each location in it named, the hint says to create the bucket", async () => {
    const missing = `hsit-${tag()}-missing`
    const r = await check({ DATASET_BUCKET: missing })
    expectExit(r, EXIT.storage)
    const bad = failed(r)
    expect(bad.map((c) => c.target)).toEqual([
      `s3://s3-us-west-2.amazonaws.com:80/${missing}/products/area_of_interest`,
      `s3://${missing}/products/S1-IFG`,
      `s3://${missing}/products/slc`
    ])
    for (const c of bad) {
      expect(c.error!.category).toBe("storage")
      expect(c.error!.message).toContain(missing)
      expect(c.error!.hint).toMatch(new RegExp(`create (the )?bucket ${missing}`))
    }
    // The other buckets passed.
    expect(checks(r).filter((c) => c.ok).map((c) => c.target)).toContain(`s3://${fx.buckets.catalogs}/catalogs`)
  }, TIMEOUT)

  test("GRQ_ES_ENGINE=elasticsearch pointed at OpenSearch: exit 7, says it is not Elasticsearch", async () => {
    const r = await check({ GRQ_ES_ENGINE: "elasticsearch" })
    expectExit(r, EXIT.index)
    expect(failed(r).map((c) => c.backend)).toEqual(["index"])
    const error = failed(r)[0]!.error!
    expect(error.message).toContain("Elasticsearch")
    expect(error.message).toContain(svc!.OPENSEARCH_URL!)
    expect(`${error.message} ${error.hint}`).toContain("OpenSearch")
    expect(error.hint).toContain("GRQ_ES_ENGINE=opensearch")
  }, TIMEOUT)

  test("secrets (S3_SECRET_ACCESS_KEY, STAC_API_KEY) never appear in the output or the errors", async () => {
    const s3Secret = `s3-secret-${tag()}`
    const stacKey = `stac-key-${tag()}`
    const cases: Array<Record<string, string>> = [
      // Everything up, a STAC API key configured.
      { STAC_API_KEY: stacKey },
      // A wrong secret: every S3 request is refused with SignatureDoesNotMatch.
      { S3_SECRET_ACCESS_KEY: s3Secret, STAC_API_KEY: stacKey },
      // Failures at GRQ and STAC as well, with both secrets configured.
      { S3_SECRET_ACCESS_KEY: s3Secret, STAC_API_KEY: stacKey, STAC_API_URL: closed.url, GRQ_ES_URL: closed.url }
    ]
    const exits: Array<number | null> = []
    for (const overrides of cases) {
      for (const json of [true, false]) {
        const r = await check(overrides, json)
        exits.push(r.exitCode)
        for (const secret of [s3Secret, stacKey]) {
          expect({ overrides, json, leaked: r.stdout.includes(secret) || r.stderr.includes(secret) }).toEqual({ overrides, json, leaked: false })
        }
      }
    }
    // The failures did happen (their messages are what was searched for secrets).
    expect(exits).toEqual([EXIT.ok, EXIT.ok, EXIT.storage, EXIT.storage, EXIT.storage, EXIT.storage])
    // And the real test secret was never printed by any run of this file.
    for (const r of runs) expect(`${r.stdout}${r.stderr}`).not.toContain(svc!.S3_SECRET_ACCESS_KEY!)
  }, TIMEOUT)

  test("a location whose datasets.json entry names its own s3-profile-name is probed with it, as ingest writes it", async () => {
    // Only the AOI entry (s3-profile-name: default, which the credentials file
    // holds with the right keys), and store-wide keys that are wrong.
    const aoiOnly = path.join(dir, "datasets-aoi.json")
    const entries = JSON.parse(fs.readFileSync(DATASETS, "utf8")).datasets as Array<{ type: string }>
    fs.writeFileSync(aoiOnly, JSON.stringify({ datasets: entries.filter((e) => e.type === "area_of_interest") }))
    const env = { S3_SECRET_ACCESS_KEY: `wrong-${tag()}` }
    // Ingest publishes the AOI product with the entry's profile: the location IS writable.
    const job = fx.track(mixedJob(tag()))
    for (const entry of fs.readdirSync(job.dir)) if (!entry.startsWith("AOI_") && !entry.startsWith("_")) fs.rmSync(path.join(job.dir, entry), { recursive: true })
    const published = await cli(["ingest", job.dir, "--datasets", aoiOnly, "--state-dir", state, "--json"], fx.env(env))
    if (published.exitCode !== EXIT.ok) throw new Error(describeRun(published))
    // So check must find it writable too.
    const r = await check(env, true, aoiOnly)
    expect(checks(r).map((c) => [c.target, c.ok, c.error?.message ?? ""])).toEqual([
      [`s3://s3-us-west-2.amazonaws.com:80/${fx.buckets.products}/products/area_of_interest`, true, ""],
      [`s3://s3-us-west-2.amazonaws.com:80/${fx.buckets.browse}/browse/area_of_interest`, true, ""],
      ["GRQ", true, ""],
      ["STAC", true, ""]
    ])
    expectExit(r, EXIT.ok)
  }, TIMEOUT)
})
