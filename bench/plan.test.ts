/**
 * Smoke run of the planning benchmark (a few items, no backend): it reports the
 * floor, the plan, their ratio, the peak RSS and, with --live, the live heap;
 * and it removes the tree it generated. Not a timed test: no figure is bounded.
 */
import { expect, test } from "bun:test"
import * as Smoke from "./Smoke.ts"

test("the planning bench reports the plan against its floor, RSS and the live heap, and removes its tree", async () => {
  const { out, err, code, left } = await Smoke.run("plan.ts", ["--items", "20", "--assets", "1", "--runs", "1", "--live"])
  expect({ code, err }).toEqual({ code: 0, err: "" })
  const run = out.split("\n").find((l) => l.startsWith("run 1:")) ?? out
  expect(run).toMatch(/floor [\d.]+ s \(CPU [\d.]+ s; 23 JSON files\), plan [\d.]+ s .* ratio [\d.]+x .* peak RSS \d+ MiB/)
  // At least the reading taken with the plan made, which holds at least what was live before it.
  const live = /live heap at most (\d+) MiB in (\d+) readings? \((\d+) MiB before the plan\)$/.exec(run)
  expect(live).not.toBeNull()
  const [most, readings, before] = live!.slice(1).map(Number) as [number, number, number]
  expect(readings).toBeGreaterThanOrEqual(1)
  expect(most).toBeGreaterThanOrEqual(before)
  expect(left).toEqual([])
}, 120_000)
