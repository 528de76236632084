/**
 * The workflow's promise, tested in-process on the real embedded backends:
 * a failure at any step, or an interruption, undoes every finished step in
 * reverse order, the run fails with the original error, and the state is
 * exactly what it was before.
 */
import { describe, expect, test } from "bun:test"
import { BunContext } from "@effect/platform-bun"
import { Embedded } from "@hysds-stac/adapters"
import { Journal, Progress, Recover, StacRegistry } from "@hysds-stac/core"
import { Cause, Effect, Exit, Fiber, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { backends, copyJob, type Fault, ingest, options, snapshot, tempDir, undoneSteps } from "./Harness.ts"

const T = 30_000

const failWith = async (stateDir: string, jobDir: string, faults: ReadonlyArray<Fault>, force = false) => {
  const { effect, run } = ingest(stateDir, options(jobDir, { force }), faults)
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("the ingest succeeded although a fault was injected")
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "None" || failure.value._tag !== "IngestFailed") throw new Error(`unexpected cause: ${Cause.pretty(exit.cause)}`)
  return { failure: failure.value, run }
}

const intents = (run: { journal: ReadonlyArray<{ _tag: string }> }) => run.journal.filter((r) => r._tag === "Intent").length

const strictlyDecreasing = (steps: ReadonlyArray<number>) => steps.every((s, i) => i === 0 || s < steps[i - 1]!)

