/**
 * How long each phase of an ingest took, folded from its progress events, for
 * operators (the CLI's `--json`, the server's metrics) and the benchmark.
 *
 * Phases are spans, not differences: a phase runs from its first step's start
 * to its last progress (the last file stored, items registered, documents
 * indexed), so the figures stay true when phases overlap (a pipelined
 * publish). `grq` lasts until the job file's step (the refresh of the
 * indexes between is GRQ's). `plan` runs from the start to the plan; `claim` (the claims and
 * backups) until the first step of another phase starts; `finish` (the job
 * file and the commit) from its step to the end; `rollback` from the failure
 * to the end.
 */
import type { ProgressEvent } from "./Progress.ts"

export type Phase = "plan" | "claim" | "files" | "stac" | "grq" | "finish" | "rollback"

export const PHASES: ReadonlyArray<Phase> = ["plan", "claim", "files", "stac", "grq", "finish", "rollback"]

/** Seconds per phase that ran. */
export type PhaseTimes = Partial<Record<Phase, number>>

/** The phase a step belongs to, by its kind (steps/index.ts). */
const phaseOfStep: Readonly<Record<string, Phase>> = {
  ClaimProduct: "claim",
  BackupObjects: "claim",
  PutObjects: "files",
  RegisterCollection: "stac",
  RegisterItems: "stac",
  IndexDocuments: "grq",
  WriteJobFile: "finish"
}

export interface PhaseClock {
  /** Notes one event, at `now` milliseconds (any clock, the same for all calls). */
  readonly observe: (event: ProgressEvent, now: number) => void
  /** The phases so far, the run having ended (or being read) at `now`. */
  readonly times: (now: number) => PhaseTimes
}

/** A clock for a run that started at `started` milliseconds. */
export const make = (started: number): PhaseClock => {
  const first: Partial<Record<Phase, number>> = {}
  const last: Partial<Record<Phase, number>> = {}
  const seen = (p: Phase, now: number, progressed: boolean) => {
    first[p] ??= now
    if (progressed) last[p] = now
  }
  const observe = (event: ProgressEvent, now: number) => {
    switch (event._tag) {
      case "Planned":
        return seen("plan", now, true)
      case "FilePublished":
        return seen("files", now, true)
      case "ItemsRegistered":
        return seen("stac", now, true)
      case "DocumentsIndexed":
        return seen("grq", now, true)
      case "RollingBack":
        return seen("rollback", now, false)
      case "StepStarted": {
        const p = event.name !== undefined ? phaseOfStep[event.name] : undefined
        // A step start is progress only for phases that report none of their own.
        if (p !== undefined) seen(p, now, p === "claim" || p === "finish")
        return
      }
      default:
        return
    }
  }
  const times = (now: number): PhaseTimes => {
    const out: PhaseTimes = {}
    const span = (p: Phase, from: number | undefined, to: number | undefined) => {
      if (from !== undefined && to !== undefined) out[p] = Math.max(0, to - from) / 1000
    }
    span("plan", started, last.plan)
    if (first.claim !== undefined) {
      const next = Math.min(...(["files", "stac", "grq", "finish"] as const).map((p) => first[p] ?? now))
      span("claim", first.claim, next)
    }
    for (const p of ["files", "stac"] as const) span(p, first[p], last[p] ?? first[p])
    // The documents are made visible (one refresh) after the last batch and before the job file: that is GRQ's time too.
    span("grq", first.grq, Math.max(last.grq ?? first.grq ?? 0, first.finish ?? 0))
    span("finish", first.finish, first.rollback ?? now)
    span("rollback", first.rollback, now)
    return out
  }
  return { observe, times }
}
