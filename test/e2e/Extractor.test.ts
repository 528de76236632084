/**
 * End-to-end: a datasets.json entry's `extractor` run by `hysds-stac ingest` as
 * HySDS runs it, when the product has no `<id>.met.json` (issue 10).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { EXIT, TIMEOUT, type CliResult, type Sandbox, describeRun, hashTree, ingest, parseJson, sandbox } from "../support/State.ts"

const ID = "EXT_product_1"
const EXTRACTED = '{"track": 1.0, "seeded": false, "sensing": {"start": "2024-01-01T00:00:00Z"}, "ratio": 2.50, "name": "caf\\u00e9"}'
const SEED = '{"seeded": true, "extra": 1e-5}'
/** What HySDS 3.3 writes as `<id>.met.json` for EXTRACTED and SEED: Python 3.11's
 * `m = json.loads(EXTRACTED); m["data_product_name"] = ID; m.update(json.loads(SEED)); json.dumps(m, indent=2)`. */
const HYSDS_MET_JSON =
  "{\n  \"track\": 1.0,\n  \"seeded\": true,\n  \"sensing\": {\n    \"start\": \"2024-01-01T00:00:00Z\"\n  },\n  \"ratio\": 2.5,\n  \"name\": \"caf\\u00e9\",\n  \"data_product_name\": \"EXT_product_1\",\n  \"extra\": 1e-05\n}"

const expectRun = (r: CliResult, code: number) => {
  if (r.exitCode !== code) throw new Error(`expected exit ${code}\n${describeRun(r)}`)
}

