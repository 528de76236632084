import { describe, expect, test } from "bun:test"
import { Journal } from "@hysds-stac/core"
import { ConfigProvider, Effect, Either, Exit, Layer, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as FileJournal from "./FileJournal.ts"

const dir = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "journal-")), "journal")
const at = "2026-01-01T00:00:00.000Z"

describe("FileJournal", () => {
  test("appends survive a reopen, and states are derived from the records", async () => {
    const d = dir()
    const j = FileJournal.make({ dir: d })
    await Effect.runPromise(
      Effect.all([
        j.append({ _tag: "Begin", tx: "t1", at, jobDir: "/job", products: ["p"], host: "h", pid: 1 }),
        j.append({ _tag: "Intent", tx: "t1", step: 1, action: { _tag: "PutObjects", product: "p", urls: ["s3://b/k"] } }),
        j.append({ _tag: "Begin", tx: "t2", at, jobDir: "/job", products: ["q"] }),
        j.append({ _tag: "End", tx: "t2", at, outcome: "committed" })
      ])
    )
    const reopened = FileJournal.make({ dir: d })
    const records = await Effect.runPromise(reopened.records("t1"))
    expect(records.map((r) => r._tag)).toEqual(["Begin", "Intent"])
    const txs = await Effect.runPromise(reopened.transactions({ finished: true }))
    expect(Object.fromEntries(txs.map((t) => [t.tx, t.state]))).toEqual({ t1: "running", t2: "committed" })
  })

  test("a torn last record is dropped; damage before it is an error", async () => {
    const d = dir()
    const j = FileJournal.make({ dir: d })
    await Effect.runPromise(j.append({ _tag: "Begin", tx: "t", at, jobDir: "/j", products: [] }))
    await Effect.runPromise(j.append({ _tag: "Commit", tx: "t", at }))
    const file = path.join(d, "t.jsonl")
    const full = fs.readFileSync(file, "utf8")
    fs.writeFileSync(file, full + FileJournal.encode({ _tag: "End", tx: "t", at, outcome: "committed" }).slice(0, 20))
    expect((await Effect.runPromise(j.records("t"))).map((r) => r._tag)).toEqual(["Begin", "Commit"])
    expect(Journal.summarize("t", await Effect.runPromise(j.records("t"))).state).toBe("committing")
    fs.writeFileSync(file, full.replace('"Begin"', '"Begim"'))
    const exit = await Effect.runPromiseExit(j.records("t"))
    expect(exit._tag).toBe("Failure")
    expect(JSON.stringify(exit)).toContain("damaged at line 1")
  })

  test("the crash hook kills the process with SIGKILL right after the K-th append", () => {
    const d = dir()
    const code =
      `import { Effect } from "effect"\nimport * as FileJournal from "./FileJournal.ts"\n` +
      `const j = FileJournal.make({ dir: ${JSON.stringify(d)} })\n` +
      `for (let i = 1; i <= 5; i++) Effect.runSync(j.append({ _tag: "Intent", tx: "k", step: i, action: { _tag: "PutObjects", product: "p", urls: [] } }))\n` +
      `console.log("survived")\n`
    // Run from this folder so the child resolves the same modules.
    const r = Bun.spawnSync(["bun", "-e", code], { env: { ...process.env, HYSDS_STAC_CRASH_AT: "3" }, cwd: import.meta.dir })
    expect(r.signalCode).toBe("SIGKILL")
    expect(r.stdout.toString()).not.toContain("survived")
    const records = FileJournal.decode("k", fs.readFileSync(path.join(d, "k.jsonl"), "utf8"))
    expect(records.map((x) => (x as { step: number }).step)).toEqual([1, 2, 3])
  })
})

