/**
 * Claim: makes one ingest the owner of a product's location, writes HySDS's
 * publish context there, then decides whether what is already published may
 * be replaced.
 *
 * Two objects, because they answer different questions:
 * - the claim (`.hysds-stac-claim.json`, naming this transaction) is created
 *   only if absent, atomically: of two ingests of one product exactly one goes
 *   on. Its content is unique to the transaction, so a create that was retried
 *   can tell its own write from a rival's.
 * - the publish context (`_publish.context.json`) is HySDS's own marker, byte
 *   for byte as HySDS writes it (`payload_id`, `payload_hash`, `task_id`,
 *   sorted keys), so a HySDS job publishing the same product meanwhile sees it,
 *   and so an ingest can read one a HySDS job left behind. Two retries of one
 *   job write identical ones, which is why it cannot serve as the claim.
 *
 * A publish context already there, under our claim, was left by an earlier
 * publication (HySDS's or an ingest's: both leave it after success, it records
 * who published) or by a failed HySDS job. It is treated as HySDS treats it:
 * without a `payload_id`, refused; a GRQ document for the product, "already
 * exists"; the same `payload_id` as this job and no document, an orphan of an
 * earlier attempt of this job, replaced (kept aside and put back if the run
 * fails); another `payload_id`, refused, since HySDS then asks Mozart whether
 * that job still runs and an ingest cannot. `--force` replaces it in every
 * case, as HySDS's force removes it.
 *
 * Undo puts back the publish context it replaced (or removes its own) and
 * drops the claim; commit keeps the publish context, as HySDS 3.3 leaves it
 * at a published product, drops the one it replaced (kept aside) and the
 * claim. Both act only when the claim is this transaction's: when the claim
 * lost the race, everything there belongs to another ingest.
 */
import { Effect, Option, Predicate, Schema } from "effect"
import { ConflictError, type IndexError } from "../Errors.ts"
import { GrqIndex, type GrqRecord } from "../GrqIndex.ts"
import type * as JobInfo from "../JobInfo.ts"
import { ObjectStore } from "../ObjectStore.ts"
import * as Plan from "../Plan.ts"
import * as Step from "../Step.ts"

const decoder = new TextDecoder()
const encoder = new TextEncoder()

const parseJson = (bytes: Uint8Array): unknown => {
  try {
    return JSON.parse(decoder.decode(bytes)) as unknown
  } catch {
    return undefined
  }
}

/** A JSON value as Python's `json.dump` writes a scalar (`ensure_ascii`: non-ASCII as `\uXXXX`). */
const pyScalar = (value: unknown): string =>
  (JSON.stringify(value ?? null) ?? "null").replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/**
 * `_publish.context.json` as HySDS writes it: `json.dump(..., indent=2,
 * sort_keys=True)`, no newline at the end.
 */
export const publishContextJson = (context: JobInfo.PublishContext): string =>
  `{\n  "payload_hash": ${pyScalar(context.payload_hash)},\n  "payload_id": ${pyScalar(context.payload_id)},\n  "task_id": ${pyScalar(context.task_id)}\n}`

/** The transaction a claim names, when it is one of ours. */
const claimOwner = (bytes: Uint8Array): string | undefined => {
  const json = parseJson(bytes)
  return Predicate.isRecord(json) && typeof json.tx === "string" ? json.tx : undefined
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

interface ClaimRecord {
  readonly product: string
  readonly marker: string
  readonly tx: string
  readonly claim?: string | undefined
  readonly content?: string | undefined
}

/** Records written before the claim existed: the marker itself named the transaction. */
const releaseLegacy = (action: ClaimRecord) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const content = yield* store.read(action.marker).pipe(Effect.option)
    if (Option.isSome(content) && claimOwner(content.value) === action.tx) yield* store.remove([action.marker])
  })

/** True when the claim is this transaction's (a crash may have come before it was created). */
const holds = (claim: string, tx: string) =>
  Effect.flatMap(ObjectStore, (store) =>
    store.read(claim).pipe(
      Effect.option,
      Effect.map((c) => Option.isSome(c) && claimOwner(c.value) === tx)
    )
  )

