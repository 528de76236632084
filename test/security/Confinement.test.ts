/**
 * Issue 8, cases 1, 3 and 5: a job dir never reaches outside itself, and the
 * bytes published are the bytes planning checked.
 *
 * (a) `_datasets.json` a symlink to a canary file: the ingest must not write
 *     through it (it once replaced a server's API keys this way);
 * (b) a classic product dir, (c) a STAC catalog dir, that is a symlink to a
 *     directory outside the job dir: refused at planning, naming link and target;
 * (d) a symlink inside the job dir to another place inside it still works;
 * (e) a file swapped for a same-size symlink to the canary between planning and
 *     copying: the ingest fails and rolls back, the canary published nowhere.
 *
 * Each attack asserts the clear error and exit code, the canary tree unchanged,
 * nothing published, and then a clean ingest of a fresh copy of the mixed job
 * succeeding. (a)-(d) run the real CLI on the embedded default and, when the
 * test services are up, on the real S3 store (SeaweedFS, OpenSearch, STAC-FastAPI).
 * (e) drives the core workflow in-process with the real embedded adapters, the
 * swap done when the Progress "Planned" event fires; the same swap against the
 * real S3 store is the ObjectStore contract test "putFile refuses a file swapped
 * after planning", run on both stores.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Progress } from "@hysds-stac/core"
import { Cause, Effect, Exit, Layer } from "effect"
import { mkdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { type Canary, makeCanary } from "./Canary.ts"
import {
  EMPTY_SUMMARY,
  EXIT,
  TIMEOUT,
  type CliResult,
  type Sandbox,
  describeRun,
  hashTree,
  ingest,
  sandbox,
  snapshot,
  summary
} from "../support/State.ts"
import * as Real from "../integration/Real.ts"
import { ingest as ingest_, options } from "../workflow/Harness.ts"

const AOI = "AOI_volcano_etna"
const CATALOG = "stac_catalog_20240115_etna"

interface Names {
  readonly aoi: string
  readonly catalog: string
}

interface Attack {
  readonly name: string
  /** Breaks `job` (a fresh copy of the mixed job); `outside` is a dir outside it, next to the canary. */
  readonly arrange: (job: string, names: Names, canary: Canary, outside: string) => void
  /** Texts the error output must contain. */
  readonly says: (job: string, names: Names, canary: Canary, outside: string) => ReadonlyArray<string>
}

/** Moves `job/<name>` out to `outside/<name>` and leaves a symlink to it in its place. */
const linkOut = (job: string, name: string, outside: string) => {
  mkdirSync(outside, { recursive: true })
  renameSync(path.join(job, name), path.join(outside, name))
  symlinkSync(path.join(outside, name), path.join(job, name))
}

const ATTACKS: ReadonlyArray<Attack> = [
  {
    name: "(a) _datasets.json is a symlink to a canary file",
    arrange: (job, _n, canary) => symlinkSync(canary.victim, path.join(job, "_datasets.json")),
    says: (job, _n, canary) => [path.join(job, "_datasets.json"), `is a symlink (to ${canary.victim})`]
  },
  {
    name: "(b) a classic product dir is a symlink to a dir outside the job dir",
    arrange: (job, n, _c, outside) => linkOut(job, n.aoi, outside),
    says: (job, n, _c, outside) => [path.join(job, n.aoi), `is a symlink to ${path.join(outside, n.aoi)}, outside the job dir`]
  },
  {
    name: "(c) a STAC catalog dir is a symlink to a dir outside the job dir",
    arrange: (job, n, _c, outside) => linkOut(job, n.catalog, outside),
    says: (job, n, _c, outside) => [path.join(job, n.catalog), `is a symlink to ${path.join(outside, n.catalog)}, outside the job dir`]
  }
]

/** (d): the product dir lives in `job/work/` and the job links to it from where HySDS looks. */
const linkInside = (job: string, name: string) => {
  mkdirSync(path.join(job, "work"))
  renameSync(path.join(job, name), path.join(job, "work", name))
  symlinkSync(path.join("work", name), path.join(job, name))
}

const output = (r: { readonly stdout: string; readonly stderr: string }) => r.stdout + r.stderr

const expectExit = (r: CliResult, code: number) => {
  if (r.exitCode !== code) throw new Error(`expected exit ${code}\n${describeRun(r)}`)
}

