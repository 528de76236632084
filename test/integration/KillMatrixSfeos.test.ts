/**
 * The kill matrix on real servers (KillMatrixSuite.ts) against
 * stac-fastapi-opensearch, the second STAC registry, in a file of its own so
 * scripts/test.sh runs it beside the pgstac one.
 *
 * A representative subset of boundaries, to keep CI within its time: every
 * append of the STAC steps (the intent and the done of registering the
 * collection and each batch of items, where this registry differs), plus the
 * first append, the last before Commit, Commit and the last. The S3 and GRQ
 * boundaries in between are the same code against the same servers as in the
 * pgstac matrix, which kills at every boundary.
 */
import { type RecordSummary, killMatrixSuite } from "./KillMatrixSuite.ts"

const stacBoundaries = (records: ReadonlyArray<RecordSummary>): Array<number> => {
  const stacSteps = new Set(
    records.filter((r) => r._tag === "Intent" && /^Register(Collection|Items)$/.test(r.action?._tag ?? "")).map((r) => r.step)
  )
  if (stacSteps.size === 0) throw new Error("the reference run's journal has no RegisterCollection/RegisterItems step")
  const commit = records.findIndex((r) => r._tag === "Commit") + 1
  const ks = records.flatMap((r, i) => ((r._tag === "Intent" || r._tag === "Done") && stacSteps.has(r.step) ? [i + 1] : []))
  return [1, ...ks, commit - 1, commit, records.length]
}

killMatrixSuite("sfeos", { boundaries: stacBoundaries })
