/**
 * End-to-end: the read-only commands (`grq get|list`, `stac collections|items`)
 * after a mixed-job ingest, and `--help`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import {
  EXIT,
  TIMEOUT,
  type CliResult,
  type Json,
  type Sandbox,
  type Snapshot,
  cli,
  describeRun,
  ingest,
  parseJson,
  plain,
  sandbox,
  seedDocuments,
  snapshot
} from "../support/State.ts"

const BASE = "https://stac-data.example.com/catalogs/stac_catalog_20240115_etna"
const AOI = "AOI_volcano_etna"
const IFG = "S1-IFG_RM_20240115T103000_20240116T103000_etna"
const ITEMS = ["etna-scene-001", "etna-scene-002", "etna-scene-003"]

const expectRun = (r: CliResult, code: number) => {
  if (r.exitCode !== code) throw new Error(`expected exit ${code}\n${describeRun(r)}`)
}

describe("inspecting the state after a mixed-job ingest", () => {
  let sb: Sandbox
  let state: Snapshot
  const run = (...args: Array<string>) => cli([...args, "--state-dir", sb.stateDir])

  beforeAll(async () => {
    sb = sandbox("inspect")
    expectRun(await ingest(sb.copyExample("mixed-job"), sb.stateDir), EXIT.ok)
    state = await snapshot(sb.stateDir)
    expect(state.documents).toHaveLength(5)
  }, TIMEOUT)
  afterAll(() => sb.cleanup())

  test(
    "grq get <id> --json prints the record: index, id and the document",
    async () => {
      for (const id of [AOI, "etna-scene-002"]) {
        const r = await run("grq", "get", id, "--json")
        expectRun(r, EXIT.ok)
        expect(parseJson(r)).toEqual(state.documents.find((d) => d.id === id)!)
      }
      const human = await run("grq", "get", IFG)
      expectRun(human, EXIT.ok)
      const [first, ...rest] = human.stdout.split("\n")
      expect(first).toBe("index: grq_s1-ifg_v2.0")
      expect(JSON.parse(rest.join("\n"))).toEqual(state.documents.find((d) => d.id === IFG)!.doc)
    },
    TIMEOUT
  )

  test(
    "grq get of a missing id exits 1 and says so on stderr",
    async () => {
      const r = await run("grq", "get", "missing")
      expectRun(r, 1)
      expect(r.stderr).toContain("no GRQ document with id missing")
      expect(r.stdout).toBe("")
    },
    TIMEOUT
  )

  test(
    "grq list --dataset filters by dataset; without it, every document",
    async () => {
      const aoi = await run("grq", "list", "--dataset", "area_of_interest", "--json")
      expectRun(aoi, EXIT.ok)
      expect(parseJson(aoi)).toEqual([state.documents.find((d) => d.id === AOI)!])

      const items = await run("grq", "list", "--dataset", "catalog", "--json")
      expectRun(items, EXIT.ok)
      expect(parseJson<Array<Json>>(items).map((r) => r.id)).toEqual(ITEMS)

      const none = await run("grq", "list", "--dataset", "no_such_dataset", "--json")
      expectRun(none, EXIT.ok)
      expect(parseJson(none)).toEqual([])

      const all = await run("grq", "list", "--json")
      expectRun(all, EXIT.ok)
      expect(parseJson<Array<Json>>(all).map((r) => r.id).sort()).toEqual([AOI, IFG, ...ITEMS].sort())

      const human = await run("grq", "list")
      expectRun(human, EXIT.ok)
      expect(human.stdout).toContain(`${AOI}\tgrq_v1.0_area_of_interest\tarea_of_interest`)
      expect(human.stdout).toContain(`etna-scene-001\tgrq_stac_catalog_catalog\tcatalog`)
      expect(human.stdout.trim().endsWith("5 document(s)")).toBe(true)
    },
    TIMEOUT
  )

  test(
    "stac collections --json lists etna-scenes as registered",
    async () => {
      const r = await run("stac", "collections", "--json")
      expectRun(r, EXIT.ok)
      const list = parseJson<Array<Json>>(r)
      expect(list).toEqual(state.collections as Array<Json>)
      expect(list.map((c) => c.id)).toEqual(["etna-scenes"])
      expect((list[0]!.links as Array<Json>).find((l) => l.rel === "canonical")!.href).toBe(`${BASE}/etna-scenes/collection.json`)
      const human = await run("stac", "collections")
      expectRun(human, EXIT.ok)
      expect(human.stdout).toContain("etna-scenes\tDemo scenes")
      expect(human.stdout).toContain("1 collection(s)")
    },
    TIMEOUT
  )

  test(
    "stac items etna-scenes --json lists its 3 items; an unknown collection is a STAC API error (exit 8)",
    async () => {
      const r = await run("stac", "items", "etna-scenes", "--json")
      expectRun(r, EXIT.ok)
      const items = parseJson<Array<Json>>(r)
      expect(items.map((i) => i.id).sort()).toEqual(ITEMS)
      for (const item of items) {
        expect(item).toEqual(state.items["etna-scenes"]!.find((i) => i.id === item.id)!)
        const canonical = (item.links as Array<Json>).filter((l) => l.rel === "canonical")
        expect(canonical.map((l) => l.href)).toEqual([`${BASE}/etna-scenes/items/${item.id}/${item.id}.json`])
      }
      const human = await run("stac", "items", "etna-scenes")
      expectRun(human, EXIT.ok)
      expect(human.stdout).toContain("etna-scene-001\t2024-01-15T10:30:00Z")
      expect(human.stdout).toContain("3 item(s) in etna-scenes")

      const missing = await run("stac", "items", "no-such-collection")
      expectRun(missing, EXIT.catalogApi)
      expect(missing.stderr).toContain("no-such-collection")
      expect(missing.stdout).toBe("")
    },
    TIMEOUT
  )

  test(
    "inspecting changes nothing",
    async () => {
      expect(await snapshot(sb.stateDir)).toEqual(state)
    },
    TIMEOUT
  )
})

test(
  "on an empty state dir, the lists are empty",
  async () => {
    const sb = sandbox("inspect-empty")
    try {
      const grq = await cli(["grq", "list", "--json", "--state-dir", sb.stateDir])
      expectRun(grq, EXIT.ok)
      expect(parseJson(grq)).toEqual([])
      const stac = await cli(["stac", "collections", "--json", "--state-dir", sb.stateDir])
      expectRun(stac, EXIT.ok)
      expect(parseJson(stac)).toEqual([])
    } finally {
      sb.cleanup()
    }
  },
  TIMEOUT
)

// Output.ts: "Results go to stdout (human text, or one JSON object with `--json` so scripts can
// parse it); errors, rollback lines and progress go to stderr so they never corrupt that JSON."
test(
  "grq get --json prints only the JSON object on stdout, even when the index warns (one id in two grq indexes)",
  async () => {
    const sb = sandbox("inspect-warn")
    try {
      // A GRQ holding two versions of a product: the same _id under the alias in two indexes.
      await seedDocuments(sb.stateDir, [
        { index: "grq_v1.0_area_of_interest", id: "AOI_twice", doc: { id: "AOI_twice", dataset: "area_of_interest", system_version: "v1.0" } },
        { index: "grq_v2.0_area_of_interest", id: "AOI_twice", doc: { id: "AOI_twice", dataset: "area_of_interest", system_version: "v2.0" } }
      ])
      const r = await cli(["grq", "get", "AOI_twice", "--json", "--state-dir", sb.stateDir])
      expectRun(r, EXIT.ok)
      const record = parseJson(r)
      expect(record.id).toBe("AOI_twice")
      expect(["grq_v1.0_area_of_interest", "grq_v2.0_area_of_interest"]).toContain(record.index)
    } finally {
      sb.cleanup()
    }
  },
  TIMEOUT
)

describe("--help", () => {
  test(
    "of the root: exit 0, the commands listed",
    async () => {
      const r = await cli(["--help"])
      expectRun(r, EXIT.ok)
      const text = plain(r.stdout)
      for (const command of ["ingest", "validate", "grq get", "grq list", "stac collections", "stac items"]) expect(text).toContain(command)
      expect(text).toContain("--state-dir")
    },
    TIMEOUT
  )

  test(
    "of ingest: exit 0, every option described",
    async () => {
      const r = await cli(["ingest", "--help"])
      expectRun(r, EXIT.ok)
      const text = plain(r.stdout)
      for (const option of ["--datasets", "--force", "--dry-run", "--no-stac", "--concurrency", "--json", "--state-dir", "<job-dir>"]) {
        expect(text).toContain(option)
      }
      for (const env of ["HYSDS_DATASETS_CFG", "HYSDS_STAC_DISABLE", "HYSDS_STAC_HOME"]) expect(text).toContain(env)
    },
    TIMEOUT
  )

  test(
    "an unknown command is a usage error (exit 2)",
    async () => {
      const r = await cli(["no-such-command"])
      expectRun(r, EXIT.usage)
      expect(r.stderr + r.stdout).toContain("ingest")
    },
    TIMEOUT
  )
})
