/**
 * Every side effect of an ingest, as plain data. A step records its Action
 * before acting, so everything needed to undo it is known up front: the
 * in-process rollback and a crash recovery reading the journal run the same
 * `undo` on the same data. Actions are JSON-serializable on purpose.
 */
import { FileSystem } from "@effect/platform"
import { Data, Effect } from "effect"
import { InternalError, type PublishError } from "./Errors.ts"
import { type DocRef, GrqIndex, type GrqRecord } from "./GrqIndex.ts"
import * as JobFile from "./JobFile.ts"
import { ObjectStore } from "./ObjectStore.ts"
import { type StacJson, StacRegistry } from "./StacRegistry.ts"

export interface BackedUpObject {
  readonly url: string
  readonly backup: string
}

export type Action = Data.TaggedEnum<{
  /** The publish marker that makes one ingest the owner of a product's location. */
  ClaimProduct: { readonly product: string; readonly marker: string; readonly tx: string }
  /** `--force`: the objects already at the location, copied aside and removed. */
  BackupObjects: { readonly product: string; readonly objects: ReadonlyArray<BackedUpObject> }
  PutObjects: { readonly product: string; readonly urls: ReadonlyArray<string> }
  /** `previous` is the collection this run replaced (`--force`); absent when it created it. */
  RegisterCollection: { readonly id: string; readonly previous?: StacJson }
  RegisterItems: {
    readonly collection: string
    readonly ids: ReadonlyArray<string>
    readonly previous: ReadonlyArray<StacJson>
  }
  /** `previous` holds the documents these replace (`--force`), to be put back on undo. */
  IndexDocuments: { readonly refs: ReadonlyArray<DocRef>; readonly previous: ReadonlyArray<GrqRecord> }
  /** `previous` is the file's former content; absent when the run created it. */
  WriteJobFile: { readonly path: string; readonly previous?: string }
}>

export const Action = Data.taggedEnum<Action>()

export type ActionContext = ObjectStore | GrqIndex | StacRegistry | FileSystem.FileSystem

/** One line a human reads in a rollback report or a journal listing. */
export const summary = Action.$match({
  ClaimProduct: (a) => `publish marker ${a.marker}`,
  BackupObjects: (a) => `backup of ${a.objects.length} existing object(s) of ${a.product}`,
  PutObjects: (a) => `${a.urls.length} object(s) of ${a.product}`,
  RegisterCollection: (a) => `STAC collection ${a.id}${a.previous ? " (replaced)" : ""}`,
  RegisterItems: (a) => `${a.ids.length} STAC item(s) in ${a.collection}`,
  IndexDocuments: (a) => `${a.refs.length} GRQ document(s)`,
  WriteJobFile: (a) => `job file ${a.path}`
})

const writeOrRemove = (path: string, previous: string | undefined) =>
  Effect.gen(function* () {
    // Never through a link: the job dir may have planted one since (see JobFile).
    if (previous !== undefined) return yield* JobFile.replace(path, previous)
    // Only a file this run wrote is removed; whatever else sits at that path
    // (a directory that made the write fail, a link) was not written by this run.
    yield* JobFile.removeIfFile(path)
  }).pipe(Effect.mapError((cause) => new InternalError({ message: `cannot restore ${path}`, cause })))

/**
 * Removes the publish marker only if this transaction wrote it: when the claim
 * lost the race, the marker there belongs to another ingest and must stay.
 */
const releaseMarker = (action: { readonly marker: string; readonly tx: string }) =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const content = yield* store.read(action.marker).pipe(Effect.option)
    if (content._tag === "None") return
    const owner = (() => {
      try {
        return (JSON.parse(new TextDecoder().decode(content.value)) as { tx?: unknown }).tx
      } catch {
        return undefined
      }
    })()
    if (owner === action.tx) yield* store.remove([action.marker])
  })

/**
 * Puts back the state from before the action. Idempotent and safe when the action
 * ran only partly (or not at all): it removes only what the action named and
 * restores only what it saved.
 */
export const undo = (action: Action): Effect.Effect<void, PublishError, ActionContext> =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const index = yield* GrqIndex
    const registry = yield* StacRegistry
    switch (action._tag) {
      case "ClaimProduct":
        return yield* releaseMarker(action)
      case "BackupObjects": {
        // Copy back before removing a backup, so a crash in between loses nothing. A
        // backup already gone was restored by an earlier undo (its removal comes after
        // every copy), or never made, in which case its original was never removed.
        for (const o of action.objects) {
          yield* store.copy(o.backup, o.url).pipe(Effect.catchIf((e) => e.missing === true, () => Effect.void))
        }
        // A copy (aside or back) cut off by a crash left temp files next to its target.
        yield* store.discardPartials(action.objects.map((o) => o.url))
        return yield* store.remove(action.objects.map((o) => o.backup))
      }
      case "PutObjects":
        return yield* store.remove(action.urls)
      case "RegisterCollection":
        return yield* action.previous
          ? registry.putCollection(action.previous, "replace")
          : registry.deleteCollection(action.id)
      case "RegisterItems": {
        yield* registry.deleteItems(action.collection, action.ids)
        if (action.previous.length > 0) yield* registry.putItems(action.collection, action.previous, "replace")
        return
      }
      case "IndexDocuments": {
        yield* index.remove(action.refs)
        if (action.previous.length > 0) yield* index.bulkIndex(action.previous)
        return
      }
      case "WriteJobFile":
        return yield* writeOrRemove(action.path, action.previous)
    }
  })

/** Cleanup once the whole ingest succeeded: drop the marker and what `--force` kept aside. */
export const commit = (action: Action): Effect.Effect<void, PublishError, ObjectStore> =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    if (action._tag === "ClaimProduct") yield* releaseMarker(action)
    if (action._tag === "BackupObjects") yield* store.remove(action.objects.map((o) => o.backup))
  })
