/**
 * The server's `Progress` (core's port): where the CLI draws a progress line,
 * the server folds each event into the ingest's record, which GET
 * /v1/ingests/{id} shows. One instance per ingest, so events never need an id.
 * Emitting is a few field updates: it never fails and never slows the ingest.
 */
import { PhaseClock, Progress } from "@hysds-stac/core"
import { Effect } from "effect"
import type { Entry } from "./IngestRecord.ts"

/** Each running ingest's phase clock, read when it ends (Outcome's metrics). */
const clocks = new WeakMap<Entry, PhaseClock.PhaseClock>()

/** The phases of `entry`'s ingest so far, in seconds (none before it started). */
export const phaseTimes = (entry: Entry): PhaseClock.PhaseTimes => clocks.get(entry)?.times(performance.now()) ?? {}

export const make = (entry: Entry): Progress.ProgressShape => {
  const clock = PhaseClock.make(performance.now())
  clocks.set(entry, clock)
  return {
  emit: (event) =>
    Effect.sync(() => {
      clock.observe(event, performance.now())
      const p = entry.progress
      switch (event._tag) {
        case "Planned":
          p.products.total = event.products
          p.files.total = event.files
          p.bytes.total = event.bytes
          p.items.total = event.items
          entry.phase = "publishing"
          return
        case "StepStarted":
          p.steps = Math.max(p.steps, event.step)
          return
        case "FilePublished":
          p.files.done++
          p.bytes.done += event.bytes
          return
        case "ItemsRegistered":
          p.items.done += event.count
          return
        case "DocumentsIndexed":
          p.documents.done += event.count
          return
        case "RollingBack":
          entry.phase = "rolling_back"
          return
        case "StepUndone":
          entry.undone.push({ step: event.step, summary: event.summary })
          return
        case "UndoFailed":
          entry.undoFailed.push({ step: event.step, summary: event.summary, error: event.error })
          return
      }
    })
  }
}

export const service = (entry: Entry) => Effect.provideService(Progress.Progress, make(entry))
