/**
 * What the CLI prints. Results go to stdout (human text, or one JSON object with
 * `--json` so scripts can parse it); errors, rollback lines and progress go to
 * stderr so they never corrupt that JSON.
 */
import { Errors, type Ingest, Redact, Warning } from "@hysds-stac/core"
import { Console, Effect } from "effect"
import * as ConfigFile from "./ConfigFile.ts"
import * as ExitCode from "./ExitCode.ts"

/** Masks the configured secrets (derived from the settings' Redacted values) in a text this module prints. */
export const redact = (text: string) => Redact.redact(text, ConfigFile.secrets())

export const bytes = (n: number): string => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"]
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

export const json = (value: unknown) => Console.log(JSON.stringify(Redact.redactDeep(value, ConfigFile.secrets()), null, 2))

export const ingestSummary = (r: Ingest.IngestResult): string => {
  const lines: Array<string> = []
  const verb = r.dryRun ? "Would publish" : "Published"
  const stac = r.products.filter((p) => p.kind === "stac").length
  lines.push(
    `${verb} ${plural(r.products.length, "product")} (${plural(stac, "STAC catalog")}, ${r.products.length - stac} classic) from ${r.jobDir}`
  )
  const width = Math.max(0, ...r.products.map((p) => p.id.length))
  for (const p of r.products) {
    const what =
      p.kind === "stac"
        ? `${plural(p.collections, "collection")}, ${plural(p.items, "item")}, `
        : ""
    lines.push(`  ${p.kind.padEnd(7)} ${p.id.padEnd(width)}  ${what}${plural(p.files, "file")}, ${bytes(p.bytes)} -> ${p.location ?? "(no publish: indexed only)"}`)
  }
  for (const s of r.skipped) lines.push(`  skipped ${s.dir}: ${s.reason}`)
  const t = r.totals
  lines.push(
    `Totals: ${plural(t.products, "product")}, ${plural(t.collections, "collection")}, ${plural(t.items, "item")}, ${plural(t.documents, "GRQ document")}, ${plural(t.files, "file")}, ${bytes(t.bytes)}`
  )
  lines.push(...warningLines(r.warnings))
  if (r.datasetsJson) lines.push(`Wrote ${r.datasetsJson} (transaction ${r.tx})`)
  if (r.dryRun) lines.push("Dry run: nothing was published.")
  return lines.join("\n")
}

/** At most this many warnings are listed in a summary; `--json` has them all. */
const MAX_WARNING_LINES = 20

/** The summary's warning lines: a catalog of old STAC has one per document, so the list is cut short. */
export const warningLines = (warnings: ReadonlyArray<Warning.Warning>): Array<string> => {
  if (warnings.length === 0) return []
  const lines = [`${plural(warnings.length, "warning")}:`]
  for (const w of warnings.slice(0, MAX_WARNING_LINES)) lines.push(`  warning ${Warning.format(w)}`)
  if (warnings.length > MAX_WARNING_LINES) lines.push(`  ... and ${warnings.length - MAX_WARNING_LINES} more (--json lists them all)`)
  return lines
}

const errorJson = (error: Errors.PublishError) => ({
  category: error.category,
  tag: error._tag,
  message: error.message,
  ...("hint" in error && error.hint ? { hint: error.hint } : {}),
  ...(error._tag === "ValidationError" ? { problems: error.problems } : {})
})

export const rollbackText = (report: Ingest.IngestFailed["rollback"]): string => {
  if (report.undone.length === 0 && report.failed.length === 0) return "Nothing had been published; nothing to roll back."
  const lines = [`Rolled back ${plural(report.undone.length, "step")}:`]
  for (const u of report.undone) lines.push(`  undone  step ${u.step}: ${u.summary}`)
  for (const f of report.failed) lines.push(`  FAILED  step ${f.step}: ${f.summary}: ${f.error}`)
  if (report.failed.length > 0) lines.push("Some steps could not be undone; see above. Run the ingest again or clean up by hand.")
  return lines.join("\n")
}

/** Prints a failure (human or JSON) and turns it into the process exit code. */
export const failure = (
  error: Errors.PublishError,
  options: { readonly json: boolean; readonly rollback?: Ingest.IngestFailed["rollback"]; readonly tx?: string; readonly performance?: unknown }
) =>
  Effect.gen(function* () {
    if (options.json) {
      yield* json({ ok: false, ...(options.tx ? { tx: options.tx } : {}), error: errorJson(error), ...(options.rollback ? { rollback: options.rollback } : {}), ...(options.performance !== undefined ? { performance: options.performance } : {}) })
    } else {
      yield* Console.error(redact(Errors.describe(error)))
      if (options.rollback) yield* Console.error(redact(rollbackText(options.rollback)))
    }
    return yield* Effect.fail(new ExitCode.Exit({ code: ExitCode.forCategory(error.category) }))
  })
