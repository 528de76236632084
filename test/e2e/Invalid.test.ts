/**
 * End-to-end: what the CLI refuses. Broken catalogs (each a copy of mixed-job
 * broken one way) and broken configuration must stop the ingest before anything
 * is published, with the exit code of their category and a message naming the
 * file and the problem; `validate` must list every problem at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import {
  DATASETS,
  EMPTY_SUMMARY,
  EXIT,
  TIMEOUT,
  type CliResult,
  type Json,
  type Sandbox,
  cli,
  describeRun,
  hashTree,
  ingest,
  parseJson,
  readJson,
  sandbox,
  snapshot,
  summary
} from "../support/State.ts"

const CATALOG = "stac_catalog_20240115_etna"
const SCENES = `${CATALOG}/etna-scenes`
const itemFile = (n: number) => `${SCENES}/items/etna-scene-00${n}/etna-scene-00${n}.json`

const expectRun = (r: CliResult, code: number) => {
  if (r.exitCode !== code) throw new Error(`expected exit ${code}\n${describeRun(r)}`)
}

const editJson = (file: string, edit: (json: any) => void) => {
  const json = JSON.parse(readFileSync(file, "utf8"))
  edit(json)
  writeFileSync(file, JSON.stringify(json, null, 2))
}

/** One way of breaking a copy of mixed-job; returns what the error output must say. */
interface Breakage {
  readonly name: string
  readonly apply: (job: string, sb: Sandbox) => void
  /** The file the problem must be reported against (relative to the job). */
  readonly file: string
  /** Text of the problem, and of its JSON path when there is one. */
  readonly problem: RegExp
}

const breakages: ReadonlyArray<Breakage> = [
  {
    name: "an asset href escaping the catalog with ../../..",
    apply: (job) => editJson(path.join(job, itemFile(1)), (j) => (j.assets.data.href = "../../../../_job.json")),
    file: itemFile(1),
    problem: /\$\.assets\.data\.href: asset "data" href "\.\.\/\.\.\/\.\.\/\.\.\/_job\.json" resolves outside the catalog directory/
  },
  {
    name: "a symlink asset pointing outside the job dir",
    apply: (job, sb) => {
      const secret = sb.path("outside", "secret.tif")
      mkdirSync(path.dirname(secret), { recursive: true })
      writeFileSync(secret, "not part of the job\n")
      const data = path.join(job, SCENES, "items/etna-scene-002/data.tif")
      rmSync(data)
      symlinkSync(secret, data)
    },
    file: itemFile(2),
    problem: /\$\.assets\.data\.href: asset "data" href "\.\/data\.tif" is a symlink leading outside the catalog directory/
  },
  {
    name: "a child link cycle",
    apply: (job) =>
      editJson(path.join(job, SCENES, "collection.json"), (j) => j.links.push({ rel: "child", href: "../catalog.json", type: "application/json" })),
    file: `${SCENES}/collection.json`,
    problem: /\$\.links\[5\]\.href: link cycle: catalog\.json → etna-scenes\/collection\.json → catalog\.json/
  },
  {
    name: "a duplicate item id in the collection",
    apply: (job) => editJson(path.join(job, itemFile(3)), (j) => (j.id = "etna-scene-001")),
    file: itemFile(3),
    problem: /\$\.id: duplicate item id "etna-scene-001" in collection "etna-scenes"/
  },
  {
    name: "broken JSON in an item file",
    apply: (job) => writeFileSync(path.join(job, itemFile(2)), '{\n  "type": "Feature",\n  "id": "etna-scene-002",\n'),
    file: itemFile(2),
    problem: /: malformed JSON/
  }
]

/** `  - <file> <json path>: <message>`, the line describe() prints per problem. */
const problemLine = (job: string, b: Breakage) =>
  new RegExp(`^  - ${path.join(job, b.file).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b.*${b.problem.source}`, "m")

