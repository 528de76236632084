/**
 * Issue 8 case 6: datasets.json patterns against names a job dir chose.
 *
 * On a backtracking engine `(a+)+b` tries about 2^n ways to split n `a`s that are
 * not followed by a `b`: a product dir named with 200 `a`s and a `!` blocked the
 * server's event loop for seconds per match (JavaScriptCore then gives up and
 * answers "no match"). Patterns now run on RE2 in linear time, so:
 *
 * - on the real server process, `/healthz` answers its polls within 200 ms
 *   (the acceptance criterion; each request's latency is measured), or
 *   three times the slowest idle poll of the same run on a loaded machine
 *   while an ingest matches adversarial names against such a pattern (on the
 *   backtracking engine 12 polls took 1.5 to 3.6 s each), and the products land
 *   where the right answer sends them (JavaScriptCore's give-up sent them to the
 *   next entry). One poll may miss the budget by less than one blocked match
 *   lasts: a loaded CI machine once delayed a single poll to 274 ms against
 *   51 ms idle, while with JavaScript's own RegExp in place of RE2 one poll
 *   waited 32.5 s, the whole planning;
 * - a pattern that needs backtracking (a backreference) is refused when
 *   datasets.json loads: exit 3 from the CLI with the entry, the field, the
 *   construct and why, nothing published, the canary unchanged; a normal ingest
 *   of a clean job then succeeds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { type Json, type Server, describeServer, startServer, TIMEOUT } from "../server/Harness.ts"
import { DATASETS, describeRun, EMPTY_SUMMARY, EXIT, EXAMPLES, ingest, isEmpty, sandbox, snapshot, summary } from "../support/State.ts"
import { makeCanary } from "./Canary.ts"

/** The acceptance criterion of issue 8: how long one /healthz may take while patterns run. */
const HEALTHZ_BUDGET_MS = 200

/** Below the shortest a single catastrophic match blocked the event loop here (1.5 s). */
const STRAY_MS = 1000

const examples = (): Array<Json> => (JSON.parse(readFileSync(DATASETS, "utf8")) as { datasets: Array<Json> }).datasets

/** A classic entry; `{id}` is the only run-time variable its location uses. */
const entry = (ipath: string, match_pattern: string): Json => ({
  ipath,
  version: "v1.0",
  level: "l0",
  type: ipath.split("/")[1],
  match_pattern,
  publish: { location: `s3://hysds-products/products/${ipath.split("/")[1]}/{id}`, urls: [] }
})

/** Names made to defeat `(a+)+b`: many `a`s, then not a `b`. */
const ADVERSARIAL = Array.from({ length: 12 }, (_, i) => `${"a".repeat(200 + i)}!`)

/** Adds a classic product `<name>/<name>.dataset.json` to a job. */
const addProduct = (jobDir: string, name: string) => {
  const dir = path.join(jobDir, name)
  mkdirSync(dir, { recursive: true })
  const template = path.join(EXAMPLES, "mixed-job", "AOI_volcano_etna", "AOI_volcano_etna.dataset.json")
  writeFileSync(path.join(dir, `${name}.dataset.json`), readFileSync(template))
}