/** Removes the publish context when it is the one this transaction wrote. */
const removeOwnContext = (marker: string, content: string) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const there = yield* store.read(marker).pipe(Effect.option)
    if (Option.isSome(there) && sameBytes(there.value, encoder.encode(content))) yield* store.remove([marker])
  })

const undo = (action: ClaimRecord) =>
  Effect.gen(function* () {
    if (action.claim === undefined) return yield* releaseLegacy(action)
    const store = yield* ObjectStore
    if (!(yield* holds(action.claim, action.tx))) return
    if (action.content !== undefined) {
      // The publish context a HySDS job left, kept aside when this run replaced it:
      // put back before the backup goes, so a crash in between loses nothing.
      const kept = store.backupUrl(action.marker, action.tx)
      const restored = yield* store.copy(kept, action.marker).pipe(
        Effect.as(true),
        Effect.catchIf((e) => e.missing === true, () => Effect.succeed(false))
      )
      if (restored) yield* store.remove([kept])
      else yield* removeOwnContext(action.marker, action.content)
      yield* store.discardPartials([action.marker])
    }
    yield* store.discardPartials([action.claim])
    // Last: until here no other ingest may act on the location.
    yield* store.remove([action.claim])
  })

const commit = (action: ClaimRecord) =>
  Effect.gen(function* () {
    if (action.claim === undefined) return yield* releaseLegacy(action)
    const store = yield* ObjectStore
    if (!(yield* holds(action.claim, action.tx))) return
    // The publish context stays, as HySDS leaves it after a publish: it records
    // who published; only the one it replaced, kept aside, goes.
    if (action.content !== undefined) yield* store.remove([store.backupUrl(action.marker, action.tx)])
    yield* store.remove([action.claim])
  })

const declared = Step.declare("ClaimProduct", {
  product: Schema.String,
  marker: Schema.String,
  tx: Schema.String,
  /** The claim object; absent in records written before it existed. */
  claim: Schema.optionalWith(Schema.String, { exact: true }),
  /** The publish context this transaction writes at `marker`; absent when the product has no publish location (`marker` is then ""). */
  content: Schema.optionalWith(Schema.String, { exact: true })
})({
  summary: (a) => (a.marker !== "" ? `publish marker ${a.marker}` : `claim ${a.claim ?? ""}`),
  undo,
  commit
})

const conflict = (id: string, message: string, hint: string) => Effect.fail(new ConflictError({ id, message, hint }))

/** What a publish context found at the location says about replacing it, HySDS's rules (see the module comment). */
const judgeExisting = (
  p: Plan.PlannedProduct,
  marker: string,
  found: Uint8Array,
  previous: ReadonlyArray<GrqRecord>,
  ours: JobInfo.PublishContext
) =>
  Effect.gen(function* () {
    const json = parseJson(found)
    const payloadId = Predicate.isRecord(json) ? json.payload_id : undefined
    if (payloadId === undefined || payloadId === null) {
      return yield* conflict(
        p.id,
        `${p.id}: a publish context without a payload_id is at ${marker}: cannot tell whether the product may be replaced`,
        "HySDS refuses this case too; if no job is publishing this product, remove that file or use --force"
      )
    }
    if (previous.length > 0) {
      return yield* conflict(
        previous[0]!.id,
        `${p.id}: dataset already exists (GRQ has ${previous[0]!.id} in ${previous[0]!.index})`,
        "it was published before; use --force to publish it again"
      )
    }
    const sameJob = ours.payload_id !== null && ours.payload_id !== undefined && JSON.stringify(payloadId) === JSON.stringify(ours.payload_id)
    if (sameJob) {
      yield* Effect.logWarning(`${p.id}: ${marker} was left by an earlier attempt of this job (payload_id ${String(payloadId)}) and GRQ has no document: an orphan, published again`)
      return
    }
    const task = Predicate.isRecord(json) && json.task_id != null ? `, task ${String(json.task_id)}` : ""
    return yield* conflict(
      p.id,
      `${p.id}: ${marker} was left by another job (payload_id ${String(payloadId)}${task}) and GRQ has no document: that job may still be publishing`,
      "HySDS asks Mozart whether that job still runs, which hysds-stac cannot; if it is not running, use --force (or remove the file)"
    )
  })

