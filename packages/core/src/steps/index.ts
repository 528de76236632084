/**
 * The steps of an ingest, in the order they run. This list is the one place
 * that names them: the journal's record schema (JournalRecord), recovery's
 * dispatch by tag (Action.ts, used by Recover.ts), the server's metric labels
 * (server/Metrics.ts) and the docs all read it.
 *
 * What a step is. One side effect on a backend or the job dir, in one module
 * `steps/<Name>.ts` exporting one value that holds, together:
 *   - `name`: its tag in the journal, in span names (`step <Name>`, `undo
 *     <Name>`, `commit <Name>`) and in the `action` label of
 *     `hysds_stac_step_duration_seconds`;
 *   - `Schema`: its record, the plain JSON data journaled BEFORE it acts
 *     (the `action` of an Intent record), holding all that undo needs;
 *   - `summary`: the line a rollback report or `journal list` shows;
 *   - `run`: the forward work, which calls `Step.run(step, record, effect)`;
 *   - `undo`: puts back the state from before it (idempotent, safe after a
 *     partial run or none);
 *   - `commit`: cleanup once the whole ingest succeeded.
 *
 * The order (Ingest.ts runs them so; within a product the claim is followed
 * directly by its set-aside, products one after the other):
 *   1. ClaimProduct        publish marker; "already exists" unless --force
 *   2. BackupObjects       set aside what is already at the location
 *   3. PutObjects          the product's files, per product
 *   4. RegisterCollection  STAC collections, per product
 *   5. RegisterItems       STAC items, per collection and batch
 *   6. IndexDocuments      GRQ documents, per batch
 *   7. WriteJobFile        `_datasets.json` in the job dir
 * Then the workflow appends `Commit` to the journal: the decision point. A
 * step with nothing to do (nothing to set aside, a collection that exists)
 * records nothing.
 *
 * How rollback uses it. `Step.run` appends the record (Intent), registers an
 * exit-aware release on the ingest's Scope, runs the work, appends Done. When
 * the Scope closes, the releases run in reverse order: on failure or
 * interruption each step's `undo`, on success each step's `commit`. A process
 * killed mid-way leaves the records in the journal; recovery reads them, finds
 * each record's step here by its tag, and runs the same `undo` newest first
 * (no `Commit` record) or every `commit` (a `Commit` record: roll forward).
 *
 * Adding a step: a file here exporting its value, and one line in `steps`
 * below. Its records are then version 1 records too (JournalRecord): an older
 * hysds-stac cannot read a journal holding them, so say so when releasing it.
 */
import { Schema } from "effect"
import { BackupObjects } from "./BackupObjects.ts"
import { ClaimProduct } from "./ClaimProduct.ts"
import { IndexDocuments } from "./IndexDocuments.ts"
import { PutObjects } from "./PutObjects.ts"
import { RegisterCollection } from "./RegisterCollection.ts"
import { RegisterItems } from "./RegisterItems.ts"
import { WriteJobFile } from "./WriteJobFile.ts"

export { BackupObjects, ClaimProduct, IndexDocuments, PutObjects, RegisterCollection, RegisterItems, WriteJobFile }

/** Every step, in the order an ingest runs them. */
export const steps = [
  ClaimProduct,
  BackupObjects,
  PutObjects,
  RegisterCollection,
  RegisterItems,
  IndexDocuments,
  WriteJobFile
] as const

/** A step's record: what a journal Intent carries. */
export type Action = Schema.Schema.Type<(typeof steps)[number]["Schema"]>

/** The steps' tags, in order. */
export const tags: ReadonlyArray<Action["_tag"]> = steps.map((s) => s.name)

/** Any step's record (the `action` of a journal Intent). */
export const Action: Schema.Schema<Action, Schema.Schema.Encoded<(typeof steps)[number]["Schema"]>> = Schema.Union(
  ...steps.map((s) => s.Schema)
)