describe("invalid catalogs are refused before anything is published", () => {
  let sb: Sandbox
  beforeAll(() => {
    sb = sandbox("invalid")
  })
  afterAll(() => sb.cleanup())

  breakages.forEach((b, n) => {
    test(
      `${b.name}: ingest exits 4 naming the file and the problem; validate reports it too`,
      async () => {
        const job = sb.copyExample("mixed-job", `job-${n}`)
        b.apply(job, sb)
        const state = sb.path(`state-${n}`)
        const jobBefore = hashTree(job)

        const r = await ingest(job, state)
        expectRun(r, EXIT.validation)
        expect(r.stderr).toContain(`validation error: the job in ${job} is invalid`)
        expect(r.stderr).toMatch(problemLine(job, b))
        expect(r.stderr).toContain("Nothing had been published")
        expect(r.stdout).toBe("")
        expect(summary(await snapshot(state))).toEqual(EMPTY_SUMMARY)
        expect(hashTree(job)).toEqual(jobBefore) // no _datasets.json

        const v = await cli(["validate", job])
        expectRun(v, EXIT.validation)
        expect(v.stderr).toMatch(problemLine(job, b))
        expect(v.stdout).toBe("")
      },
      TIMEOUT
    )
  })

  test(
    "two problems at once: ingest and validate (with and without --datasets) report both",
    async () => {
      const job = sb.copyExample("mixed-job", "job-two")
      const escape = breakages[0]!
      const broken = breakages[4]!
      escape.apply(job, sb)
      broken.apply(job, sb)
      // And a third, outside the catalog: a classic product's dataset.json without a version.
      writeFileSync(path.join(job, "AOI_volcano_etna", "AOI_volcano_etna.dataset.json"), JSON.stringify({ label: "no version" }))
      const datasetProblem = /AOI_volcano_etna\.dataset\.json \$\.version: required field missing: version/

      for (const args of [["validate", job], ["validate", job, "--datasets", DATASETS]]) {
        const v = await cli(args)
        expectRun(v, EXIT.validation)
        expect(v.stderr).toContain("(3 problems)")
        expect(v.stderr).toMatch(problemLine(job, escape))
        expect(v.stderr).toMatch(problemLine(job, broken))
        expect(v.stderr).toMatch(datasetProblem)
      }

      const j = await cli(["validate", job, "--json"])
      expectRun(j, EXIT.validation)
      const out = parseJson(j)
      expect(out.ok).toBe(false)
      expect(out.error.category).toBe("validation")
      expect(out.error.problems.map((p: Json) => [p.file, p.path])).toEqual([
        [path.join(job, escape.file), "$.assets.data.href"],
        [path.join(job, broken.file), ""],
        [path.join(job, "AOI_volcano_etna", "AOI_volcano_etna.dataset.json"), "$.version"]
      ])

      // validate on the catalog file alone: the catalog's two problems.
      const c = await cli(["validate", path.join(job, CATALOG, "catalog.json")])
      expectRun(c, EXIT.validation)
      expect(c.stderr).toContain("(2 problems)")
      expect(c.stderr).toMatch(problemLine(job, escape))
      expect(c.stderr).toMatch(problemLine(job, broken))

      const state = sb.path("state-two")
      const r = await ingest(job, state)
      expectRun(r, EXIT.validation)
      expect(r.stderr).toContain("(3 problems)")
      expect(r.stderr).toMatch(problemLine(job, escape))
      expect(r.stderr).toMatch(problemLine(job, broken))
      expect(r.stderr).toMatch(datasetProblem)
      expect(summary(await snapshot(state))).toEqual(EMPTY_SUMMARY)
    },
    TIMEOUT
  )

  test(
    "validate on the good mixed-job exits 0",
    async () => {
      const job = sb.copyExample("mixed-job", "job-good")
      const jobBefore = hashTree(job)
      const v = await cli(["validate", job])
      expectRun(v, EXIT.ok)
      expect(v.stdout.trim()).toBe("valid: 1 STAC catalog(s), 3 item(s), 3 product(s)")
      expect(v.stderr).toBe("")
      const withConfig = await cli(["validate", job, "--datasets", DATASETS, "--json"])
      expectRun(withConfig, EXIT.ok)
      expect(parseJson(withConfig)).toEqual({ ok: true, catalogs: 1, items: 3, products: 3, warnings: [] })
      const catalog = await cli(["validate", path.join(job, CATALOG, "catalog.json")])
      expectRun(catalog, EXIT.ok)
      expect(catalog.stdout).toContain("3 item(s)")
      expect(hashTree(job)).toEqual(jobBefore) // validate writes nothing
    },
    TIMEOUT
  )
})

