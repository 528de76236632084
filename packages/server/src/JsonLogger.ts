/**
 * Structured logs: one JSON object per line on stdout, with the request id
 * and ingest id (log annotations) as top-level fields so a log pipeline can
 * follow one ingest across the request that submitted it, its steps and its
 * rollback. Every string is redacted but request input (a `Verbatim`
 * annotation, see RequestInput.ts), which is written as received, escaped; a
 * failure is logged by its message only, never with a stack trace (stacks of
 * Effect fibers say little and can quote configuration).
 *
 * Level names are one vocabulary, the one Effect's labels give: `debug`,
 * `info`, `warn`, `error` (HYSDS_STAC_LOG_LEVEL takes the same names).
 */
import { Cause, HashMap, Layer, List, Logger, LogLevel } from "effect"
import type { SecretMaskShape } from "./SecretMask.ts"
import { Verbatim } from "./RequestInput.ts"

const levels = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  error: LogLevel.Error
} as const

export type Level = keyof typeof levels

export const LEVELS = Object.keys(levels) as ReadonlyArray<Level>

/** The entry redacted, but for its top-level request input, which is put back as received (escaped). */
const finish = (mask: SecretMaskShape, entry: Record<string, unknown>): string => {
  const verbatim = Object.entries(entry).filter(([, v]) => v instanceof Verbatim)
  const out = mask.deep(entry) as Record<string, unknown>
  for (const [k, v] of verbatim) out[k] = (v as Verbatim).text
  return JSON.stringify(out) + "\n"
}

const describeCause = (cause: Cause.Cause<unknown>): string | undefined => {
  if (Cause.isEmpty(cause)) return undefined
  if (Cause.isInterruptedOnly(cause)) return "interrupted"
  const squashed = Cause.squash(cause)
  if (squashed instanceof Error) return `${squashed.name}: ${squashed.message}`
  if (typeof squashed === "object" && squashed !== null && "message" in squashed) return String((squashed as { message: unknown }).message)
  return String(squashed)
}

const stdout = (line: string) => void process.stdout.write(line)

/** One line outside any fiber (e.g. from a file watcher), in the same format. */
export const line = (mask: SecretMaskShape, level: Level, message: string, fields: Record<string, unknown> = {}) =>
  stdout(finish(mask, { time: new Date().toISOString(), level, message, ...fields }))

export const make = (mask: SecretMaskShape, write: (line: string) => void = stdout) =>
  Logger.make(({ annotations, cause, date, logLevel, message, spans }) => {
    const parts = Array.isArray(message) ? message : [message]
    const entry: Record<string, unknown> = {
      time: date.toISOString(),
      level: logLevel.label.toLowerCase(),
      message: typeof parts[0] === "string" ? parts[0] : JSON.stringify(parts[0])
    }
    for (const [k, v] of HashMap.toEntries(annotations)) entry[k] = v
    if (parts.length > 1) entry.details = parts.slice(1)
    const error = describeCause(cause)
    if (error !== undefined) entry.error = error
    for (const span of List.toArray(spans)) entry[`${span.label}Ms`] = date.getTime() - span.startTime
    write(finish(mask, entry))
  })

/** Replaces Effect's default logger and sets the minimum level. */
export const layer = (mask: SecretMaskShape, level: Level) =>
  Layer.merge(Logger.replace(Logger.defaultLogger, make(mask)), Logger.minimumLogLevel(levels[level]))