/**
 * Claims `p` for transaction `tx`; returns the GRQ documents it will replace
 * (some only with `force`, else the claim fails with "already exists").
 */
const run = (p: Plan.PlannedProduct, tx: string, force: boolean, job: JobInfo.JobInfo) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const index = yield* GrqIndex
    // One lookup for all of the product's documents (a STAC product has one per item).
    const findPrevious: Effect.Effect<ReadonlyArray<GrqRecord>, IndexError> = index.findMany(Plan.documentIds(p))
    const alreadyExists = (previous: ReadonlyArray<GrqRecord>) =>
      conflict(
        previous[0]!.id,
        `${p.id}: dataset already exists (GRQ has ${previous[0]!.id} in ${previous[0]!.index})`,
        "it was published before; use --force to publish it again"
      )
    const claimUrl = p.claim
    if (claimUrl === undefined) {
      // Nothing is uploaded (an entry with neither publish nor browse): no
      // location to claim, only the GRQ check; see the README.
      const previous = yield* findPrevious
      if (previous.length > 0 && !force) return yield* alreadyExists(previous)
      return previous
    }
    const marker = p.marker
    const content = marker === undefined ? undefined : publishContextJson(job.publishContext)
    const claim = encoder.encode(JSON.stringify({ tx, product: p.id }, null, 2) + "\n")
    return yield* Step.run(
      declared,
      declared.make({ product: p.id, marker: marker ?? "", tx, claim: claimUrl, ...(content !== undefined ? { content } : {}) }),
      Effect.gen(function* () {
        if (!(yield* store.create(claimUrl, claim))) {
          const holder = yield* store.read(claimUrl).pipe(Effect.option)
          const other = Option.isSome(holder) ? claimOwner(holder.value) : undefined
          return yield* conflict(
            p.id,
            `${p.id} is being published by another ingest (${other !== undefined ? `transaction ${other} holds ` : ""}${claimUrl})`,
            "wait for the other ingest; if none is running, an earlier one crashed: run `hysds-stac recover`, or remove the claim"
          )
        }
        // A refusal before anything is written drops the claim at once, so the
        // undo (finding it gone) touches nothing: a publish context there that
        // happens to equal ours byte for byte is another attempt's.
        const refuse = <A>(e: Effect.Effect<A, ConflictError>) => Effect.tapError(e, () => Effect.ignore(store.remove([claimUrl])))
        const previous = yield* findPrevious
        if (marker === undefined || content === undefined) {
          if (previous.length > 0 && !force) return yield* refuse(alreadyExists(previous))
          return previous
        }
        if (previous.length > 0 && !force) {
          const existing = yield* store.read(marker).pipe(Effect.option)
          if (Option.isSome(existing)) yield* refuse(judgeExisting(p, marker, existing.value, previous, job.publishContext))
          return yield* refuse(alreadyExists(previous))
        }
        if (yield* store.create(marker, encoder.encode(content))) return previous
        const existing = yield* store.read(marker).pipe(Effect.option)
        if (Option.isNone(existing)) {
          return yield* refuse(conflict(p.id, `${p.id}: ${marker} appeared and vanished while claiming`, "another publisher is at work on this location; try again"))
        }
        if (!force) yield* refuse(judgeExisting(p, marker, existing.value, previous, job.publishContext))
        // Replaced: kept aside first, so a failed run puts it back.
        yield* store.copy(marker, store.backupUrl(marker, tx))
        yield* store.putBytes(marker, encoder.encode(content), "application/json")
        return previous
      })
    )
  })

export const ClaimProduct = { ...declared, run }
