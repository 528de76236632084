import { EventLoop } from "@hysds-stac/core"
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import * as EngineMemory from "./EngineMemory.ts"

const intervalUnder = (env: Record<string, string | undefined>) => Effect.runSync(Effect.provide(EventLoop.Interval, EngineMemory.layer(env)))

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
})
