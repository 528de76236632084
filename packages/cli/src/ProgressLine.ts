/**
 * Progress on stderr. On a terminal, one line rewritten in place (files, bytes,
 * items, documents, then items/s, bytes/s and the time left), at most a few
 * times a second so a fast ingest is not slowed by drawing. Every event also
 * goes to the command's PhaseClock, for the phase times of `--json`. Rollback steps are always printed, terminal or not: a user must
 * see what was undone.
 */
import { type PhaseClock, Progress } from "@hysds-stac/core"
import { Effect, Layer } from "effect"
import { bytes } from "./Output.ts"

interface Counts {
  readonly bytes: number
  readonly items: number
}

const duration = (seconds: number): string => {
  const s = Math.round(seconds)
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`
}

/**
 * Rates since publishing began and the time left: the share done is the mean
 * of the bytes' and the items' shares (those with a total), so a run of many
 * small items and one of few large files both move steadily.
 */
export const rates = (total: Counts, done: Counts, seconds: number): string => {
  if (seconds <= 0) return ""
  const shares = [total.bytes > 0 ? done.bytes / total.bytes : undefined, total.items > 0 ? done.items / total.items : undefined].filter(
    (s): s is number => s !== undefined
  )
  const share = shares.length > 0 ? shares.reduce((a, b) => a + b, 0) / shares.length : 0
  const eta = share > 0 && share < 1 ? `, ETA ${duration((seconds * (1 - share)) / share)}` : ""
  return `${(done.items / seconds).toFixed(1)} items/s, ${bytes(Math.round(done.bytes / seconds))}/s${eta}`
}

export const layer = (options: { readonly tty: boolean; readonly quiet: boolean; readonly clock?: PhaseClock.PhaseClock }) =>
  Layer.sync(Progress.Progress, () => {
    const total = { files: 0, bytes: 0, items: 0 }
    const done = { files: 0, bytes: 0, items: 0, documents: 0 }
    let publishing = 0
    let last = 0
    let drawn = false
    const draw = (force = false) => {
      if (!options.tty || options.quiet) return
      const now = Date.now()
      if (!force && now - last < 200) return
      last = now
      drawn = true
      process.stderr.write(
        `\r\x1b[2Kpublishing: ${done.files}/${total.files} files, ${bytes(done.bytes)}/${bytes(total.bytes)}, ${done.items}/${total.items} items, ${done.documents} documents` +
          (publishing > 0 ? `; ${rates(total, done, (now - publishing) / 1000)}` : "")
      )
    }
    const line = (text: string) => {
      if (drawn) process.stderr.write("\r\x1b[2K")
      drawn = false
      process.stderr.write(text + "\n")
    }
    return {
      emit: (event) =>
        Effect.sync(() => {
          options.clock?.observe(event, performance.now())
          switch (event._tag) {
            case "Planned":
              publishing = Date.now()
              Object.assign(total, { files: event.files, bytes: event.bytes, items: event.items })
              return draw(true)
            case "FilePublished":
              done.files++
              done.bytes += event.bytes
              return draw()
            case "ItemsRegistered":
              done.items += event.count
              return draw()
            case "DocumentsIndexed":
              done.documents += event.count
              return draw(true)
            case "RollingBack":
              return line("rolling back...")
            case "StepUndone":
              return options.quiet ? undefined : line(`  undone: step ${event.step}, ${event.summary}`)
            case "UndoFailed":
              return line(`  UNDO FAILED: step ${event.step}, ${event.summary}: ${event.error}`)
            case "StepStarted":
              return
          }
        })
    }
  })

/** Clears a drawn progress line before the summary is printed. */
export const clear = (tty: boolean) => Effect.sync(() => tty && process.stderr.write("\r\x1b[2K"))
