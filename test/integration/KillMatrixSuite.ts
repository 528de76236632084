/**
 * The crash-safety promise on REAL servers (SeaweedFS S3, OpenSearch,
 * STAC-FastAPI), mirroring test/crash/KillMatrix.test.ts on the embedded
 * default: the CLI is killed dead (SIGKILL after its K-th journal append,
 * HYSDS_STAC_CRASH_AT=K, no finalizers) at every step boundary K of an ingest
 * of a renamed mixed job, `hysds-stac recover` runs, and what the servers hold
 * is exactly as before the run when it died before its Commit record, or
 * exactly the published state when it died at or past it.
 *
 * Each K gets its own renamed job (its own tag in every key, id and
 * collection), so three boundaries run side by side in the same buckets. The
 * published state of a K is compared with a reference run's, with each run's
 * tag replaced by a placeholder (in keys, in the bytes of the JSON objects, in
 * documents and items). The ingests run in batches of two items, so the
 * pipelined stages (files, items, documents of different batches side by
 * side) are killed at too.
 *
 * One suite per STAC registry of the test services, each in its own test file
 * (KillMatrix.test.ts: stac-fastapi-pgstac, every boundary;
 * KillMatrixSfeos.test.ts: stac-fastapi-opensearch, whose items are compared
 * without the `created`/`updated` stamps it writes, on the boundaries it is
 * given).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import * as fs from "node:fs"
import {
  EXIT,
  type Fixture,
  type Job,
  cli,
  describeRun,
  fixture,
  grqState,
  ingest,
  isLeftover,
  mixedJob,
  parseJson,
  type Registry,
  readObject,
  registryState,
  services,
  sha256,
  tag,
  tempDir
} from "./Real.ts"
import { ListObjectsV2Command } from "./S3Sdk.ts"
import { journalFiles, journalRecords } from "../support/State.ts"

const TIMEOUT = 900_000
const WIDTH = 3
/** Two items per batch: the mixed job's three items take the pipelined stages in two batches, so kills land between stages. */
const PIPELINED = ["--batch-size", "2"]

/** Runs `f` over `ks` with at most `width` at a time. */
const pool = async (ks: ReadonlyArray<number>, width: number, f: (k: number) => Promise<void>) => {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < ks.length) await f(ks[next++]!)
    })
  )
}

/** A journal record of the reference run, as test/support/State.ts reads it. */
export type RecordSummary = ReturnType<typeof journalRecords>[number]

export interface KillMatrixOptions {
  /** Which boundaries K (1-based journal appends) to kill at, given the reference run's records (default: every one). */
  readonly boundaries?: (records: ReadonlyArray<RecordSummary>) => ReadonlyArray<number>
}

