import { EventLoop } from "@hysds-stac/core"
import { describe, expect, test } from "bun:test"
import { Effect, Layer } from "effect"
import * as EngineMemory from "./EngineMemory.ts"

const intervalUnder = (env: Record<string, string | undefined>) => Effect.runSync(Effect.provide(EventLoop.Interval, EngineMemory.layer(env)))

/** Resolves once `cond` holds, checked every 5 ms; fails past the deadline. */
const until = async (cond: () => boolean, deadlineMs = 10_000) => {
  const end = Date.now() + deadlineMs
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met before the deadline")
    await Bun.sleep(5)
  }
}

describe("EngineMemory", () => {
  test("with the engine's memory setting, planning turns every 50 ms", () => {
    expect(intervalUnder({ BUN_JSC_forceRAMSize: "268435456" })).toBe(50)
  })

  test("without it (or set empty), core's default stays", () => {
    const byDefault = Effect.runSync(EventLoop.Interval)
    expect(byDefault).toBe(250)
    expect(intervalUnder({})).toBe(byDefault)
    expect(intervalUnder({ BUN_JSC_forceRAMSize: "" })).toBe(byDefault)
  })

  test("the setting's size is the valve's budget; anything but a positive whole number of bytes is none", () => {
    expect(EngineMemory.budgetOf({ BUN_JSC_forceRAMSize: "268435456" })).toBe(268435456)
    for (const v of [undefined, "", "0", "-5", "256M", "1.5", "1e400"]) expect(EngineMemory.budgetOf({ BUN_JSC_forceRAMSize: v })).toBeUndefined()
  })

  test("with the setting, garbage is collected once the RSS is past its size", async () => {
    let collections = 0
    // A budget of one byte: the first check finds the RSS past it.
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.buildWithScope(EngineMemory.layer({ BUN_JSC_forceRAMSize: "1" }, () => void collections++), yield* Effect.scope)
          yield* Effect.promise(() => until(() => collections >= 1))
        })
      )
    )
    expect(collections).toBeGreaterThanOrEqual(1)
  })

  test("the valve is checked while its layer is in use, and not once its scope is closed", async () => {
    let checks = 0
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.buildWithScope(EngineMemory.watch(() => void checks++, 5), yield* Effect.scope)
          yield* Effect.promise(() => until(() => checks >= 3))
        })
      )
    )
    const afterClose = checks
    await Bun.sleep(100)
    expect(checks).toBe(afterClose)
  })

  test("below the setting's size, nothing is collected", async () => {
    let collections = 0
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.buildWithScope(EngineMemory.layer({ BUN_JSC_forceRAMSize: String(2 ** 50) }, () => void collections++), yield* Effect.scope)
          yield* Effect.sleep("300 millis")
        })
      )
    )
    expect(collections).toBe(0)
  })
})
