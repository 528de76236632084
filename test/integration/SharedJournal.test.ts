/**
 * Many workers, one shared journal (HYSDS_STAC_JOURNAL=s3://…), on the REAL
 * servers (SeaweedFS S3, OpenSearch, STAC-FastAPI). Each worker is a CLI
 * process with a state dir of its own; they share nothing but the backends.
 *
 * - Machine loss: a worker ingesting a 300-item job is SIGKILLed at a moment
 *   chosen by the journal (after its n-th record, for every n of the run) AND
 *   its state dir is deleted; once its lease expired, a second worker runs
 *   `recover`, and S3, GRQ and the STAC API hold exactly all of the job (the
 *   kill came past Commit) or nothing of it.
 * - A live transaction, renewing its lease, is never taken over.
 * - Two recoverers racing for one dead transaction: exactly one acts.
 * - Publish markers and "already exists" across workers.
 *
 * Leases are short here (TTL 10 s, renewed every second) so a dead worker is
 * recovered seconds after it died.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import * as FaultProxy from "./FaultProxy.ts"
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from "./S3Sdk.ts"
import * as fs from "node:fs"
import * as path from "node:path"
import {
  CLI,
  EXIT,
  type Fixture,
  type Job,
  ROOT,
  cli,
  describeRun,
  fixture,
  grqDocs,
  ingest,
  isLeftover,
  mixedJob,
  parseJson,
  s3State,
  services,
  stacGet,
  stacItems,
  tag,
  tempDir
} from "./Real.ts"

const svc = services()
const TIMEOUT = 900_000
const ITEMS = 300
// A run seen on a machine at load 50 stalled its event loop past a 3 s TTL: it lost its lease and
// (rightly) stopped and rolled back. 10 s still keeps each recovery's wait short.
const TTL_S = 10
const LEASE = { HYSDS_STAC_LEASE_TTL_SECONDS: String(TTL_S), HYSDS_STAC_LEASE_RENEW_SECONDS: "1" }
/**
 * How old, by this machine's clock and the lease's LastModified, a lease must be before every recover sees it
 * expired. A recover reads an age in whole seconds twice over: LastModified is cut to the second, and the SDK
 * takes its clock offset from each answer's Date header, also cut to the second, so an age reads up to a second
 * younger than it is (measured: the offset was minus the milliseconds of the second, on every answer). Recover
 * takes over past TTL + 1 s as it reads the age, so past TTL + 2 s here; one more second for a slow answer.
 */
const EXPIRED_AFTER_MS = (TTL_S + 3) * 1000

/** Waits for `cond`, polling, failing after `ms` with `what`. */
const waitFor = async <A>(what: string, cond: () => Promise<A | undefined | false>, ms = 120_000): Promise<A> => {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await cond()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(100) // S3 listings are the usual condition: few enough to leave the services to the workers
  }
}

