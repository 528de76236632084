/**
 * The records GET /v1/ingests reads: every ingest queued or running, and the
 * last `history` (HYSDS_STAC_HISTORY) finished ones, oldest forgotten first.
 * Memory stays bounded however long the process runs; the journal keeps every
 * transaction for longer (`hysds-stac journal show <id>`).
 */
import { Deferred, Effect, Option } from "effect"
import { NotFound } from "../ApiErrors.ts"
import type { IngestState, IngestStatus } from "../ApiSchemas.ts"
import * as IngestRecord from "../IngestRecord.ts"
import { type State, view } from "./State.ts"

/** Drops the oldest finished records beyond the configured history. */
export const forget = (state: State): void => {
  let finished = 0
  for (const e of state.entries.values()) if (IngestRecord.isFinal(e.state)) finished++
  for (const [id, e] of state.entries) {
    if (finished <= state.config.history) break
    if (IngestRecord.isFinal(e.state)) {
      state.entries.delete(id)
      finished--
    }
  }
}

export const status = (state: State, id: string): Effect.Effect<Option.Option<IngestStatus>> =>
  Effect.sync(() => Option.map(Option.fromNullable(state.entries.get(id)), (e) => view(state, e)))

/** Newest first, optionally only those in `filter`. */
export const list = (state: State, filter?: IngestState): Effect.Effect<ReadonlyArray<IngestStatus>> =>
  Effect.sync(() =>
    [...state.entries.values()]
      .reverse()
      .filter((e) => filter === undefined || e.state === filter)
      .map((e) => view(state, e))
  )

/** The final status, once the ingest has ended. */
export const awaitEnd = (state: State, id: string): Effect.Effect<IngestStatus, NotFound> =>
  Effect.suspend(() => {
    const entry = state.entries.get(id)
    return entry ? Deferred.await(entry.done) : Effect.fail(new NotFound({ message: `no ingest ${id}` }))
  })
