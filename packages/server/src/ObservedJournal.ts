/**
 * The journal, observed. core appends a step's `Intent` right before the step
 * acts and its `Done` right after, and names the action in the intent: the
 * only place where a step's kind and its duration are both visible. Wrapping
 * the journal (the port) measures every step without touching core, and
 * records nothing new: what is appended is passed through unchanged, and is
 * durable before the observation happens.
 */
import { Journal } from "@hysds-stac/core"
import { Effect, Metric } from "effect"
import * as Metrics from "./Metrics.ts"

export const observe = (journal: Journal.JournalShape): Journal.JournalShape => {
  /** `${tx}/${step}` -> action and start time, while the step runs. */
  const open = new Map<string, { readonly action: string; readonly at: number }>()
  const record = (r: Journal.JournalRecord) =>
    Effect.suspend(() => {
      switch (r._tag) {
        case "Intent":
          open.set(`${r.tx}/${r.step}`, { action: r.action._tag, at: performance.now() })
          return Effect.void
        case "Done": {
          const key = `${r.tx}/${r.step}`
          const started = open.get(key)
          open.delete(key)
          if (started === undefined) return Effect.void
          return Metric.update(Metric.tagged(Metrics.stepDuration, "action", started.action), (performance.now() - started.at) / 1000)
        }
        case "End":
          // Steps that never completed (failed or interrupted) are forgotten with their transaction.
          for (const key of [...open.keys()]) if (key.startsWith(`${r.tx}/`)) open.delete(key)
          return Effect.void
        default:
          return Effect.void
      }
    })
  return {
    ...journal,
    append: (r) => Effect.tap(journal.append(r), () => record(r))
  }
}