/** A job of one STAC catalog: a collection of `items` items, one small asset each, published to `bucket`. */
const catalogJob = (t: string, bucket: string, items = ITEMS): Job & { datasets: string } => {
  const root = tempDir("sj")
  const dir = path.join(root, `job-${t}`)
  const catalog = `stac_catalog_sj_${t}`
  const collection = `sj-${t}`
  const base = path.join(dir, catalog)
  fs.mkdirSync(path.join(base, collection, "items"), { recursive: true })
  const json = (file: string, value: unknown) => fs.writeFileSync(file, JSON.stringify(value))
  json(path.join(dir, "_job.json"), { task_id: `sj-${t}`, job_info: { status: "job-completed", exit_code: 0 } })
  json(path.join(base, "catalog.json"), {
    type: "Catalog", stac_version: "1.1.0", id: catalog, description: "shared journal test",
    links: [{ rel: "root", href: "./catalog.json" }, { rel: "child", href: `./${collection}/collection.json` }]
  })
  const ids: Array<string> = []
  for (let i = 0; i < items; i++) {
    const id = `${collection}-${String(i).padStart(4, "0")}`
    ids.push(id)
    const itemDir = path.join(base, collection, "items", id)
    fs.mkdirSync(itemDir)
    fs.writeFileSync(path.join(itemDir, "data.bin"), `${id}\n`)
    const x = (i % 300) - 150 + 0.5
    json(path.join(itemDir, `${id}.json`), {
      type: "Feature", stac_version: "1.1.0", id, collection,
      geometry: { type: "Point", coordinates: [x, 10] }, bbox: [x, 10, x, 10],
      properties: { datetime: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString() },
      links: [{ rel: "root", href: "../../../catalog.json" }, { rel: "parent", href: "../../collection.json" }, { rel: "collection", href: "../../collection.json" }],
      assets: { data: { href: "./data.bin", type: "application/octet-stream", roles: ["data"] } }
    })
  }
  json(path.join(base, collection, "collection.json"), {
    type: "Collection", stac_version: "1.1.0", id: collection, description: "shared journal test", license: "proprietary",
    extent: { spatial: { bbox: [[-180, -90, 180, 90]] }, temporal: { interval: [["2024-01-01T00:00:00Z", null]] } },
    links: [{ rel: "root", href: "../catalog.json" }, { rel: "parent", href: "../catalog.json" }, ...ids.map((id) => ({ rel: "item", href: `./items/${id}/${id}.json` }))]
  })
  const datasets = path.join(root, "datasets.json")
  json(datasets, {
    datasets: [{
      ipath: "hysds::stac/catalog", version: "stac_catalog", level: "catalog", type: "stac_catalog",
      match_pattern: "/(?P<id>stac_catalog_.+)$",
      publish: { location: `s3://${bucket}/catalogs/\${id}`, urls: [`https://sj.example.org/catalogs/\${id}`] }
    }]
  })
  return { dir, tag: t, products: [], catalog, collection, items: ids, docIds: ids, datasets }
}