// ---------------------------------------------------------------------------

describe("configuration and backend-setting errors: refused, nothing published", () => {
  let sb: Sandbox
  let job: string
  beforeAll(() => {
    sb = sandbox("config")
    job = sb.copyExample("mixed-job")
  })
  afterAll(() => sb.cleanup())

  const expectNothingPublished = async (state: string) => {
    expect(summary(await snapshot(state))).toEqual(EMPTY_SUMMARY)
    expect(existsSync(path.join(job, "_datasets.json"))).toBe(false)
  }

  test(
    "no --datasets and no HYSDS_DATASETS_CFG: exit 3 with a hint",
    async () => {
      const state = sb.path("state-none")
      const r = await cli(["ingest", job, "--state-dir", state])
      expectRun(r, EXIT.config)
      expect(r.stderr).toContain("config error: no datasets.json given")
      expect(r.stderr).toMatch(/^hint: .*--datasets.*HYSDS_DATASETS_CFG/m)
      await expectNothingPublished(state)
      const j = await cli(["ingest", job, "--state-dir", state, "--json"])
      expectRun(j, EXIT.config)
      expect(parseJson(j).error).toMatchObject({ category: "config", tag: "ConfigError", message: "no datasets.json given" })
      expect(parseJson(j).error.hint).toContain("--datasets")
    },
    TIMEOUT
  )

  test(
    "HYSDS_DATASETS_CFG naming a missing file: exit 3 naming it",
    async () => {
      const state = sb.path("state-missing")
      const missing = sb.path("no-such-datasets.json")
      const r = await cli(["ingest", job, "--state-dir", state], { env: { HYSDS_DATASETS_CFG: missing } })
      expectRun(r, EXIT.config)
      expect(r.stderr).toContain(missing)
      await expectNothingPublished(state)
    },
    TIMEOUT
  )

  test(
    "an unknown template variable: exit 3 naming the entry, the field and the variable",
    async () => {
      const config = readJson(DATASETS) as any
      const entry = config.datasets[1]
      expect(entry.ipath).toBe("hysds::data/area_of_interest")
      entry.publish.location = String(entry.publish.location).replace("/{id}", "/{nope}/{id}")
      const file = sb.path("datasets-nope.json")
      writeFileSync(file, JSON.stringify(config, null, 2))
      const state = sb.path("state-nope")

      const r = await ingest(job, state, [], { datasets: file })
      expectRun(r, EXIT.config)
      expect(r.stderr).toContain(`config error: ${file}: datasets[1] (hysds::data/area_of_interest): publish.location: unknown variable nope`)
      expect(r.stderr).toMatch(/^hint: .*\bid\b.*\bversion\b/m) // the variables that are available
      await expectNothingPublished(state)

      const j = await ingest(job, state, ["--json"], { datasets: file })
      expectRun(j, EXIT.config)
      const out = parseJson(j)
      expect(out.error.category).toBe("config")
      expect(out.error.message).toContain("datasets[1] (hysds::data/area_of_interest)")
      expect(out.error.message).toContain("publish.location")
      expect(out.error.message).toContain("nope")
      await expectNothingPublished(state)

      // validate --datasets checks the configuration too.
      const v = await cli(["validate", job, "--datasets", file])
      expectRun(v, EXIT.config)
      expect(v.stderr).toContain("unknown variable nope")
    },
    TIMEOUT
  )

  test(
    "a malformed datasets.json: exit 3 saying where",
    async () => {
      const file = sb.path("datasets-malformed.json")
      writeFileSync(file, readFileSync(DATASETS, "utf8").slice(0, 300))
      const state = sb.path("state-malformed")
      const r = await ingest(job, state, [], { datasets: file })
      expectRun(r, EXIT.config)
      expect(r.stderr).toContain(file)
      expect(r.stderr).toMatch(/malformed JSON at line \d+, column \d+/)
      await expectNothingPublished(state)

      const schema = sb.path("datasets-schema.json")
      writeFileSync(schema, JSON.stringify({ datasets: { not: "a list" } }))
      const s = await ingest(job, state, [], { datasets: schema })
      expectRun(s, EXIT.config)
      expect(s.stderr).toContain(schema)
      await expectNothingPublished(state)
    },
    TIMEOUT
  )

  test(
    "STAC_API_URL=http://127.0.0.1:9: refused, never a silent fallback to the embedded registry; nothing published",
    async () => {
      const state = sb.path("state-stac-api")
      const r = await ingest(job, state, [], { env: { STAC_API_URL: "http://127.0.0.1:9" } })
      // Exit 3 while this build has no STAC API backend; once it has one, the server at that
      // URL is unreachable: exit 8 (catalog-api). Either way the run must fail, and say why.
      if (r.exitCode === EXIT.config) {
        expect(r.stderr).toMatch(/config error: the STAC API backend is configured \(STAC_API_URL\) but not available/)
      } else {
        expectRun(r, EXIT.catalogApi)
        expect(r.stderr).toMatch(/catalog-api error: .*127\.0\.0\.1:9/)
      }
      expect(r.stderr).toMatch(/^hint: .*STAC_API_URL/m)
      expect(r.stdout).not.toContain("Published")
      await expectNothingPublished(state)
    },
    TIMEOUT
  )

  test(
    "GRQ_ES_ENGINE without its URL: exit 3 naming the missing setting, nothing published",
    async () => {
      const state = sb.path("state-grq")
      const r = await ingest(job, state, [], { env: { GRQ_ES_ENGINE: "opensearch" } })
      expectRun(r, EXIT.config)
      expect(r.stderr).toMatch(/GRQ_ES_ENGINE=opensearch is set but GRQ_\w*URL is not/)
      expect(r.stderr).toMatch(/^hint: /m)
      expect(r.stdout).toBe("")
      await expectNothingPublished(state)
    },
    TIMEOUT
  )

  // Output.ts: "errors, rollback lines and progress go to stderr so they never corrupt that JSON".
  test(
    "--json: stdout stays one JSON object while the CLI retries an unreachable STAC API",
    async () => {
      const state = sb.path("state-stac-api-json")
      const r = await ingest(job, state, ["--json"], { env: { STAC_API_URL: "http://127.0.0.1:9" } })
      expect([EXIT.config, EXIT.catalogApi] as Array<number>).toContain(r.exitCode)
      const out = parseJson(r)
      expect(out.ok).toBe(false)
      expect(["config", "catalog-api"]).toContain(out.error.category)
      await expectNothingPublished(state)
    },
    TIMEOUT
  )

  test(
    "HYSDS_STAC_HOME is the state dir when no --state-dir is given; the flag wins over it",
    async () => {
      const home = sb.path("home")
      const copy = sb.copyExample("mixed-job", "job-home")
      const r = await cli(["ingest", copy, "--json"], { env: { HYSDS_STAC_HOME: home, HYSDS_DATASETS_CFG: DATASETS } })
      expectRun(r, EXIT.ok)
      const published = await snapshot(home)
      expect(published.files).toHaveLength(27) // 24 published files and a publish context at each of the 3 publish locations
      expect(published.documents).toHaveLength(5)
      // Everything went there (the run cannot have published twice), not to ./.hysds-stac of the cwd.
      expect(published.collections.map((c) => c.id)).toEqual(["etna-scenes"])

      const list = await cli(["grq", "list", "--json"], { env: { HYSDS_STAC_HOME: home } })
      expectRun(list, EXIT.ok)
      expect(parseJson<Array<Json>>(list)).toHaveLength(5)
      const other = await cli(["grq", "list", "--json", "--state-dir", sb.path("other-state")], { env: { HYSDS_STAC_HOME: home } })
      expectRun(other, EXIT.ok)
      expect(parseJson(other)).toEqual([])
    },
    TIMEOUT
  )
})