describe("ReDoS: a catastrophic match_pattern against adversarial names, on the real server", () => {
  let server: Server
  const sb = sandbox("redos-server")
  const canary = makeCanary(sb.root)
  const before = canary.hashes()

  beforeAll(async () => {
    // The catastrophic entry comes first, so every product path is tried against it. Its
    // second alternative matches the adversarial names: a backtracking engine that gives
    // up on the first alternative answers "no match" and sends them to the fallback.
    const datasets = sb.path("redos-datasets.json")
    writeFileSync(
      datasets,
      JSON.stringify({
        datasets: [entry("hysds::data/first", "/(?P<id>(a+)+b|a+!)$"), entry("hysds::data/fallback", "/(?P<id>a+!)$"), ...examples()]
      })
    )
    server = await startServer({ sb, env: { HYSDS_DATASETS_CFG: datasets } })
  }, TIMEOUT)
  afterAll(async () => {
    await server?.stop()
    sb.cleanup()
  })

  /** A job of adversarial classic products only, so planning (where the patterns run) is most of its work. */
  const adversarialJob = (as: string): string => {
    const jobDir = path.join(server.jobs, as)
    mkdirSync(jobDir, { recursive: true })
    for (const f of ["_job.json", "_context.json"]) copyFileSync(path.join(EXAMPLES, "mixed-job", f), path.join(jobDir, f))
    for (const name of ADVERSARIAL) addProduct(jobDir, name)
    return jobDir
  }

  test(
    "/healthz answers its polls within 200 ms while the patterns run on adversarial names",
    async () => {
      const jobDir = adversarialJob("redos-dry")
      // Polling starts before the ingest is submitted and stops once it answered, so
      // the polls overlap planning, where every product path is matched. A dry run:
      // planning is the whole ingest, nothing else competes for the event loop.
      // The same poll with nothing running, in this run: on a loaded machine one
      // poll can take longer than 200 ms without any pattern blocking it, so the
      // budget is 200 ms or three times the slowest idle poll, whichever is more
      // (a backtracking engine took 1.5 to 3.6 s per poll here).
      const poll = async () => {
        const started = performance.now()
        const res = await fetch(`${server.url}/healthz`)
        await res.text()
        return { ms: performance.now() - started, status: res.status }
      }
      const slowestIdle = async () => {
        let ms = 0
        for (let i = 0; i < 10; i++) ms = Math.max(ms, (await poll()).ms)
        return ms
      }
      const idleBefore = await slowestIdle()
      const latencies: Array<number> = []
      const statuses: Array<number> = []
      let running = true
      const poller = (async () => {
        while (running) {
          const { ms, status } = await poll()
          latencies.push(ms)
          statuses.push(status)
        }
      })()
      let r
      try {
        r = await server.request("POST", "/v1/ingests?wait=true", { body: { jobDir, dryRun: true } })
      } finally {
        running = false
        await poller
      }

      expect(r.status, `${r.text}\n${describeServer(server)}`).toBe(200)
      expect(r.json!.state).toBe("succeeded")
      expect(r.json!.result.totals).toMatchObject({ products: ADVERSARIAL.length })
      expect(statuses.every((s) => s === 200)).toBe(true)
      expect(latencies.length).toBeGreaterThan(0)
      // Idle polls before and after the run, so a machine that got busier meanwhile
      // raises the budget as it raised the polls'.
      const idle = Math.max(idleBefore, await slowestIdle())
      const budget = Math.max(HEALTHZ_BUDGET_MS, 3 * idle)
      const slow = latencies.filter((ms) => ms >= budget).map((ms) => Math.round(ms))
      // One stray delay (a GC pause, a descheduled process) is not a blocked event
      // loop, as long as it is shorter than a single blocked match would make it.
      const stray = slow.length === 1 && slow[0]! < STRAY_MS
      expect(
        stray ? [] : slow,
        `of ${latencies.length} polls, these took ${Math.round(budget)} ms or more (slowest idle poll ${Math.round(idle)} ms; one under ${STRAY_MS} ms is allowed)`
      ).toEqual([])
    },
    TIMEOUT
  )

  test(
    "the products land where the right answer sends them: the first entry, which a give-up would skip",
    async () => {
      const r = await server.request("POST", "/v1/ingests?wait=true", { body: { jobDir: adversarialJob("redos-real") } })
      expect(r.status, `${r.text}\n${describeServer(server)}`).toBe(200)
      // Each name matched the first entry (by its second alternative), none the fallback.
      const state = summary(await snapshot(server.stateDir))
      for (const name of ADVERSARIAL) {
        expect(state.files).toContain(`s3/hysds-products/products/first/${name}/${name}.dataset.json`)
      }
      expect(state.files.some((f) => f.includes("/products/fallback/"))).toBe(false)
      expect(state.documents.length).toBe(ADVERSARIAL.length)
      expect(canary.hashes()).toEqual(before)
    },
    TIMEOUT
  )
})

describe("ReDoS: a pattern that needs backtracking is refused when datasets.json loads (CLI)", () => {
  const sb = sandbox("redos-cli")
  const canary = makeCanary(sb.root)
  afterAll(() => sb.cleanup())

  test(
    "a backreference: exit 3 naming entry, field, construct and why; nothing published; a clean ingest then succeeds",
    async () => {
      const before = canary.hashes()
      const datasets = sb.path("backref-datasets.json")
      const pattern = "/(?P<id>AOI_(?P<c>\\w)(?P=c).*)$"
      writeFileSync(datasets, JSON.stringify({ datasets: [examples()[0], entry("hysds::data/twice", pattern), ...examples().slice(1)] }))
      const jobDir = sb.copyExample("mixed-job", "refused-job")

      const refused = await ingest(jobDir, sb.stateDir, [], { datasets })
      expect(refused.exitCode, describeRun(refused)).toBe(EXIT.config)
      const message = refused.stderr.replace(/\s+/g, " ")
      expect(message).toContain(datasets)
      expect(message).toContain("datasets[1] (hysds::data/twice): match_pattern")
      expect(message).toContain(
        "(?P=c) at position 21 is a backreference, which needs a backtracking regex engine; " +
          "hysds-stac matches datasets.json patterns in linear time to stay safe with untrusted job dirs; " +
          "rewrite the pattern without it"
      )
      const after = await snapshot(sb.stateDir)
      expect(isEmpty(after), JSON.stringify(summary(after))).toBe(true)
      expect(summary(after)).toEqual(EMPTY_SUMMARY)
      expect(canary.hashes()).toEqual(before)

      const clean = await ingest(sb.copyExample("mixed-job", "clean-job"), sb.stateDir)
      expect(clean.exitCode, describeRun(clean)).toBe(EXIT.ok)
      expect((await snapshot(sb.stateDir)).documents.length).toBe(5)
      expect(canary.hashes()).toEqual(before)
    },
    TIMEOUT
  )
})