describe("extractor", () => {
  let sb: Sandbox
  beforeAll(() => {
    sb = sandbox("extractor")
  })
  afterAll(() => sb.cleanup())

  /** A job dir with one product (dataset.json, a data file, the seed met.json) and a datasets.json naming `extractor`. */
  const setup = (name: string, extractorBody: string, options: { seed?: boolean } = {}) => {
    const job = sb.path(name, "job")
    const product = path.join(job, ID)
    mkdirSync(product, { recursive: true })
    writeFileSync(path.join(job, "_job.json"), JSON.stringify({ task_id: "t", job_info: { id: "j", status: "job-completed", exit_code: 0, payload_hash: "h", job_payload: { payload_task_id: "p" } } }))
    writeFileSync(path.join(job, "_context.json"), JSON.stringify({ _prov: {} }))
    writeFileSync(path.join(product, `${ID}.dataset.json`), JSON.stringify({ version: "v1" }))
    writeFileSync(path.join(product, `${ID}.h5`), "data")
    if (options.seed !== false) writeFileSync(path.join(product, "met.json"), SEED)
    const extractor = sb.path(name, "extract.sh")
    writeFileSync(extractor, `#!/bin/sh\n${extractorBody}\n`)
    chmodSync(extractor, 0o755)
    const datasets = sb.path(name, "datasets.json")
    writeFileSync(
      datasets,
      JSON.stringify({
        datasets: [
          {
            ipath: "hysds::data/ext",
            level: "l0",
            type: "ext",
            match_pattern: "/(?P<id>EXT_.+)$",
            // HySDS drops a `script:` prefix and expands $VARS.
            extractor: `script:$EXTRACTOR_DIR/extract.sh`,
            publish: { location: `s3://ext-${name}/products/{met[track]}/{met[ratio]:.1f}/{id}`, urls: [] }
          }
        ]
      })
    )
    const stateDir = sb.path(name, "state")
    return { job, product, datasets, stateDir, env: { EXTRACTOR_DIR: sb.path(name) } }
  }

  test("publishes <id>.met.json as HySDS writes it, renders {met[...]} from it, leaves the job dir as it was", async () => {
    const s = setup("ok", `cat <<'JSON'\n${EXTRACTED}\nJSON`)
    const before = hashTree(s.job)
    const r = await ingest(s.job, s.stateDir, ["--json"], { datasets: s.datasets, env: s.env })
    expectRun(r, EXIT.ok)
    // `{met[track]}` of the float 1.0 is "1.0", as in Python.
    const published = path.join(s.stateDir, "store", "s3", "ext-ok", "products", "1.0", "2.5", ID)
    // The extracted <id>.met.json in place of the seed; the job's _context.json and HySDS's publish context beside it.
    expect(readdirSync(published).sort()).toEqual([`${ID}.context.json`, `${ID}.dataset.json`, `${ID}.h5`, `${ID}.met.json`, "_publish.context.json"])
    expect(readFileSync(path.join(published, `${ID}.met.json`), "utf8")).toBe(HYSDS_MET_JSON)
    expect(hashTree(s.job).filter(([f]) => f !== "_datasets.json")).toEqual(before)
  }, TIMEOUT)

  test("an extractor that fails is an invalid product: its stderr tail named, nothing published", async () => {
    const s = setup("fails", 'echo "warming up" >&2\necho "cannot read granule: bad checksum" >&2\nexit 3')
    const r = await ingest(s.job, s.stateDir, ["--json"], { datasets: s.datasets, env: s.env })
    expectRun(r, EXIT.validation)
    const problems = parseJson(r).error.problems as Array<{ file: string; message: string }>
    expect(problems).toHaveLength(1)
    expect(problems[0]!.file).toBe(s.product)
    expect(problems[0]!.message).toContain(`product ${ID}: the extractor`)
    expect(problems[0]!.message).toContain("exited with status 3")
    expect(problems[0]!.message).toContain("cannot read granule: bad checksum")
    expect(existsSync(path.join(s.stateDir, "store", "s3", "ext-fails"))).toBe(false)
  }, TIMEOUT)

  test("an extractor that prints no JSON object is refused", async () => {
    const s = setup("nojson", 'echo "done"; echo "oops" >&2')
    const r = await ingest(s.job, s.stateDir, ["--json"], { datasets: s.datasets, env: s.env })
    expectRun(r, EXIT.validation)
    const message = parseJson(r).error.problems[0].message as string
    expect(message).toContain("did not print JSON")
    expect(message).toContain("oops")
    const array = setup("array", "echo '[1]'")
    const a = await ingest(array.job, array.stateDir, ["--json"], { datasets: array.datasets, env: array.env })
    expectRun(a, EXIT.validation)
    expect(parseJson(a).error.problems[0].message).toContain("not an object")
  }, TIMEOUT)

  test("HYSDS_STAC_EXTRACTOR_TIMEOUT stops a slow extractor and refuses the product", async () => {
    const s = setup("slow", "sleep 300")
    const r = await ingest(s.job, s.stateDir, ["--json"], { datasets: s.datasets, env: { ...s.env, HYSDS_STAC_EXTRACTOR_TIMEOUT: "1" } })
    expectRun(r, EXIT.validation)
    expect(parseJson(r).error.problems[0].message).toContain("ran longer than 1 s")
    const bad = await ingest(s.job, s.stateDir, ["--json"], { datasets: s.datasets, env: { ...s.env, HYSDS_STAC_EXTRACTOR_TIMEOUT: "soon" } })
    expectRun(bad, EXIT.config)
    expect(parseJson(bad).error.message).toContain("HYSDS_STAC_EXTRACTOR_TIMEOUT")
  }, TIMEOUT)

  test("an existing <id>.met.json wins: the extractor does not run", async () => {
    const s = setup("hasmet", "exit 9")
    writeFileSync(path.join(s.product, `${ID}.met.json`), '{"track": 2.0, "ratio": 1}')
    const r = await ingest(s.job, s.stateDir, ["--json"], { datasets: s.datasets, env: s.env })
    expectRun(r, EXIT.ok)
    const published = path.join(s.stateDir, "store", "s3", "ext-hasmet", "products", "2.0", "1.0", ID)
    // Without an extractor run, the seed met.json is an ordinary file of the product.
    expect(readdirSync(published).sort()).toEqual([`${ID}.context.json`, `${ID}.dataset.json`, `${ID}.h5`, `${ID}.met.json`, "_publish.context.json", "met.json"])
  }, TIMEOUT)
})
