import { describe, expect, test } from "bun:test"
import { Journal } from "@hysds-stac/core"
import { Effect } from "effect"
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
    const txs = await Effect.runPromise(reopened.transactions())
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