describe("FileJournal records are versioned and decoded", () => {
  const write = (d: string, tx: string, ...stored: Array<unknown>) => {
    fs.mkdirSync(d, { recursive: true })
    const lines = stored.map((r) => {
      const json = JSON.stringify(r)
      return `${(Bun.hash.crc32(json) >>> 0).toString(16).padStart(8, "0")} ${json}\n`
    })
    fs.writeFileSync(path.join(d, `${tx}.jsonl`), lines.join(""))
  }
  const failure = async (d: string, tx: string) => JSON.stringify(await Effect.runPromiseExit(FileJournal.make({ dir: d }).records(tx)))

  test("each record is written with its version", async () => {
    const d = dir()
    await Effect.runPromise(FileJournal.make({ dir: d }).append({ _tag: "Commit", tx: "v", at }))
    const line = fs.readFileSync(path.join(d, "v.jsonl"), "utf8")
    expect(JSON.parse(line.slice(9))).toEqual({ v: 1, _tag: "Commit", tx: "v", at })
  })

  test("a record without a version (written before versioning) reads as version 1", async () => {
    const d = dir()
    write(d, "old", { _tag: "Begin", tx: "old", at, jobDir: "/j", products: ["p"] }, { _tag: "Done", tx: "old", step: 1 })
    const records = await Effect.runPromise(FileJournal.make({ dir: d }).records("old"))
    expect(records).toEqual([
      { _tag: "Begin", tx: "old", at, jobDir: "/j", products: ["p"] },
      { _tag: "Done", tx: "old", step: 1 }
    ])
  })

  test("a record of an unknown version is reported, never guessed at", async () => {
    const d = dir()
    write(d, "new", { v: 2, _tag: "Begin", tx: "new", at, jobDir: "/j", products: [] }, { v: 1, _tag: "Done", tx: "new", step: 1 })
    const text = await failure(d, "new")
    expect(text).toContain("line 1 cannot be read")
    expect(text).toContain("version 2")
  })

  test("a record of the wrong shape is reported with what is wrong", async () => {
    const d = dir()
    write(
      d,
      "bad",
      { v: 1, _tag: "Intent", tx: "bad", step: 1, action: { _tag: "PutObjects", product: "p", urls: "s3://b/k" } },
      { v: 1, _tag: "Done", tx: "bad", step: 1 }
    )
    const text = await failure(d, "bad")
    expect(text).toContain("line 1 cannot be read")
    expect(text).toContain("urls")
  })
})

describe("FileJournal compaction", () => {
  const begin = (tx: string) => ({ _tag: "Begin" as const, tx, at, jobDir: "/job", products: [tx] })
  const end = (tx: string, outcome: "committed" | "aborted" | "abort-incomplete") => ({ _tag: "End" as const, tx, at, outcome })

  test("finished transactions leave the open ones; abort-incomplete stays open for recover", async () => {
    const d = dir()
    const j = FileJournal.make({ dir: d, retentionDays: 7 })
    await Effect.runPromise(
      Effect.all([
        j.append(begin("done")),
        j.append(end("done", "committed")),
        j.append(begin("undone")),
        j.append(end("undone", "aborted")),
        j.append(begin("stuck")),
        j.append(end("stuck", "abort-incomplete")),
        j.append(begin("running"))
      ])
    )
    expect(fs.readdirSync(d).sort()).toEqual(["finished", "running.jsonl", "stuck.jsonl"])
    const open = await Effect.runPromise(j.transactions())
    expect(open.map((t) => [t.tx, t.state]).sort()).toEqual([
      ["running", "running"],
      ["stuck", "abort-incomplete"]
    ])
    const all = await Effect.runPromise(j.transactions({ finished: true }))
    expect(all.map((t) => t.tx).sort()).toEqual(["done", "running", "stuck", "undone"])
    // A finished transaction can still be read, and recovery of the stuck one finishes it.
    expect((await Effect.runPromise(j.records("done"))).map((r) => r._tag)).toEqual(["Begin", "End"])
    await Effect.runPromise(j.append(end("stuck", "aborted")))
    expect(fs.readdirSync(d).sort()).toEqual(["finished", "running.jsonl"])
    expect((await Effect.runPromise(j.records("stuck"))).map((r) => r._tag)).toEqual(["Begin", "End", "End"])
  })

  test("finished transactions older than the retention are deleted; 0 keeps none", async () => {
    const d = dir()
    const week = FileJournal.make({ dir: d, retentionDays: 7 })
    await Effect.runPromise(Effect.all([week.append(begin("old")), week.append(end("old", "committed"))]))
    const old = path.join(d, "finished", "old.jsonl")
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 60 * 60 * 1000)
    fs.utimesSync(old, eightDaysAgo, eightDaysAgo)
    await Effect.runPromise(Effect.all([week.append(begin("recent")), week.append(end("recent", "committed"))]))
    expect(fs.readdirSync(path.join(d, "finished"))).toEqual(["recent.jsonl"])
    const none = FileJournal.make({ dir: d, retentionDays: 0 })
    await Effect.runPromise(Effect.all([none.append(begin("gone")), none.append(end("gone", "aborted"))]))
    expect(fs.readdirSync(path.join(d, "finished"))).toEqual([])
  })

  test("HYSDS_STAC_JOURNAL_RETENTION_DAYS must be a number of days", async () => {
    const days = (env: Record<string, string>) =>
      Effect.runPromise(Effect.either(FileJournal.retentionDays).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))))
    expect(await days({})).toEqual(Either.right(7))
    expect(await days({ HYSDS_STAC_JOURNAL_RETENTION_DAYS: "0.5" })).toEqual(Either.right(0.5))
    expect(Either.isLeft(await days({ HYSDS_STAC_JOURNAL_RETENTION_DAYS: "a week" }))).toBe(true)
    expect(Either.isLeft(await days({ HYSDS_STAC_JOURNAL_RETENTION_DAYS: "-1" }))).toBe(true)
    const failed = await Effect.runPromise(
      Effect.flip(Layer.build(FileJournal.layer({ dir: dir() })).pipe(Effect.scoped)).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["HYSDS_STAC_JOURNAL_RETENTION_DAYS", "soon"]])))
      )
    )
    expect(failed._tag).toBe("ConfigError")
    expect(failed.message).toContain("HYSDS_STAC_JOURNAL_RETENTION_DAYS")
  })
})

