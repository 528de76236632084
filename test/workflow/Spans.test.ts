/**
 * The spans an ingest makes, in-process on the embedded backends, recorded by
 * a tracer that keeps every span Effect creates: the ingest, its phases, a
 * span per step under `publish`, the commit cleanup or undo of each step as a
 * child of that step, and the step-duration metric fed where the step span is.
 */
import { BunContext } from "@effect/platform-bun"
import { Ingest, Journal, Progress, Step } from "@hysds-stac/core"
import { describe, expect, test } from "bun:test"
import { Effect, Exit, Layer, Metric, Option, Tracer } from "effect"
import { backends, copyJob, type Fault, options, tempDir } from "./Harness.ts"

const T = 60_000

/** Every span the run creates, through Effect's own tracer. */
const recorder = () => {
  const spans: Array<Tracer.Span> = []
  const native = Effect.runSync(Effect.tracer)
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      spans.push(span)
      return span
    },
    context: native.context
  })
  return { spans, tracer }
}

const run = async (faults: ReadonlyArray<Fault> = []) => {
  const { spans, tracer } = recorder()
  const journal: Array<Journal.JournalRecord> = []
  const exit = await Effect.runPromiseExit(
    Ingest.run(options(copyJob("mixed-job"))).pipe(
      Effect.provide(
        Layer.mergeAll(backends(tempDir("state"), faults, { calls: new Map(), hung: false }), Journal.memory(journal), Progress.Progress.none, BunContext.layer)
      ),
      Effect.withTracer(tracer)
    )
  )
  const parentOf = (s: Tracer.Span) => Option.getOrUndefined(Option.filter(s.parent, (p): p is Tracer.Span => p._tag === "Span"))
  const named = (name: string) => spans.filter((s) => s.name === name)
  return { exit, spans, journal, parentOf, named }
}

const count = (action: string) =>
  Effect.runSync(Metric.value(Metric.tagged(Step.duration, "action", action))).count

describe("spans of an ingest", () => {
  test("a successful ingest: ingest > plan, checks, preflight, publish > one span per step > its commit", async () => {
    const putsBefore = count("PutObjects")
    const r = await run()
    expect(Exit.isSuccess(r.exit)).toBe(true)
    const [ingest] = r.named("ingest")
    expect(ingest).toBeDefined()
    expect(ingest!.attributes.get("hysds_stac.tx")).toBeString()
    for (const phase of ["plan", "recover earlier attempts", "check grq", "check stac-api", "preflight", "publish"]) {
      expect(r.named(phase).map((s) => r.parentOf(s)?.name)).toEqual(["ingest"])
    }
    const steps = r.spans.filter((s) => s.name.startsWith("step "))
    const intents = r.journal.filter((j) => j._tag === "Intent")
    expect(intents.length).toBeGreaterThan(5)
    expect(steps).toHaveLength(intents.length)
    expect(steps.map((s) => s.name)).toEqual(intents.map((i) => `step ${i._tag === "Intent" ? i.action._tag : ""}`))
    for (const s of steps) {
      expect(r.parentOf(s)?.name).toBe("publish")
      expect(s.attributes.get("hysds_stac.tx")).toBe(ingest!.attributes.get("hysds_stac.tx"))
      expect(s.status._tag).toBe("Ended")
    }
    expect(steps.map((s) => s.attributes.get("hysds_stac.step"))).toEqual(intents.map((i) => (i._tag === "Intent" ? i.step : 0)))
    // The commit cleanup of each step is its own span, the step's child.
    const commits = r.spans.filter((s) => s.name.startsWith("commit "))
    expect(commits).toHaveLength(steps.length)
    for (const c of commits) expect(r.parentOf(c)?.name).toBe(c.name.replace(/^commit /, "step "))
    expect(r.spans.filter((s) => s.name.startsWith("undo "))).toHaveLength(0)
    // Three PutObjects steps completed: the duration histogram counted each.
    expect(count("PutObjects") - putsBefore).toBe(steps.filter((s) => s.name === "step PutObjects").length)
  }, T)

  test("a failed ingest: the failed step's span fails, every finished step gets an undo span, none a commit", async () => {
    const indexBefore = count("IndexDocuments")
    const r = await run([{ port: "index", method: "bulkIndex", nth: 1 }])
    expect(Exit.isFailure(r.exit)).toBe(true)
    const failed = r.named("step IndexDocuments")
    expect(failed).toHaveLength(1)
    const status = failed[0]!.status
    expect(status._tag === "Ended" && Exit.isFailure(status.exit)).toBe(true)
    const steps = r.spans.filter((s) => s.name.startsWith("step "))
    const undos = r.spans.filter((s) => s.name.startsWith("undo "))
    expect(steps.length).toBeGreaterThan(1)
    expect(undos).toHaveLength(steps.length)
    for (const u of undos) expect(r.parentOf(u)?.name).toBe(u.name.replace(/^undo /, "step "))
    expect(r.spans.filter((s) => s.name.startsWith("commit "))).toHaveLength(0)
    // A step that failed is not a completed step.
    expect(count("IndexDocuments")).toBe(indexBefore)
  }, T)
})