describe.skipIf(!svc)("many workers sharing one journal in S3", () => {
  let fx: Fixture
  const dirs: Array<string> = []
  const state = () => {
    const d = tempDir("worker")
    dirs.push(d)
    return d
  }
  /** A journal prefix of its own per scenario (never holding a job's tag), in the browse bucket (the jobs here publish no browse images). */
  const journalOf = (name: string) => ({ bucket: fx.buckets.browse, prefix: `journal-${name}` })
  const envFor = (j: { bucket: string; prefix: string }, extra: Record<string, string> = {}) =>
    fx.env({ HYSDS_STAC_JOURNAL: `s3://${j.bucket}/${j.prefix}`, ...LEASE, ...extra })

  const keys = async (bucket: string, prefix: string) => {
    const out: Array<{ key: string; modified: number }> = []
    let token: string | undefined
    do {
      const page = await fx.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }))
      for (const o of page.Contents ?? []) out.push({ key: o.Key!, modified: o.LastModified!.getTime() })
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    return out
  }
  const recordKeys = async (j: { bucket: string; prefix: string }) => (await keys(j.bucket, `${j.prefix}/tx/`)).filter((k) => k.key.includes("/records/"))
  const tags = async (j: { bucket: string; prefix: string }) => {
    const out: Array<string> = []
    for (const k of (await recordKeys(j)).sort((a, b) => (a.key < b.key ? -1 : 1))) {
      const o = await fx.client.send(new GetObjectCommand({ Bucket: j.bucket, Key: k.key }))
      out.push(JSON.parse(await o.Body!.transformToString())._tag)
    }
    return out
  }
  /** Resolves once every lease of the journal is older than the TTL (plus LastModified's second), as the server recorded it. */
  const leasesExpired = (j: { bucket: string; prefix: string }) =>
    waitFor("the dead worker's lease to expire", async () => {
      const leases = (await keys(j.bucket, `${j.prefix}/tx/`)).filter((k) => k.key.includes("/lease/"))
      if (leases.length === 0) return true
      const heads = await Promise.all(leases.map((l) => fx.client.send(new HeadObjectCommand({ Bucket: j.bucket, Key: l.key }))))
      return heads.every((h) => Date.now() - h.LastModified!.getTime() > EXPIRED_AFTER_MS)
    })

  /** Each lease object of the journal: key, LastModified and body (for a failure's story). */
  const leaseStory = async (j: { bucket: string; prefix: string }) => {
    const out: Array<string> = []
    for (const l of (await keys(j.bucket, `${j.prefix}/tx/`)).filter((k) => k.key.includes("/lease/"))) {
      const o = await fx.client.send(new GetObjectCommand({ Bucket: j.bucket, Key: l.key }))
      out.push(`${l.key.slice(j.prefix.length)} modified ${o.LastModified?.toISOString()} ${await o.Body!.transformToString()}`)
    }
    return out.join(", ") || "none"
  }

  /** What the servers hold of a job: object keys (tag replaced), GRQ documents, the STAC collection and its items. */
  const world = async (job: Job) => {
    const s3 = (await s3State(fx.client, fx.buckets, job.tag)).map(([k]) => k.replaceAll(job.tag, "<T>"))
    const grq = (await grqDocs(fx.grqUrl, job.docIds)).length
    const collection = (await stacGet(fx.svc.STAC_API_URL!, `collections/${job.collection}`)).status === 200
    const items = (await stacItems(fx.svc.STAC_API_URL!, job.collection)).length
    return { s3, grq, collection, items }
  }

  const spawnIngest = (job: Job & { datasets: string }, stateDir: string, env: Record<string, string>) =>
    Bun.spawn([...CLI, "ingest", job.dir, "--datasets", job.datasets, "--state-dir", stateDir, "--json"], { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" })

  let published: Awaited<ReturnType<typeof world>>
  let total = 0

  beforeAll(async () => {
    fx = await fixture(svc!, "opensearch", svc!.OPENSEARCH_URL!, "sj")
    // A reference run on the shared journal: what a whole publication of such a job is, and how many records it writes.
    const ref = fx.track(catalogJob(tag(), fx.buckets.catalogs))
    const j = journalOf("ref")
    const run = await cli(["ingest", ref.dir, "--datasets", ref.datasets, "--state-dir", state(), "--json"], envFor(j), TIMEOUT)
    if (run.exitCode !== EXIT.ok) throw new Error(`reference run failed\n${describeRun(run)}`)
    published = await world(ref)
    total = (await recordKeys(j)).length
  }, TIMEOUT)

  afterAll(async () => {
    await fx?.cleanup()
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
  }, TIMEOUT)

  test("the reference: a whole publication, all of it in S3, GRQ and the STAC API, and its journal in S3", () => {
    expect(published.grq).toBe(ITEMS)
    expect(published.items).toBe(ITEMS)
    expect(published.collection).toBe(true)
    expect(published.s3.length).toBeGreaterThan(2 * ITEMS)
    expect(published.s3.filter(isLeftover)).toEqual([])
    expect(total).toBeGreaterThan(10)
  })

  test(
    "machine loss: killed after each of its journal records, state dir gone; another worker recovers all or nothing",
    async () => {
      // After End nothing is left to do. The deepest points (longest ingest before the kill, biggest rollback) go
      // first so that the three lanes finish together.
      const points = Array.from({ length: total - 1 }, (_, i) => total - 1 - i)
      const outcomes: Array<string> = []
      let killed = 0
      const started = Date.now()
      let next = 0
      await Promise.all(
        Array.from({ length: 3 }, async () => {
          while (next < points.length) {
            const n = points[next++]!
            const job = fx.track(catalogJob(tag(), fx.buckets.catalogs))
            const j = journalOf(`k${n}-${tag()}`)
            const lost = state()
            const t0 = Date.now()
            const worker = spawnIngest(job, lost, envFor(j))
            // The moment: once its n-th record is in the journal (it is then somewhere in the step that record announced).
            const landed = await waitFor(`record ${n}`, async () => (await recordKeys(j)).length >= n || (worker.exitCode !== null ? -1 : undefined), 180_000)
            worker.kill("SIGKILL")
            await worker.exited
            fs.rmSync(lost, { recursive: true, force: true }) // the machine is gone, its disk with it
            if (worker.signalCode === "SIGKILL") killed++
            else if (landed === -1) throw new Error(`worker for kill point ${n} exited by itself (${worker.exitCode}): ${await new Response(worker.stderr).text()}`)
            const t1 = Date.now()
            await leasesExpired(j)
            const t2 = Date.now()
            // Read only now: a record whose PUT was in flight at the kill may still land on the server after the
            // process is gone (an End seen a moment after the kill left recover nothing to do).
            const seen = await tags(j)
            const committed = seen.includes("Commit")
            const recovered = await cli(["recover", "--state-dir", state(), "--json"], envFor(j), TIMEOUT)
            expect({ n, exit: recovered.exitCode }).toEqual({ n, exit: EXIT.ok })
            const result = parseJson(recovered.stdout)
            const finished = seen.includes("End")
            // What the journal held and what recover said, should they disagree (a failure here once gave only n;
            // once, recover took nothing of an unfinished journal: then the leases' keys and ages are told too).
            const leases = finished === (result.recovered.length === 0) ? "" : `; leases at ${new Date().toISOString()}: ${await leaseStory(j)}`
            const story = `journal: ${seen.join(" ")}; recover: ${recovered.stdout.trim()}${leases}`
            expect({ n, recovered: result.recovered.length, story }).toEqual({ n, recovered: finished ? 0 : 1, story })
            const t3 = Date.now()
            const after = await world(job)
            if (committed) expect({ n, after }).toEqual({ n, after: published })
            else expect({ n, after }).toEqual({ n, after: { s3: [], grq: 0, collection: false, items: 0 } })
            // Nothing is left open in the shared journal.
            expect({ n, open: await keys(j.bucket, `${j.prefix}/open/`) }).toEqual({ n, open: [] })
            const s = (a: number, b: number) => ((b - a) / 1000).toFixed(0)
            // Where the time goes: ingest to the kill, the lease's expiry, recover, the checks.
            outcomes.push(`${n}:${result.recovered[0]?.outcome ?? "finished"} (${s(t0, t1)}+${s(t1, t2)}+${s(t2, t3)}+${s(t3, Date.now())} s)`)
          }
        })
      )
      console.log(`machine loss: ${points.length} kill points (${killed} killed mid-run) of ${total} records, ${((Date.now() - started) / 1000).toFixed(0)} s\n  ${outcomes.sort((a, b) => parseInt(a) - parseInt(b)).join("\n  ")}`)
      expect(killed).toBeGreaterThanOrEqual(10)
    },
    TIMEOUT
  )

  test(
    "a live transaction renewing its lease survives a recover from another worker, then commits",
    async () => {
      const job = fx.track(catalogJob(tag(), fx.buckets.catalogs, 20))
      const j = journalOf(`live-${tag()}`)
      // A gate in front of the STAC API holds the worker's item registration until the other worker's recover is done.
      let open: () => void = () => undefined
      const gate = new Promise<void>((resolve) => (open = resolve))
      let held = 0
      const proxy = FaultProxy.start(fx.svc.STAC_API_URL!, [], {
        // Items go in by bulk_items (one request per batch) or POST .../items.
        hold: (request) => {
          if (request.method !== "POST" || !/\/(bulk_)?items$/.test(new URL(request.url).pathname)) return undefined
          held++
          return gate
        }
      })
      try {
        const worker = spawnIngest(job, state(), envFor(j, { STAC_API_URL: proxy.url }))
        await waitFor("the worker to be held at its item registration", async () => held > 0 || (worker.exitCode !== null ? Promise.reject(new Error(`worker exited (${worker.exitCode}) before registering items: ${await new Response(worker.stdout).text()} ${await new Response(worker.stderr).text()}`)) : undefined))
        const heldAt = Date.now()
        // Long enough that a lease not renewed would have expired, as the store recorded it.
        await waitFor("a TTL to pass while the worker is held", async () => Date.now() - heldAt > EXPIRED_AFTER_MS)
        const other = await cli(["recover", "--state-dir", state(), "--json"], envFor(j))
        expect(other.exitCode).toBe(EXIT.ok)
        const answer = parseJson(other.stdout)
        expect(answer.recovered).toEqual([])
        // It says what it left and why: the one open transaction, held by the live worker.
        expect(answer.left).toHaveLength(1)
        expect(answer.left[0]).toMatchObject({ state: "running", pid: worker.pid })
        expect(worker.exitCode).toBeNull() // still running: the recover really ran against a live transaction
        open()
        await worker.exited
        expect({ exit: worker.exitCode, stderr: worker.exitCode === 0 ? "" : await new Response(worker.stderr).text() }).toEqual({ exit: 0, stderr: "" })
        const after = await world(job)
        expect([after.grq, after.items, after.collection]).toEqual([20, 20, true])
        expect(await tags(j)).toContain("Commit")
      } finally {
        open()
        proxy.stop()
      }
    },
    TIMEOUT
  )

  test(
    "two recoverers racing for one dead transaction: exactly one acts",
    async () => {
      const job = fx.track(catalogJob(tag(), fx.buckets.catalogs, 50))
      const j = journalOf(`race-${tag()}`)
      const lost = state()
      const worker = spawnIngest(job, lost, envFor(j))
      await waitFor("the worker's 6th record", async () => (await recordKeys(j)).length >= 6)
      worker.kill("SIGKILL")
      await worker.exited
      fs.rmSync(lost, { recursive: true, force: true })
      await leasesExpired(j)
      // Both recoverers go through a proxy in front of S3 that holds the first two takeover writes (a PUT of a
      // lease generation past the dead worker's) until both have been sent: the two race for real, and only
      // the store's create-only write can pick one.
      const takeover = /\/lease\/(\d{6})\.json$/
      const racers: Array<() => void> = []
      let lined = false
      const line = () => {
        lined = true
        for (const go of racers) go()
      }
      const proxy = FaultProxy.start(fx.svc.S3_ENDPOINT!, [], {
        hold: (request) => {
          const gen = takeover.exec(new URL(request.url).pathname)?.[1]
          if (lined || request.method !== "PUT" || gen === undefined || Number(gen) < 2) return undefined
          return new Promise<void>((go) => {
            racers.push(go)
            if (racers.length === 2) line()
          })
        }
      })
      // A guard, not a timing: should one recoverer never send its takeover, the other is let go (and the test fails below).
      const guard = setTimeout(line, 180_000)
      const viaProxy = envFor(j, { S3_ENDPOINT: proxy.url })
      let a: Awaited<ReturnType<typeof cli>>, b: Awaited<ReturnType<typeof cli>>
      try {
        ;[a, b] = await Promise.all([cli(["recover", "--state-dir", state(), "--json"], viaProxy), cli(["recover", "--state-dir", state(), "--json"], viaProxy)])
      } finally {
        clearTimeout(guard)
        proxy.stop()
      }
      expect(racers.length).toBe(2) // both sent a takeover, at once
      expect([a.exitCode, b.exitCode]).toEqual([EXIT.ok, EXIT.ok])
      const acted = [parseJson(a.stdout).recovered, parseJson(b.stdout).recovered].map((r: Array<{ outcome: string }>) => r.map((x) => x.outcome))
      expect(acted.flat()).toEqual(["rolled-back"])
      expect(await world(job)).toEqual({ s3: [], grq: 0, collection: false, items: 0 })
      // One End record: the loser wrote nothing.
      expect((await tags(j)).filter((t) => t === "End")).toHaveLength(1)
    },
    TIMEOUT
  )

  test(
    "publish markers and 'already exists' across workers that share only the backends",
    async () => {
      const job = fx.track(mixedJob(tag()))
      const j = journalOf(`dup-${tag()}`)
      const [a, b] = await Promise.all([ingest(job, state(), envFor(j)), ingest(job, state(), envFor(j))])
      const codes = [a.exitCode, b.exitCode].sort()
      expect(codes).toEqual([EXIT.ok, EXIT.conflict])
      const loser = a.exitCode === EXIT.ok ? b : a
      expect(loser.stdout + loser.stderr).toMatch(/being published by another ingest|already exists/)
      const again = await ingest(job, state(), envFor(j))
      expect(again.exitCode).toBe(EXIT.conflict)
      expect(again.stdout + again.stderr).toMatch(/already exists/)
      expect((await s3State(fx.client, fx.buckets, job.tag)).filter(([k]) => isLeftover(k))).toEqual([])
    },
    TIMEOUT
  )
})
