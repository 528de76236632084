/**
 * Issue 8 item 9: STAC ids the registry refuses (`/`, `#`, `?`), an item with a
 * null geometry, a latitude of 91 and a classic dataset.json `location` with a
 * longitude of 200 used to be found at publish time, after files were copied
 * (a 502 and a rollback). Each is now refused at planning: exit 4, the message
 * names the file and the JSON path, nothing is published anywhere, and a clean
 * ingest afterwards succeeds. Run through the real CLI on the embedded default
 * and, when the test services are up, on the real S3 + OpenSearch + STAC API.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Real from "../integration/Real.ts"
import { cli, describeRun, EXIT, ingest, isEmpty, sandbox, snapshot, TIMEOUT } from "../support/State.ts"
import { makeCanary } from "./Canary.ts"

/** The files a case spoils, found by shape so the renamed copies of the real-server tests work too. */
const find = (dir: string, test: (rel: string) => boolean): string => {
  const walk = (d: string): string | undefined => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name)
      if (e.isDirectory()) {
        const found = walk(full)
        if (found) return found
      } else if (test(path.relative(dir, full))) return full
    }
    return undefined
  }
  const found = walk(dir)
  if (!found) throw new Error(`no file to spoil in ${dir}`)
  return found
}
const secondItem = (job: string) => find(job, (rel) => rel.startsWith("stac_catalog_") && /-002\.json$/.test(rel))
const aoiDataset = (job: string) => find(job, (rel) => rel.startsWith("AOI_") && rel.endsWith(".dataset.json"))

const edit = (file: string, f: (json: Record<string, any>) => void): string => {
  const json = JSON.parse(fs.readFileSync(file, "utf8"))
  f(json)
  fs.writeFileSync(file, JSON.stringify(json, null, 2))
  return file
}

interface Case {
  readonly name: string
  /** Spoils the job; returns the file whose problem must be named. */
  readonly spoil: (job: string) => string
  readonly jsonPath: string
  readonly words: string
}

const CASES: ReadonlyArray<Case> = [
  { name: "an item id with '/'", spoil: (j) => edit(secondItem(j), (i) => (i.id = `${i.id}/x`)), jsonPath: "$.id", words: "'/'" },
  { name: "an item id with '#'", spoil: (j) => edit(secondItem(j), (i) => (i.id = `${i.id}#x`)), jsonPath: "$.id", words: "'#'" },
  { name: "an item id with '?'", spoil: (j) => edit(secondItem(j), (i) => (i.id = `${i.id}?x`)), jsonPath: "$.id", words: "'?'" },
  {
    name: "an item with a null geometry",
    spoil: (j) => edit(secondItem(j), (i) => ((i.geometry = null), delete i.bbox)),
    jsonPath: "$.geometry",
    words: "geometry"
  },
  {
    name: "an item with a latitude of 91",
    spoil: (j) => edit(secondItem(j), (i) => (i.geometry.coordinates[0][2][1] = 91)),
    jsonPath: "$.geometry.coordinates[0][2]",
    words: "latitude 91 is outside [-90, 90]"
  },
  {
    name: "a dataset.json location with longitude 200",
    spoil: (j) => edit(aoiDataset(j), (d) => (d.location.coordinates[0][1][0] = 200)),
    jsonPath: "$.location.coordinates[0][1]",
    words: "longitude 200 is outside [-180, 180]"
  }
]

/** The refusal names the file (by the name it has in the job) and the JSON path. */
const expectNamed = (output: string, file: string, c: Case) => {
  expect(output).toContain(path.basename(file))
  expect(output).toContain(c.jsonPath)
  expect(output).toContain(c.words)
}

describe("STAC registry rules and coordinate ranges: refused at planning (embedded default)", () => {
  for (const c of CASES) {
    test(
      `${c.name}: exit 4 naming file and JSON path, nothing published, a clean ingest follows`,
      async () => {
        const box = sandbox("stacrules")
        try {
          const canary = makeCanary(box.root)
          const before = canary.hashes()
          const job = box.copyExample("mixed-job", "spoiled-job")
          const file = c.spoil(job)
          const refused = await ingest(job, box.stateDir)
          expect(refused.exitCode, describeRun(refused)).toBe(EXIT.validation)
          expectNamed(refused.stdout + refused.stderr, file, c)
          expect(isEmpty(await snapshot(box.stateDir))).toBe(true)
          expect(fs.existsSync(path.join(job, "_datasets.json"))).toBe(false)
          expect(canary.hashes()).toEqual(before)
          // `validate` (no registry) refuses it with the same default rules.
          const validated = await cli(["validate", job])
          expect(validated.exitCode, describeRun(validated)).toBe(EXIT.validation)
          expectNamed(validated.stdout + validated.stderr, file, c)

          const clean = await ingest(box.copyExample("mixed-job", "clean-job"), box.stateDir)
          expect(clean.exitCode, describeRun(clean)).toBe(EXIT.ok)
          expect(isEmpty(await snapshot(box.stateDir))).toBe(false)
        } finally {
          box.cleanup()
        }
      },
      TIMEOUT
    )
  }
})

// On the real servers: the STAC API adapter exposes pgstac's rules, so the same
// jobs are refused before anything reaches S3, GRQ or STAC-FastAPI.
const svc = Real.services()
describe.skipIf(svc === undefined)("STAC registry rules and coordinate ranges: refused at planning (real S3, OpenSearch, STAC API)", () => {
  let fx: Real.Fixture
  beforeAll(async () => {
    fx = await Real.fixture(svc!, "opensearch", svc!.OPENSEARCH_URL!, "stacrules")
  }, 120_000)
  afterAll(async () => {
    await fx?.cleanup()
  }, 120_000)

  test(
    "each case: exit 4 naming file and JSON path, nothing in S3, GRQ or STAC for its tag; then a clean ingest succeeds",
    async () => {
      const state = Real.tempDir("stacrules-state")
      const spoiled: Array<Real.Job> = []
      for (const c of CASES) {
        const job = fx.track(Real.mixedJob(Real.tag()))
        spoiled.push(job)
        const file = c.spoil(job.dir)
        const refused = await Real.ingest(job, state, fx.env())
        Real.expectExit(refused, EXIT.validation)
        expectNamed(refused.stdout + refused.stderr, file, c)
        const world = await Real.worldState(fx.client, fx, [job])
        expect({ case: c.name, ...world }).toEqual({ case: c.name, s3: [], grq: [], stac: { [job.collection]: { collection: null, items: [] } } })
      }
      const clean = fx.track(Real.mixedJob(Real.tag()))
      Real.expectExit(await Real.ingest(clean, state, fx.env()), EXIT.ok)
      const landed = await Real.worldState(fx.client, fx, [clean])
      expect(landed.grq.length).toBe(clean.docIds.length)
      expect(landed.s3.length).toBeGreaterThan(0)
      // The refused jobs still left nothing behind.
      const after = await Real.worldState(fx.client, fx, spoiled)
      expect(after.s3).toEqual([])
      expect(after.grq).toEqual([])
    },
    600_000
  )
})
