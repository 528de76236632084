/**
 * Exit codes, one per error category, so a job worker's shell can tell "fix your
 * config" from "the backend was down, retry" without parsing text.
 */
import { Data } from "effect"
import type { Errors } from "@hysds-stac/core"

export const codes = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 3,
  validation: 4,
  conflict: 5,
  storage: 6,
  index: 7,
  "catalog-api": 8,
  interrupted: 130
} as const

export const forCategory = (category: Errors.ErrorCategory): number => codes[category]

/** The command already told the user what went wrong; the process only has to exit with `code`. */
export class Exit extends Data.TaggedError("CliExit")<{ readonly code: number }> {}
