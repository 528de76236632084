/**
 * How long each publishing stage was at work, as opposed to its span. In the
 * pipelined publish the stages overlap: the STAC stage's span runs from its
 * first batch to its last, while it waits for the files stage in between, so
 * its span set against a floor measured alone says little about its own
 * speed. Each stage takes one batch at a time, so its work is the sum of its
 * steps' times, read from the progress events:
 * - files: a PutObjects step's start to its last file stored;
 * - STAC: a RegisterItems step's start to its items registered (and a
 *   RegisterCollection step's start to the next step's start);
 * - GRQ: an IndexDocuments step's start to its documents indexed, plus the
 *   refresh after the last batch (until the job file's step starts).
 * Still measured on a shared machine: a stage at work while the others are
 * too gets less CPU than its floor did alone.
 */
import type { Progress } from "@hysds-stac/core"

export type Stage = "files" | "stac" | "grq"

export interface Busy {
  readonly observe: (event: Progress.ProgressEvent, now: number) => void
  /** Seconds at work per stage that ran. */
  readonly seconds: () => Partial<Record<Stage, number>>
}

export const make = (): Busy => {
  const total: Record<Stage, number> = { files: 0, stac: 0, grq: 0 }
  const ran = new Set<Stage>()
  /** The PutObjects step under way: its start and its last file so far. */
  let files: { start: number; last: number } | undefined
  /** A RegisterItems or IndexDocuments step under way, or RegisterCollection's (closed by any next step). */
  let stac: { start: number; collection: boolean } | undefined
  let grq: number | undefined
  let lastIndexed: number | undefined
  const add = (stage: Stage, from: number, to: number) => {
    ran.add(stage)
    total[stage] += Math.max(0, to - from)
  }
  const closeFiles = () => {
    if (files !== undefined) add("files", files.start, files.last)
    files = undefined
  }
  const observe = (event: Progress.ProgressEvent, now: number) => {
    switch (event._tag) {
      case "FilePublished":
        if (files !== undefined) files.last = now
        return
      case "ItemsRegistered":
        if (stac !== undefined) add("stac", stac.start, now)
        stac = undefined
        return
      case "DocumentsIndexed":
        if (grq !== undefined) add("grq", grq, now)
        grq = undefined
        lastIndexed = now
        return
      case "StepStarted": {
        if (stac?.collection) {
          add("stac", stac.start, now)
          stac = undefined
        }
        if (event.name === "PutObjects") {
          closeFiles()
          files = { start: now, last: now }
        } else if (event.name === "RegisterItems" || event.name === "RegisterCollection") {
          stac = { start: now, collection: event.name === "RegisterCollection" }
        } else if (event.name === "IndexDocuments") {
          grq = now
        } else if (event.name === "WriteJobFile") {
          closeFiles()
          // The refresh that makes every document visible runs between the last batch and the job file.
          if (lastIndexed !== undefined) add("grq", lastIndexed, now)
        }
        return
      }
      default:
        return
    }
  }
  const seconds = () => {
    closeFiles()
    return Object.fromEntries([...ran].map((s) => [s, total[s] / 1000]))
  }
  return { observe, seconds }
}