describe("FileJournal leases: the same rule as the shared journal, plus what one machine can know", () => {
  const lease = { ttlMs: 1500, renewMs: 100 }
  const run = <A, E>(e: Effect.Effect<A, E, never>) => Effect.runPromise(e)
  const takeover = (j: Journal.JournalShape, tx: string) => run(Effect.scoped(j.lease(tx, "takeover")))
  /** A lease file as a holder with `pid` of this host left it, last renewed `ageMs` ago. */
  const leftLease = (d: string, tx: string, pid: number, ageMs: number) => {
    const file = path.join(d, "leases", tx, "000001.json")
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, JSON.stringify({ holder: { id: "x", host: os.hostname(), pid }, ttlMs: lease.ttlMs }))
    const t = new Date(Date.now() - ageMs)
    fs.utimesSync(file, t, t)
  }

  test("a holder whose process exists but stopped renewing (a reused pid) is dead once its lease expired", async () => {
    const d = dir()
    const j = FileJournal.make({ dir: d, lease })
    await run(j.append({ _tag: "Begin", tx: "reused", at, jobDir: "/j", products: ["p"], host: os.hostname(), pid: process.ppid }))
    leftLease(d, "reused", process.ppid, 0)
    expect(await run(j.live("reused"))).toBe(true)
    leftLease(d, "reused", process.ppid, lease.ttlMs + 2000)
    expect(await run(j.live("reused"))).toBe(false)
    expect(await takeover(j, "reused")).toBe(true)
  })

  test("a holder of this host whose process is gone is dead at once, lease or not", async () => {
    const d = dir()
    const child = Bun.spawnSync(["true"])
    const gone = child.pid
    const j = FileJournal.make({ dir: d, lease })
    await run(j.append({ _tag: "Begin", tx: "gone", at, jobDir: "/j", products: ["p"], host: os.hostname(), pid: gone }))
    leftLease(d, "gone", gone, 0)
    expect(await run(j.live("gone"))).toBe(false)
    // Two recoverers: the first takes it (and holds it while its scope is open), the second does not.
    const scope = Effect.runSync(Scope.make())
    expect(await run(Scope.extend(j.lease("gone", "takeover"), scope))).toBe(true)
    expect(await takeover(FileJournal.make({ dir: d, lease }), "gone")).toBe(false)
    await run(Scope.close(scope, Exit.void))
  })

  test("a live holder renewing its lease is never taken over, even from another journal of the same pid", async () => {
    const d = dir()
    const j = FileJournal.make({ dir: d, lease })
    const scope = Effect.runSync(Scope.make())
    expect(await run(Scope.extend(j.lease("mine", "begin"), scope))).toBe(true)
    await run(j.append({ _tag: "Begin", tx: "mine", at, jobDir: "/j", products: ["p"], host: os.hostname(), pid: process.pid }))
    const other = FileJournal.make({ dir: d, lease })
    const started = Date.now()
    while (Date.now() - started < lease.ttlMs * 2) await Bun.sleep(100)
    expect(await run(other.live("mine"))).toBe(true)
    expect(await takeover(other, "mine")).toBe(false)
    await run(Scope.close(scope, Exit.void))
    // Released when its run ended: taken over at once.
    expect(await takeover(other, "mine")).toBe(true)
  })

  test("a transaction from before leases (no lease file) is judged by its Begin's host and pid, as then", async () => {
    const d = dir()
    const j = FileJournal.make({ dir: d, lease })
    await run(j.append({ _tag: "Begin", tx: "elsewhere", at, jobDir: "/j", products: ["p"], host: `${os.hostname()}-other`, pid: 1 }))
    await run(j.append({ _tag: "Begin", tx: "parent", at, jobDir: "/j", products: ["p"], host: os.hostname(), pid: process.ppid }))
    await run(j.append({ _tag: "Begin", tx: "dead", at, jobDir: "/j", products: ["p"], host: os.hostname(), pid: Bun.spawnSync(["true"]).pid }))
    expect(await run(j.live("elsewhere"))).toBe(true)
    expect(await run(j.live("parent"))).toBe(true)
    expect(await takeover(j, "parent")).toBe(false)
    expect(await takeover(j, "dead")).toBe(true)
  })
})
