/**
 * Smoke run of the benchmark (embedded backends, a few items): it reports each
 * phase, the filesystem floor with its ratio and the rollback, and leaves
 * nothing behind. Not a timed test: no figure is bounded.
 */
import { expect, test } from "bun:test"
import * as Smoke from "./Smoke.ts"

test("the bench reports phases, floors and the rollback, and removes what it wrote", async () => {
  const { out, err, code, left } = await Smoke.run("ingest.ts", ["--items", "3", "--assets", "1", "--asset-kb", "1", "--json"], {
    HYSDS_STAC_STORE: "",
    GRQ_ES_URL: "",
    STAC_API_URL: "",
    HYSDS_STAC_CONFIG: ""
  })
  expect({ code, err }).toEqual({ code: 0, err: "" })
  const report = JSON.parse(out.trim().split("\n").at(-1)!)
  expect(report.items).toBe(3)
  expect(report.files).toBe(3 * 2 + 2)
  expect(Object.keys(report.phases)).toEqual(["plan", "claim", "files", "stac", "grq", "finish"])
  expect(report.phases.plan.floor).toBeGreaterThan(0)
  expect(report.phases.plan.ratio).toBeCloseTo(report.phases.plan.seconds / report.phases.plan.floor)
  expect(report.ingest.peakRssMiB).toBeGreaterThan(0)
  // Each stage's time at work lies within its span (stages overlap; their work does not grow them).
  for (const stage of ["files", "stac", "grq"]) {
    const { seconds, busy } = report.phases[stage]
    expect({ stage, atWork: busy > 0 && busy <= seconds + 1e-9 }).toEqual({ stage, atWork: true })
  }
  expect(report.rollback.undoSeconds).toBeGreaterThan(0)
  // The job dirs and the embedded state dir, all under TMPDIR, are gone.
  expect(left).toEqual([])
}, 120_000)