export const killMatrixSuite = (registry: Registry, options: KillMatrixOptions = {}) => {
const svc = services()
describe.skipIf(!svc)(`kill -9 at step boundaries of an ingest into real servers (STAC registry: ${registry}), then recover`, () => {
  let fx: Fixture
  const states: Array<string> = []
  const freshState = () => {
    const s = tempDir("state")
    states.push(s)
    return s
  }

  beforeAll(async () => {
    fx = await fixture(svc!, "opensearch", svc!.OPENSEARCH_URL!, `kill-${registry}`, registry)
  }, TIMEOUT)

  afterAll(async () => {
    await fx?.cleanup()
    for (const s of states) fs.rmSync(s, { recursive: true, force: true })
  }, TIMEOUT)

  /** Every object whose key holds the job's tag: key and sha256 of its bytes, the tag replaced in both (JSON is text). */
  const objects = async (job: Job) => {
    const out: Array<readonly [string, string]> = []
    for (const bucket of Object.values(fx.buckets)) {
      let token: string | undefined
      do {
        const page = await fx.client.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }))
        for (const o of page.Contents ?? []) {
          const key = o.Key!
          if (!key.includes(job.tag)) continue
          const bytes = await readObject(fx.client, bucket, key)
          const hash = key.endsWith(".json") ? sha256(new TextDecoder().decode(bytes).replaceAll(job.tag, "<T>")) : sha256(bytes)
          out.push([`${bucket}/${key}`.replaceAll(job.tag, "<T>"), hash])
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
    }
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }

  /** What the servers hold of `job`, with its tag replaced (documents without their ingest time). */
  const world = async (job: Job) => {
    const s3 = await objects(job)
    const grq = await grqState(fx.grqUrl, job.docIds)
    const stac = (await registryState(fx, [job.collection]))[job.collection]!
    return JSON.parse(JSON.stringify({ s3, grq, stac }).replaceAll(job.tag, "<T>")) as {
      s3: Array<[string, string]>
      grq: Array<unknown>
      stac: { collection: unknown; items: Array<unknown> }
    }
  }

  test(
    `a fresh ingest of the mixed job: ${options.boundaries === undefined ? "every boundary" : "the chosen boundaries"}, before Commit rolled back, from Commit on rolled forward`,
    async () => {
      // A reference run: how many journal appends an ingest makes, which one is the Commit, what it publishes.
      const reference = fx.track(mixedJob(tag()))
      const refState = freshState()
      const ref = await ingest(reference, refState, fx.env(), PIPELINED)
      if (ref.exitCode !== EXIT.ok) throw new Error(`reference run failed\n${describeRun(ref)}`)
      const records = journalRecords(refState)
      const total = records.length
      const commit = records.findIndex((r) => r._tag === "Commit") + 1
      expect(commit).toBeGreaterThan(1)
      const published = await world(reference)
      expect(published.s3).toHaveLength(27) // 24 published files and a publish context at each of the 3 publish locations
      expect(published.s3.filter(([k]) => isLeftover(k))).toEqual([])
      expect(published.grq).toHaveLength(5)
      expect(published.stac.items).toHaveLength(3)
      const started = Date.now()
      const outcomes: Array<string> = []
      const every = Array.from({ length: total }, (_, i) => i + 1)
      const ks = options.boundaries === undefined ? every : [...new Set(options.boundaries(records))].filter((k) => k >= 1 && k <= total).sort((a, b) => a - b)
      expect(ks.length).toBeGreaterThan(0)

      await pool(ks, WIDTH, async (k) => {
        const job = fx.track(mixedJob(tag()))
        const state = freshState()
        const before = await world(job)
        const died = await ingest(job, state, fx.env({ HYSDS_STAC_CRASH_AT: String(k) }), PIPELINED)
        expect({ k, signal: died.signal }).toEqual({ k, signal: "SIGKILL" })
        expect({ k, journals: journalFiles(state).length }).toEqual({ k, journals: 1 })
        const recovered = await cli(["recover", "--state-dir", state, "--json"], fx.env())
        expect({ k, exit: recovered.exitCode, failed: recovered.stderr.includes("FAILED") }).toEqual({ k, exit: EXIT.ok, failed: false })
        const result = parseJson(recovered.stdout)
        outcomes[k] = `${k}:${result.recovered.map((r: { outcome: string }) => r.outcome).join(",")}`
        const after = await world(job)
        if (k < commit) expect({ k, state: after }).toEqual({ k, state: before })
        else expect({ k, state: after }).toEqual({ k, state: published })
      })

      console.log(
        `kill matrix on real servers (${registry}): ${ks.length} of ${total} boundaries (Commit is append ${commit}), ${WIDTH} at a time, ${((Date.now() - started) / 1000).toFixed(1)} s\n  ${outcomes.filter(Boolean).join(" ")}`
      )
    },
    TIMEOUT
  )

  test(
    "the next ingest recovers a dead attempt by itself, then publishes",
    async () => {
      const job = fx.track(mixedJob(tag()))
      const state = freshState()
      // Killed once the items are registered (append 17: objects copied, collection and items in STAC, no documents yet).
      const died = await ingest(job, state, fx.env({ HYSDS_STAC_CRASH_AT: "17" }))
      expect(died.signal).toBe("SIGKILL")
      const again = await ingest(job, state, fx.env())
      if (again.exitCode !== EXIT.ok) throw new Error(describeRun(again))
      const now = await world(job)
      expect(now.grq).toHaveLength(5)
      expect(now.stac.items).toHaveLength(3)
      expect(now.s3).toHaveLength(27) // 24 published files and a publish context at each of the 3 publish locations
      expect(now.s3.filter(([k]) => isLeftover(k))).toEqual([])
    },
    TIMEOUT
  )
})
}
