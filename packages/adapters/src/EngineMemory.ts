/**
 * What the engine's memory setting changes in how an ingest runs.
 *
 * `BUN_JSC_forceRAMSize=<bytes>` (README, "Installing on a worker") makes the
 * engine collect garbage as if the machine had that much RAM: an operator who
 * sets it asks for memory before speed. Two things follow from it here.
 *
 * Planning hands the event loop a turn every 50 ms instead of every 250 (core's
 * EventLoop.Interval): Bun schedules collections at turns, and planning reads
 * documents faster than a collection every 250 ms returns their garbage.
 * Measured (100,000 items x 1 asset, the plan alone in a fresh process, five
 * runs each, 256 MiB setting): peak RSS 332-340 MiB at 50 ms against 344-373
 * MiB at 250 ms, the same plan time (10.2-14.0 s both). 10 and 20 ms peaked no
 * lower and took longer. Without the setting 50 ms cost about 20% more plan
 * time for 15% less peak RSS (674 -> 570 MiB), so the default stays.
 *
 * And the process's RSS is watched (`Valve`): once it is past the setting's
 * size, garbage is collected there and then, in full.
 */
import { EventLoop } from "@hysds-stac/core"
import { Effect, Layer } from "effect"
import * as Valve from "./Valve.ts"

/** The engine's setting, as the environment names it. */
export const SETTING = "BUN_JSC_forceRAMSize"

/** Milliseconds between planning's turns with the setting. */
export const ECONOMY_INTERVAL_MS = 50

/** The setting's size in bytes; undefined when unset, empty or not a size. */
export const budgetOf = (env: Record<string, string | undefined>): number | undefined => {
  const bytes = Number(env[SETTING] ?? "")
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined
}

/** A full, synchronous collection, where the runtime offers one. */
const collectNow = (): void => (globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc(true)

/**
 * Checks `valve` every `everyMs` while the layer is in use: a timer that does
 * not keep the process alive, and is gone with the layer's scope.
 */
export const watch = (valve: () => void, everyMs: number): Layer.Layer<never> =>
  Layer.scopedDiscard(
    Effect.acquireRelease(
      Effect.sync(() => setInterval(valve, everyMs).unref()),
      (timer) => Effect.sync(() => clearInterval(timer))
    )
  )

/**
 * Planning's turn interval and the RSS valve for `env`: with the setting, else
 * nothing (core's defaults). `collect`: how garbage is collected (tests count).
 */
export const layer = (env: Record<string, string | undefined>, collect: () => void = collectNow): Layer.Layer<EventLoop.Interval> | Layer.Layer<never> => {
  if ((env[SETTING] ?? "") === "") return Layer.empty
  const interval = Layer.succeed(EventLoop.Interval, ECONOMY_INTERVAL_MS)
  const budget = budgetOf(env)
  return budget === undefined
    ? interval
    : Layer.merge(interval, watch(Valve.make({ budget, rss: () => process.memoryUsage.rss(), collect }), ECONOMY_INTERVAL_MS))
}
