/**
 * Something in the job's inputs worth telling the user that does not stop the
 * ingest: an object migrated from an older STAC version, an extension whose
 * fields nobody could check. Shaped like a `Problem` (file, JSON path,
 * message) so the two print and serialize alike; kept apart from problems
 * because a problem refuses the ingest and a warning never does.
 *
 * One channel for every warning planning finds: checks append to the list they
 * are handed, and the plan, the ingest result (summary and `--json`) and
 * `validate` carry the list as found.
 */
export interface Warning {
  readonly file: string
  /** JSON path inside the file, e.g. `$.stac_extensions[1]`; empty when about the file itself. */
  readonly path: string
  readonly message: string
}

/** `file[ path]: message`, as a line of the summary. */
export const format = (w: Warning): string => `${w.file}${w.path ? ` ${w.path}` : ""}: ${w.message}`