describe("rollback on the embedded backends", () => {
  test("a successful run commits: every intent done, claims gone, publish contexts kept, journal ends committed", async () => {
    const state = tempDir("state")
    const job = copyJob("mixed-job")
    const { effect, run } = ingest(state, options(job))
    const result = await Effect.runPromise(effect)
    expect(result.totals).toMatchObject({ products: 3, items: 3, documents: 5 })
    const ends = run.journal.filter((r) => r._tag === "End")
    expect(ends).toEqual([expect.objectContaining({ outcome: "committed" })])
    expect(run.journal.filter((r) => r._tag === "Done")).toHaveLength(intents(run))
    const after = await snapshot(state)
    expect(after.files.some(([f]) => f.includes(".hysds-stac-"))).toBe(false)
    // HySDS's publish context stays at each of the 3 publish locations, as HySDS leaves it.
    expect(after.files.filter(([f]) => f.endsWith("_publish.context.json"))).toHaveLength(3)
    expect(after.documents).toHaveLength(5)
  }, T)

  test("failure at the first step (the first claim) undoes it and publishes nothing", async () => {
    const state = tempDir("state")
    const { failure, run } = await failWith(state, copyJob("mixed-job"), [{ port: "store", method: "create", nth: 1 }])
    expect(failure.error._tag).toBe("StorageError")
    expect(failure.error.message).toContain("store.create call 1")
    expect(undoneSteps(run.journal)).toEqual([1])
    expect(failure.rollback.undone.map((u) => u.step)).toEqual([1])
    expect(await snapshot(state)).toEqual({ files: [], documents: [], collections: [], items: [] })
  }, T)

  test("failure in the middle (the 5th file upload) undoes the finished steps in reverse order", async () => {
    const state = tempDir("state")
    const { failure, run } = await failWith(state, copyJob("mixed-job"), [{ port: "store", method: "putFile", nth: 5 }])
    expect(failure.error.message).toContain("store.putFile call 5")
    const undone = undoneSteps(run.journal)
    expect(undone.length).toBe(intents(run))
    expect(strictlyDecreasing(undone)).toBe(true)
    expect(undone.at(-1)).toBe(1)
    expect(await snapshot(state)).toEqual({ files: [], documents: [], collections: [], items: [] })
  }, T)

  test("failure at the last step (_datasets.json cannot be written) undoes everything, the index included", async () => {
    const state = tempDir("state")
    const job = copyJob("mixed-job")
    // A directory where the file must go, made once planning is done (planning refuses one).
    const late = Layer.succeed(Progress.Progress, {
      emit: (e) => (e._tag === "Planned" ? Effect.sync(() => fs.mkdirSync(path.join(job, "_datasets.json"))) : Effect.void)
    })
    const { effect, run } = ingest(state, options(job), [], late)
    const exit = await Effect.runPromiseExit(effect)
    const cause = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
    if (cause?._tag !== "Some" || cause.value._tag !== "IngestFailed") throw new Error("expected the ingest to fail at _datasets.json")
    const failure = cause.value
    expect(failure.error._tag).toBe("StorageError")
    expect(failure.error.message).toContain("_datasets.json")
    const kinds = run.journal.flatMap((r) => (r._tag === "Intent" ? [r.action._tag] : []))
    expect(kinds.at(-1)).toBe("WriteJobFile")
    expect(kinds).toContain("IndexDocuments")
    expect(undoneSteps(run.journal)).toEqual([...Array(kinds.length).keys()].map((i) => kinds.length - i))
    expect(await snapshot(state)).toEqual({ files: [], documents: [], collections: [], items: [] })
    expect(fs.statSync(path.join(job, "_datasets.json")).isDirectory()).toBe(true)
  }, T)

  test("interruption mid-upload undoes what was started, including the upload in flight", async () => {
    const state = tempDir("state")
    const { effect, run } = ingest(state, options(copyJob("mixed-job")), [{ port: "store", method: "putFile", nth: 7, hang: true }])
    const fiber = Effect.runFork(effect)
    const deadline = Date.now() + 10_000
    while (!run.probe.hung && Date.now() < deadline) await Bun.sleep(5)
    expect(run.probe.hung).toBe(true)
    const exit = await Effect.runPromise(Fiber.interrupt(fiber))
    expect(Exit.isInterrupted(exit)).toBe(true)
    expect(run.journal.filter((r) => r._tag === "End")).toEqual([expect.objectContaining({ outcome: "aborted" })])
    expect(strictlyDecreasing(undoneSteps(run.journal))).toBe(true)
    expect(await snapshot(state)).toEqual({ files: [], documents: [], collections: [], items: [] })
  }, T)

  test("a compensation that fails is reported, the others still run, and the ORIGINAL error is kept; recover finishes it", async () => {
    const state = tempDir("state")
    const { failure, run } = await failWith(state, copyJob("failing-job"), [
      { port: "registry", method: "deleteCollectionIfOnly" } // every attempt to undo the collection fails
    ])
    expect(failure.error._tag).toBe("IndexError") // the mapping conflict, not the undo failure
    expect(failure.error.message).toContain("AOI_zz_beta")
    expect(failure.rollback.failed).toHaveLength(1)
    expect(failure.rollback.failed[0]!.summary).toContain("STAC collection fail-scenes")
    expect(failure.rollback.undone.length).toBe(intents(run) - 1)
    expect(run.journal.filter((r) => r._tag === "End")).toEqual([expect.objectContaining({ outcome: "abort-incomplete" })])
    const after = await snapshot(state)
    expect(after.files).toEqual([])
    expect(after.documents).toEqual([])
    // The items went into the collection this run created: their batches left them to its undo, which failed.
    const registered = run.journal.flatMap((r) => (r._tag === "Intent" && r.action._tag === "RegisterItems" ? r.action.ids : []))
    expect(registered.length).toBeGreaterThan(0)
    expect(after.items.map((i) => (i as { id: string }).id).sort()).toEqual([...registered].sort())
    expect(after.collections.map((c) => (c as { id: string }).id)).toEqual(["fail-scenes"]) // left, and reported
    // Recovery knows those items from the journal alone (their batches' undo already ran) and removes them with the collection.
    const tx = run.journal[0]!.tx
    const recovered = await Effect.runPromise(
      Recover.transaction(tx).pipe(Effect.provide(Layer.mergeAll(backends(state, [], { calls: new Map(), hung: false }), Journal.memory(run.journal), Progress.Progress.none, BunContext.layer)))
    )
    expect(recovered).toMatchObject({ outcome: "rolled-back", failed: [] })
    expect(recovered.undone.map((u) => u.summary)).toEqual(["STAC collection fail-scenes"])
    expect(await snapshot(state)).toEqual({ files: [], documents: [], collections: [], items: [] })
  }, T)

  test("recover takes the transactions no one holds and names the ones a live holder keeps, leaving them open", async () => {
    // Two transactions that began and did nothing more: one whose holder is gone, one whose holder
    // (this scope, standing for another worker) still holds its lease.
    const begin = (tx: string, pid: number): Journal.JournalRecord => ({
      _tag: "Begin", tx, at: "2026-12-02T10:00:00.000Z", jobDir: `/jobs/${tx}`, products: [`product-${tx}`], host: "worker-1", pid
    })
    const records = [begin("dead", 101), begin("held", 202)]
    const outcome = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          expect(yield* (yield* Journal.Journal).lease("held", "begin")).toBe(true)
          return yield* Recover.all()
        })
      ).pipe(Effect.provide(Layer.mergeAll(backends(tempDir("state"), [], { calls: new Map(), hung: false }), Journal.memory(records), Progress.Progress.none, BunContext.layer)))
    )
    expect(outcome.recovered.map((r) => [r.tx, r.outcome])).toEqual([["dead", "rolled-back"]])
    expect(outcome.left).toEqual([{ tx: "held", state: "running", steps: 0, lastAt: "2026-12-02T10:00:00.000Z", host: "worker-1", pid: 202 }])
    // The held one was not touched (no End), so a later recover still finds it open.
    expect(records.filter((r) => r.tx === "held").map((r) => r._tag)).toEqual(["Begin"])
    expect(records.filter((r) => r.tx === "dead").map((r) => r._tag)).toEqual(["Begin", "End"])
  }, T)

  test("a collection this run created and alone filled is undone whole: its items go with it, none deleted one by one", async () => {
    const state = tempDir("state")
    const { run } = await failWith(state, copyJob("failing-job"), [])
    expect(run.journal.some((r) => r._tag === "Intent" && r.action._tag === "RegisterItems" && r.action.fresh === true)).toBe(true)
    expect(run.probe.calls.get("registry.deleteCollectionIfOnly")).toBe(1)
    expect(run.probe.calls.get("registry.deleteItems")).toBeUndefined()
    expect(await snapshot(state)).toEqual({ files: [], documents: [], collections: [], items: [] })
  }, T)

  test("a failed --force re-ingest restores the earlier publication exactly", async () => {
    const state = tempDir("state")
    await Effect.runPromise(ingest(state, options(copyJob("mixed-job"))).effect)
    const before = await snapshot(state)
    const { failure } = await failWith(state, copyJob("mixed-job"), [{ port: "index", method: "bulkIndex", nth: 1 }], true)
    expect(failure.error._tag).toBe("IndexError")
    expect(await snapshot(state)).toEqual(before)
  }, T)

  test("a collection this run created is kept, with another job's item, when that job added one before the rollback", async () => {
    const state = tempDir("state")
    const job = copyJob("mixed-job")
    const item = JSON.parse(fs.readFileSync(path.join(job, "stac_catalog_20240115_etna", "etna-scenes", "items", "etna-scene-001", "etna-scene-001.json"), "utf8"))
    const other = { ...item, id: "etna-other-job-001", links: [], assets: {} }
    // Another job finds the collection this run just created and publishes an item into it.
    const otherJob = Layer.succeed(Progress.Progress, {
      emit: (e) =>
        e._tag === "ItemsRegistered"
          ? Effect.flatMap(StacRegistry.StacRegistry, (r) => r.putItems(e.collection, [other], "create")).pipe(Effect.provide(Embedded.layer({ stateDir: state })), Effect.orDie)
          : Effect.void
    })
    const { effect } = ingest(state, options(job), [{ port: "index", method: "bulkIndex", nth: 1 }], otherJob)
    const exit = await Effect.runPromiseExit(effect)
    const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
    if (failure?._tag !== "Some" || failure.value._tag !== "IngestFailed") throw new Error(`expected the ingest to fail at the index: ${String(exit)}`)
    expect(failure.value.error._tag).toBe("IndexError")
    const after = await snapshot(state)
    // This run's items, files and documents are gone; the other job's item, and so its collection, are not.
    expect(after.items.map((i) => (i as { id: string }).id)).toEqual(["etna-other-job-001"])
    expect(after.collections.map((c) => (c as { id: string }).id)).toEqual([item.collection])
    expect(after.files).toEqual([])
    expect(after.documents).toEqual([])
  }, T)

  test("a collection that existed before the run is never deleted by its rollback", async () => {
    const state = tempDir("state")
    await Effect.runPromise(ingest(state, options(copyJob("mixed-job"))).effect)
    const before = await snapshot(state)
    // A second job adds items to the same collection, then fails at the index.
    const job = copyJob("mixed-job")
    for (const p of ["AOI_volcano_etna", "S1-IFG_RM_20240115T103000_20240116T103000_etna"]) fs.rmSync(path.join(job, p), { recursive: true })
    const catalogDir = path.join(job, "stac_catalog_20240115_etna")
    fs.renameSync(catalogDir, path.join(job, "stac_catalog_20240116_more"))
    for (const n of ["001", "002", "003"]) {
      const items = path.join(job, "stac_catalog_20240116_more", "etna-scenes", "items")
      const itemDir = path.join(items, `etna-more-${n}`)
      fs.renameSync(path.join(items, `etna-scene-${n}`), itemDir)
      const file = path.join(itemDir, `etna-scene-${n}.json`)
      const item = JSON.parse(fs.readFileSync(file, "utf8"))
      item.id = `etna-more-${n}`
      fs.writeFileSync(path.join(itemDir, `etna-more-${n}.json`), JSON.stringify(item))
      fs.rmSync(file)
    }
    const collFile = path.join(job, "stac_catalog_20240116_more", "etna-scenes", "collection.json")
    fs.writeFileSync(collFile, fs.readFileSync(collFile, "utf8").replaceAll("etna-scene-", "etna-more-"))
    const { failure } = await failWith(state, job, [{ port: "index", method: "bulkIndex", nth: 1 }])
    expect(failure.error._tag).toBe("IndexError")
    expect(await snapshot(state)).toEqual(before)
  }, T)
})