describe("confinement on the embedded default (real CLI)", () => {
  const boxes: Array<Sandbox> = []
  afterAll(() => {
    for (const b of boxes) b.cleanup()
  })
  const fresh = () => {
    const sb = sandbox("confine")
    boxes.push(sb)
    const canary = makeCanary(sb.root)
    return { sb, canary, job: sb.copyExample("mixed-job", "job"), outside: sb.path("outside") }
  }

  for (const attack of ATTACKS) {
    test(
      attack.name,
      async () => {
        const { sb, canary, job, outside } = fresh()
        const names = { aoi: AOI, catalog: CATALOG }
        const canaryBefore = canary.hashes()
        attack.arrange(job, names, canary, outside)
        const outsideBefore = hashTree(outside)

        const r = await ingest(job, sb.stateDir)
        expectExit(r, EXIT.validation)
        for (const text of attack.says(job, names, canary, outside)) expect(output(r)).toContain(text)
        expect(output(r)).toContain("nothing was published")
        expect(canary.hashes()).toEqual(canaryBefore)
        expect(hashTree(outside)).toEqual(outsideBefore)
        expect(summary(await snapshot(sb.stateDir))).toEqual(EMPTY_SUMMARY)

        const clean = await ingest(sb.copyExample("mixed-job", "clean"), sb.stateDir)
        expectExit(clean, EXIT.ok)
      },
      TIMEOUT
    )
  }

  test(
    "(d) a symlink inside the job dir to another place inside it is followed",
    async () => {
      const { sb, canary, job } = fresh()
      const canaryBefore = canary.hashes()
      linkInside(job, AOI)
      // And a file link inside a product dir, to a sibling.
      symlinkSync(`${AOI}.h5`, path.join(job, "work", AOI, `${AOI}.copy.h5`))

      const r = await ingest(job, sb.stateDir)
      expectExit(r, EXIT.ok)
      const files = summary(await snapshot(sb.stateDir)).files
      const h5 = readFileSync(path.join(job, "work", AOI, `${AOI}.h5`))
      expect(files.some((f) => f.endsWith(`/${AOI}/${AOI}.h5`))).toBe(true)
      expect(files.some((f) => f.endsWith(`/${AOI}/${AOI}.copy.h5`))).toBe(true)
      const stored = (await snapshot(sb.stateDir)).files.find(([f]) => f.endsWith(`/${AOI}/${AOI}.copy.h5`))!
      expect(stored[1]).toBe(new Bun.CryptoHasher("sha256").update(h5).digest("hex"))
      expect(canary.hashes()).toEqual(canaryBefore)

      const clean = await ingest(sb.copyExample("mixed-job", "clean"), sb.stateDir, ["--force"])
      expectExit(clean, EXIT.ok)
    },
    TIMEOUT
  )

  test(
    "(e) a file swapped for a same-size symlink to the canary after planning: fails, rolls back, canary published nowhere",
    async () => {
      const { sb, canary, job } = fresh()
      const target = path.join(job, AOI, `${AOI}.h5`)
      const secret = path.join(canary.dir, "same-size.bin")
      writeFileSync(secret, new Uint8Array(readFileSync(target).length).fill(0x53))
      const canaryBefore = canary.hashes()

      let swapped = false
      const swapWhenPlanned = Layer.succeed(Progress.Progress, {
        emit: (event) =>
          Effect.sync(() => {
            if (event._tag !== "Planned" || swapped) return
            unlinkSync(target)
            symlinkSync(secret, target)
            swapped = true
          })
      })
      const { effect, run } = ingest_(sb.stateDir, options(job), [], swapWhenPlanned)
      const exit = await Effect.runPromiseExit(effect)
      expect(swapped).toBe(true)
      expect(Exit.isFailure(exit)).toBe(true)
      const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
      if (failure?._tag !== "Some" || failure.value._tag !== "IngestFailed") throw new Error(`expected IngestFailed, got ${String(exit)}`)
      expect(failure.value.error.message).toContain(`${target} changed after planning`)
      expect(failure.value.error.message).toContain("nothing of it was published")
      expect(failure.value.rollback.failed).toEqual([])
      expect(run.journal.some((r) => r._tag === "End" && r.outcome === "aborted")).toBe(true)
      expect(canary.hashes()).toEqual(canaryBefore)
      expect(summary(await snapshot(sb.stateDir))).toEqual(EMPTY_SUMMARY)

      const clean = await ingest(sb.copyExample("mixed-job", "clean"), sb.stateDir)
      expectExit(clean, EXIT.ok)
    },
    TIMEOUT
  )
})

const svc = Real.services()

describe.skipIf(!svc)("confinement on the real S3 store (real CLI, SeaweedFS, OpenSearch, STAC-FastAPI)", () => {
  let fx: Real.Fixture
  let root: string
  beforeAll(async () => {
    fx = await Real.fixture(svc!, "opensearch", svc!.OPENSEARCH_URL!, "confine")
    root = Real.tempDir("confine")
  }, TIMEOUT)
  afterAll(async () => {
    await fx?.cleanup()
  })

  for (const attack of ATTACKS) {
    test(
      attack.name,
      async () => {
        const job = fx.track(Real.mixedJob(Real.tag()))
        const names = { aoi: job.products[0]!, catalog: job.catalog }
        const canary = makeCanary(path.join(root, job.tag))
        const outside = path.join(root, job.tag, "outside")
        const state = path.join(root, job.tag, "state")
        const canaryBefore = canary.hashes()
        attack.arrange(job.dir, names, canary, outside)

        const r = await Real.ingest(job, state, fx.env())
        Real.expectExit(r, Real.EXIT.validation)
        for (const text of attack.says(job.dir, names, canary, outside)) expect(output(r)).toContain(text)
        expect(canary.hashes()).toEqual(canaryBefore)
        expect(await Real.worldState(fx.client, fx, [job])).toEqual({
          s3: [],
          grq: [],
          stac: { [job.collection]: { collection: null, items: [] } }
        })

        const clean = fx.track(Real.mixedJob(Real.tag()))
        Real.expectExit(await Real.ingest(clean, state, fx.env()), Real.EXIT.ok)
      },
      TIMEOUT
    )
  }

  test(
    "(d) a symlink inside the job dir to another place inside it is followed",
    async () => {
      const job = fx.track(Real.mixedJob(Real.tag()))
      const aoi = job.products[0]!
      linkInside(job.dir, aoi)
      const state = path.join(root, job.tag, "state")
      Real.expectExit(await Real.ingest(job, state, fx.env()), Real.EXIT.ok)
      const s3 = await Real.s3State(fx.client, fx.buckets, job.tag)
      expect(s3.some(([k]) => k.endsWith(`/${aoi}/${aoi}.h5`))).toBe(true)
    },
    TIMEOUT
  )
})
