import { expect, test } from "bun:test"
import * as PhaseClock from "./PhaseClock.ts"

const step = (name: string, n: number) => ({ _tag: "StepStarted" as const, step: n, summary: name, name })

test("each phase runs from its first step to its last progress; plan from the start", () => {
  const clock = PhaseClock.make(1000)
  const at: Array<[Parameters<PhaseClock.PhaseClock["observe"]>[0], number]> = [
    [{ _tag: "Planned", products: 1, items: 2, files: 3, bytes: 30 }, 3000],
    [step("ClaimProduct", 1), 3000],
    [step("BackupObjects", 2), 3500],
    [step("PutObjects", 3), 4000],
    [{ _tag: "FilePublished", url: "s3://b/k", bytes: 10 }, 4500],
    [{ _tag: "FilePublished", url: "s3://b/l", bytes: 20 }, 6000],
    [step("RegisterCollection", 4), 6000],
    [step("RegisterItems", 5), 6500],
    [{ _tag: "ItemsRegistered", collection: "c", count: 2 }, 7000],
    [step("IndexDocuments", 6), 7000],
    [{ _tag: "DocumentsIndexed", count: 3 }, 8500],
    [step("WriteJobFile", 7), 9000]
  ]
  for (const [e, t] of at) clock.observe(e, t)
  // GRQ runs until the job file: the refresh after its last batch is its own.
  expect(clock.times(9500)).toEqual({ plan: 2, claim: 1, files: 2, stac: 1, grq: 2, finish: 0.5 })
})

test("overlapping phases keep their own spans; a rollback runs from the failure to the end", () => {
  const clock = PhaseClock.make(0)
  clock.observe({ _tag: "Planned", products: 1, items: 1, files: 1, bytes: 1 }, 100)
  clock.observe(step("PutObjects", 1), 100)
  clock.observe(step("RegisterItems", 2), 200)
  clock.observe({ _tag: "ItemsRegistered", collection: "c", count: 1 }, 300)
  clock.observe({ _tag: "FilePublished", url: "u", bytes: 1 }, 500)
  clock.observe({ _tag: "RollingBack", steps: 0 }, 600)
  clock.observe({ _tag: "StepUndone", step: 2, summary: "x" }, 700)
  expect(clock.times(1100)).toEqual({ plan: 0.1, files: 0.4, stac: 0.1, rollback: 0.5 })
})
