/**
 * Smoke run of the build comparison (a few items, two "builds" that are the
 * same CLI, two rounds): every run is reported with its peak, each build gets
 * its range, and the generated job is removed. Not a timed test: no figure is
 * bounded.
 */
import { expect, test } from "bun:test"
import * as path from "node:path"
import * as Services from "./Services.ts"
import * as Smoke from "./Smoke.ts"

const ROOT = path.join(import.meta.dir, "..")
/** The CLI the suite runs (scripts/test.sh builds the executable), else its sources through bun. */
const CLI = process.env.HYSDS_STAC_CLI ?? `bun ${path.join(ROOT, "packages/cli/src/bin.ts")}`

test("the peaks bench runs each build in turn, reports each run and each build's range, and removes its job", async () => {
  const { out, err, code, left } = await Smoke.run("peaks.ts", ["--items", "5", "--rounds", "2", CLI, CLI])
  expect({ code, err }).toEqual({ code: 0, err: "" })
  const runs = out.split("\n").filter((l) => /^round [12]: .*: peak RSS \d+ MiB, plan [\d.]+ s$/.test(l))
  expect(runs).toHaveLength(4)
  const summary = out.split("\n").filter((l) => /: peak RSS min \d+, median \d+, max \d+ MiB in 4 runs$/.test(l))
  // Both arguments name the same CLI: one build, four runs.
  expect(summary).toHaveLength(1)
  expect(left).toEqual([])
}, 300_000)

const endpoints = process.env.HYSDS_STAC_SERVICES === "0" ? undefined : Services.endpoints()

/** The STAC API's collections named as the bench names them. */
const benchCollections = async (): Promise<Array<string>> => {
  const body = (await (await fetch(`${endpoints!.STAC_API_URL!.replace(/\/+$/, "")}/collections?limit=1000`)).json()) as { collections: Array<{ id: string }> }
  return body.collections.map((c) => c.id).filter((id) => id.startsWith("bench-"))
}

test.skipIf(endpoints === undefined)("with --services, each run is a full ingest of a fresh job into the test services, and what it published is removed", async () => {
  const before = await benchCollections()
  const { out, err, code, left } = await Smoke.run("peaks.ts", ["--services", "--items", "5", "--rounds", "2", CLI])
  expect({ code, err }).toEqual({ code: 0, err: "" })
  expect(out).toContain("ingests into the test services of 5 items")
  const runs = out.split("\n").filter((l) => /^round [12]: .*: peak RSS \d+ MiB, plan [\d.]+ s, ingest [\d.]+ s$/.test(l))
  expect(runs).toHaveLength(2)
  // Two runs, two collections registered and deleted again; the job dirs are gone.
  expect((await benchCollections()).filter((id) => !before.includes(id))).toEqual([])
  expect(left).toEqual([])
}, 300_000)
