/**
 * Progress on stderr. On a terminal, one line rewritten in place (files, bytes,
 * items, documents), at most a few times a second so a fast ingest is not slowed
 * by drawing. Rollback steps are always printed, terminal or not: a user must
 * see what was undone.
 */
import { Progress } from "@hysds-stac/core"
import { Effect, Layer } from "effect"
import { bytes } from "./Output.ts"

export const layer = (options: { readonly tty: boolean; readonly quiet: boolean }) =>
  Layer.sync(Progress.Progress, () => {
    const total = { files: 0, bytes: 0, items: 0 }
    const done = { files: 0, bytes: 0, items: 0, documents: 0 }
    let last = 0
    let drawn = false
    const draw = (force = false) => {
      if (!options.tty || options.quiet) return
      const now = Date.now()
      if (!force && now - last < 200) return
      last = now
      drawn = true
      process.stderr.write(
        `\r\x1b[2Kpublishing: ${done.files}/${total.files} files, ${bytes(done.bytes)}/${bytes(total.bytes)}, ${done.items}/${total.items} items, ${done.documents} documents`
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
          switch (event._tag) {
            case "Planned":
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
