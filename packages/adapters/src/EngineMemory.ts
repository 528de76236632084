/**
 * What the engine's memory setting changes in how planning runs.
 *
 * `BUN_JSC_forceRAMSize=<bytes>` (README, "Installing on a worker") makes the
 * engine collect garbage as if the machine had that much RAM: an operator who
 * sets it asks for memory before speed. Planning then also hands the event loop
 * a turn every 50 ms instead of every 250 (core's EventLoop.Interval): Bun
 * schedules collections at turns, and planning reads documents faster than a
 * collection every 250 ms returns their garbage.
 *
 * Measured (100,000 items x 1 asset, the plan alone in a fresh process, five
 * runs each, 256 MiB setting): peak RSS 332-340 MiB at 50 ms against 344-373
 * MiB at 250 ms, the same plan time (10.2-14.0 s both). 10 and 20 ms peaked no
 * lower and took longer. Without the setting 50 ms cost about 20% more plan
 * time for 15% less peak RSS (674 -> 570 MiB), so the default stays.
 */
import { EventLoop } from "@hysds-stac/core"
import { Layer } from "effect"

/** The engine's setting, as the environment names it. */
export const SETTING = "BUN_JSC_forceRAMSize"

/** Milliseconds between planning's turns with the setting. */
export const ECONOMY_INTERVAL_MS = 50

/** Planning's turn interval for `env`: shorter with the setting, else core's default. */
export const layer = (env: Record<string, string | undefined>): Layer.Layer<EventLoop.Interval> | Layer.Layer<never> =>
  (env[SETTING] ?? "") === "" ? Layer.empty : Layer.succeed(EventLoop.Interval, ECONOMY_INTERVAL_MS)
