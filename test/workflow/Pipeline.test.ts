/**
 * The pipelined publish on the embedded backends: items flow in batches
 * through three stages (files stored, items registered, documents indexed).
 * A failure in a later batch or stage undoes each batch's steps in dependency
 * order (its documents, then its items, then its files), and an item file that
 * changes after planning fails the run, which publishes nothing more and rolls
 * back.
 */
import { describe, expect, test } from "bun:test"
import { Progress } from "@hysds-stac/core"
import { Cause, Effect, Exit, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { copyJob, type Fault, ingest, options, snapshot, tempDir, undoneSteps } from "./Harness.ts"

const T = 30_000
const EMPTY = { files: [], documents: [], collections: [], items: [] }
const ITEM = (n: string) => `etna-scene-${n}`

const failed = async (effect: Effect.Effect<unknown, unknown>) => {
  const exit = await Effect.runPromiseExit(effect)
  const cause = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
  if (cause?._tag !== "Some" || (cause.value as { _tag?: string })._tag !== "IngestFailed") throw new Error(`expected IngestFailed, got ${String(exit)}`)
  return cause.value as { error: { _tag: string; message: string }; rollback: { failed: ReadonlyArray<unknown> } }
}

type Intent = { step: number; action: { _tag: string; ids?: ReadonlyArray<string>; refs?: ReadonlyArray<{ id: string }>; urls?: ReadonlyArray<string> } }

/** For each item: the step numbers of its PutObjects, RegisterItems and IndexDocuments (when they ran). */
const stepsOfItem = (journal: ReadonlyArray<{ _tag: string }>, item: string) => {
  const intents = journal.filter((r): r is Intent & { _tag: "Intent" } => r._tag === "Intent")
  const find = (tag: string, has: (a: Intent["action"]) => boolean) => intents.find((i) => i.action._tag === tag && has(i.action))?.step
  return {
    put: find("PutObjects", (a) => (a.urls ?? []).some((u) => u.endsWith(`/${item}.json`))),
    register: find("RegisterItems", (a) => (a.ids ?? []).includes(item)),
    index: find("IndexDocuments", (a) => (a.refs ?? []).some((r) => r.id === item))
  }
}

describe("the pipelined publish on the embedded backends", () => {
  test("in batches of one item, a failure indexing the second batch undoes each batch's documents, then items, then files", async () => {
    const state = tempDir("state")
    const faults: ReadonlyArray<Fault> = [{ port: "index", method: "bulkIndex", nth: 2 }]
    const { effect, run } = ingest(state, options(copyJob("mixed-job"), { batchSize: 1 }), faults)
    const failure = await failed(effect)
    expect(failure.error._tag).toBe("IndexError")
    expect(failure.rollback.failed).toEqual([])
    const undone = undoneSteps(run.journal)
    const position = (step: number | undefined) => (step === undefined ? -1 : undone.indexOf(step))
    // The first batch went through every stage; each of its steps is undone, the later stage first.
    const first = stepsOfItem(run.journal, ITEM("001"))
    expect(first.put).toBeDefined()
    expect(first.register).toBeDefined()
    expect(first.index).toBeDefined()
    for (const n of ["001", "002", "003"]) {
      const s = stepsOfItem(run.journal, ITEM(n))
      if (s.index !== undefined) expect({ n, indexBeforeRegister: position(s.index) < position(s.register) }).toEqual({ n, indexBeforeRegister: true })
      if (s.register !== undefined) expect({ n, registerBeforePut: position(s.register) < position(s.put) }).toEqual({ n, registerBeforePut: true })
    }
    expect(run.journal.filter((r) => r._tag === "End")).toEqual([expect.objectContaining({ outcome: "aborted" })])
    expect(await snapshot(state)).toEqual(EMPTY)
  }, T)

  test("a successful run in batches of one item publishes what one batch does, the job file identical", async () => {
    const one = copyJob("mixed-job")
    const many = copyJob("mixed-job")
    const stateOne = tempDir("state")
    const stateMany = tempDir("state")
    const now = new Date("2024-01-20T10:00:00Z")
    await Effect.runPromise(ingest(stateOne, options(one, { batchSize: 1, now })).effect)
    await Effect.runPromise(ingest(stateMany, options(many, { batchSize: 500, now })).effect)
    const a = await snapshot(stateOne)
    const b = await snapshot(stateMany)
    expect(a.items).toHaveLength(3)
    expect(a).toEqual(b)
    expect(fs.readFileSync(path.join(one, "_datasets.json"), "utf8")).toBe(fs.readFileSync(path.join(many, "_datasets.json"), "utf8"))
  }, T)

  test("an item file changed after planning: the run fails naming it, and everything is rolled back", async () => {
    const state = tempDir("state")
    const job = copyJob("mixed-job")
    const item = path.join(job, "stac_catalog_20240115_etna", "etna-scenes", "items", ITEM("002"), `${ITEM("002")}.json`)
    // Rewritten (another size) as soon as the plan is made: what planning validated is no longer there.
    const tamper = Layer.succeed(Progress.Progress, {
      emit: (e) => (e._tag === "Planned" ? Effect.sync(() => fs.appendFileSync(item, "\n ")) : Effect.void)
    })
    const { effect, run } = ingest(state, options(job, { batchSize: 1 }), [], tamper)
    const failure = await failed(effect)
    expect(failure.error._tag).toBe("StorageError")
    expect(failure.error.message).toContain(item)
    expect(failure.error.message).toContain("changed after planning")
    expect(failure.rollback.failed).toEqual([])
    // Nothing of the changed item was registered or indexed.
    const s = stepsOfItem(run.journal, ITEM("002"))
    expect({ register: s.register, index: s.index }).toEqual({ register: undefined, index: undefined })
    expect(await snapshot(state)).toEqual(EMPTY)
    expect(fs.existsSync(path.join(job, "_datasets.json"))).toBe(false)
  }, T)

  test("a collection is read once after planning: what is registered is what was put, though the file changes in between", async () => {
    const state = tempDir("state")
    const job = copyJob("mixed-job")
    const file = path.join(job, "stac_catalog_20240115_etna", "etna-scenes", "collection.json")
    const original = JSON.parse(fs.readFileSync(file, "utf8")).description
    // Changed as the catalog's documents are put (they were read just before): a second read, to register the
    // collection, would find it changed after planning and fail the run.
    let puts = 0
    const tamper = Layer.succeed(Progress.Progress, {
      emit: (e) =>
        e._tag === "StepStarted" && e.name === "PutObjects" && ++puts === 1
          ? Effect.sync(() => fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(original, "changed after it was put")))
          : Effect.void
    })
    const { effect } = ingest(state, options(job), [], tamper)
    await Effect.runPromise(effect)
    expect(puts).toBeGreaterThan(0)
    expect(fs.readFileSync(file, "utf8")).toContain("changed after it was put")
    const registered = (await snapshot(state)).collections.map((c) => (c as { description?: string }).description)
    const put = fs.readFileSync(path.join(state, "store", ...putPathOf(state, "collection.json")), "utf8")
    expect(registered).toEqual([original])
    expect(JSON.parse(put).description).toBe(original)
  }, T)
})

/** The stored object's path (under the store dir) that ends with `name`. */
const putPathOf = (state: string, name: string): Array<string> => {
  const found = (fs.readdirSync(path.join(state, "store"), { recursive: true, encoding: "utf8" }) as Array<string>).filter((f) => f.endsWith(`/${name}`))
  if (found.length !== 1) throw new Error(`expected one stored ${name}, found ${JSON.stringify(found)}`)
  return found[0]!.split("/")
}
