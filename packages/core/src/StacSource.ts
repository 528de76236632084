/**
 * A planned STAC document, read again when its turn comes to be published.
 *
 * Why the plan does not keep the documents: a catalog of 100,000 items held
 * whole (as read, as published, as GRQ documents) needs gigabytes. Planning
 * validates the catalog and keeps only what is needed to find each document
 * again (its path and the identity of the file it read); the publish reads
 * each batch of documents, turns them into their published form and GRQ
 * documents, and lets them go once the batch is through.
 *
 * The job dir is untrusted and may change between planning and publishing: a
 * document whose file is no longer the one planning read (another inode, size
 * or mtime, or no longer a regular file) is an error, so the ingest publishes
 * nothing more and rolls back. The descriptor is checked, then read, so the
 * bytes are those of the file checked.
 */
import { FileSystem } from "@effect/platform"
import { Effect, Either, Option, Predicate } from "effect"
import * as Confine from "./Confine.ts"
import { StorageError } from "./Errors.ts"
import * as GrqDocument from "./GrqDocument.ts"
import { MAX_JSON_BYTES } from "./JsonFile.ts"
import * as JobTree from "./JobTree.ts"
import type { FileIdentity } from "./ObjectStore.ts"
import type * as Stac from "./Stac.ts"
import * as StacMigrate from "./StacMigrate.ts"
import * as Interned from "./Interned.ts"
import * as JsonBytes from "./JsonBytes.ts"
import * as StacPublish from "./StacPublish.ts"

type Json = Record<string, unknown>

/** A catalog, collection or item of a planned catalog: where it is and what planning saw. */
export interface StacDocument {
  readonly type: Stac.StacType
  readonly id: string
  /** Path relative to the catalog dir, `/`-separated. */
  readonly relPath: string
  /** The real path planning read. */
  readonly path: string
  readonly identity: FileIdentity
}

export interface PlannedItem extends StacDocument {
  readonly type: "Feature"
  readonly collection: string
}

/** What turns a product's documents into their published form and GRQ documents. */
export interface Publishing {
  /** Where the catalog dir's content is published (its first URL). */
  readonly baseUrl: string
  readonly entry: GrqDocument.EntryFields
  /** An item's GRQ version when its properties name none: the entry's, else the root's stac_version. */
  readonly version: string
  readonly prov: unknown
  readonly now: Date
}

const changed = (doc: StacDocument, detail: string) =>
  new StorageError({
    message: `cannot publish ${doc.path}: it changed after planning (${detail}); nothing more was published`,
    url: doc.path,
    hint: "something changed the job dir while it was being ingested; ingest again once the job's outputs are final"
  })

/** Undefined while `info` (the stat of the file about to be or just read) is the file planning read. */
const identityChange = (doc: StacDocument, info: JobTree.EntryInfo): StorageError | undefined => {
  const diff = Confine.changesSince(info, doc.identity)
  return diff.length > 0 ? changed(doc, diff.join(", ")) : undefined
}

/** The document from the text read of its file, once that file's identity is checked (`identityChange`). */
const fromText = (doc: StacDocument, text: string, bytes: number): Either.Either<Json, StorageError> => {
  if (bytes !== doc.identity.size) return Either.left(changed(doc, `${bytes} bytes read, ${doc.identity.size} planned`))
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return Either.left(changed(doc, "it is no longer valid JSON"))
  }
  // Migrated again as planning did (StacMigrate): a 0.9 catalog has no `type` until then.
  const migrated = Predicate.isRecord(parsed) ? StacMigrate.migrate(parsed) : undefined
  if (migrated !== undefined && Either.isLeft(migrated)) return Either.left(changed(doc, migrated.left.message))
  const json = migrated === undefined ? parsed : migrated.right.json
  if (!Predicate.isRecord(json) || json.id !== doc.id || json.type !== doc.type) return Either.left(changed(doc, "its id or type is not the one planned"))
  return Either.right(json)
}

/** The document as it is on disk, if it is still the file planning read: its descriptor is checked, then read. */
export const read = (doc: StacDocument): Effect.Effect<Json, StorageError, FileSystem.FileSystem> =>
  Effect.scoped(
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const file = yield* fs.open(doc.path, { flag: "r" }).pipe(Effect.mapError(() => changed(doc, "it is gone or unreadable")))
      const info = JobTree.infoOf(yield* file.stat.pipe(Effect.mapError(() => changed(doc, "it cannot be stat'ed"))))
      const different = identityChange(doc, info)
      if (different !== undefined) return yield* Effect.fail(different)
      if (doc.identity.size > MAX_JSON_BYTES) return yield* Effect.fail(changed(doc, "over the metadata size limit"))
      const bytes = yield* file.readAlloc(FileSystem.Size(doc.identity.size)).pipe(Effect.mapError(() => changed(doc, "it cannot be read")))
      const content = Option.getOrElse(bytes, () => new Uint8Array())
      return yield* fromText(doc, new TextDecoder().decode(content), content.length)
    })
  )

const unread = {
  Missing: "it is gone or unreadable",
  NotAFile: "it is no longer a regular file",
  TooLarge: "over the metadata size limit",
  Unreadable: "it cannot be read"
} as const

/**
 * Many documents, read as `read` reads one. Through the JobTree port when one
 * is provided: one call for the whole batch (each file opened no-follow, its
 * descriptor stat'ed, then read), rather than four trips through the thread
 * pool per document; a large ingest reads every item twice (publish, job file).
 */
export const readMany = (
  docs: ReadonlyArray<StacDocument>,
  concurrency: number
): Effect.Effect<Array<Json>, StorageError, FileSystem.FileSystem> =>
  Effect.flatMap(Effect.serviceOption(JobTree.JobTree), (tree) =>
    Option.isNone(tree)
      ? Effect.forEach(docs, read, { concurrency })
      : Effect.flatMap(
          tree.value.readTexts(
            docs.map((d) => d.path),
            MAX_JSON_BYTES
          ),
          (texts) =>
            Effect.forEach(docs, (doc, i) => {
              const t = texts[i]!
              if (t._tag === "Failed") return Either.left(changed(doc, unread[t.reason]))
              const different = identityChange(doc, t.info)
              return different !== undefined ? Either.left(different) : fromText(doc, t.text, t.bytes)
            })
        )
  )

/**
 * The published JSON plus a `canonical` link to it: STAC APIs regenerate
 * structural links. Links whose rel is in `without` are left out too, in the
 * same pass.
 */
export const withCanonical = (json: Json, url: string, without: ReadonlySet<string> = KEEP_ALL): Json => ({
  ...json,
  links: [
    ...(Array.isArray(json.links) ? (json.links as Array<Json>).filter((l) => l.rel !== "canonical" && !without.has(l.rel as string)) : []),
    { rel: "canonical", href: url, type: "application/json" }
  ]
})

const KEEP_ALL: ReadonlySet<string> = new Set()
/** What a registered collection goes without (see registered). */
const COLLECTION_OMITS: ReadonlySet<string> = new Set(["item"])

/** The document as published to the object store (every href absolute, `self` on it), made of `json`, just read. */
export const published = (doc: StacDocument, json: Json, baseUrl: string): Json =>
  StacPublish.publishInPlace({ file: doc.path, relPath: doc.relPath, type: doc.type, id: doc.id, json }, baseUrl)

/**
 * What the STAC API gets: the published document with its canonical link. A
 * collection goes without its `item` links: the API serves its items itself
 * (`/collections/{id}/items`), and a link per item made the stored collection
 * grow with it (10 MB at 100,000 items), read whole at every check that it
 * exists. The published collection.json, its canonical link, keeps them.
 */
export const registered = (doc: StacDocument, publishedJson: Json, baseUrl: string): Json =>
  withCanonical(publishedJson, StacPublish.canonicalUrl(baseUrl, doc.relPath), doc.type === "Feature" ? KEEP_ALL : COLLECTION_OMITS)

/**
 * Above this many bytes on disk a document is printed straight to bytes
 * (JsonBytes: a 100,000-item collection's string and the engine's buffers
 * behind it were the ingest's highest memory); below, through JSON.stringify,
 * which is native and three times faster. Same bytes either way.
 */
const STRAIGHT_TO_BYTES = 1 << 20

/** The file a published document becomes; `size`, the document's on disk, chooses how it is printed. */
export const jsonBytes = (json: unknown, size = 0): Uint8Array =>
  size > STRAIGHT_TO_BYTES ? JsonBytes.pretty(json) : new TextEncoder().encode(JSON.stringify(json, null, 2) + "\n")

/** One string per distinct index name, so a long run's document refs do not each hold a copy. */
const intern = Interned.table(10_000)

/** The version an item's GRQ document has (and its index is named by): its `properties.version`, else the product's. */
export const itemVersion = (item: Readonly<Record<string, unknown>>, productVersion: string): string => {
  const properties = item.properties
  const own = Predicate.isRecord(properties) ? properties.version : undefined
  return typeof own === "string" && own !== "" ? own : productVersion
}

/** The GRQ document of an item (and its `_datasets.json` entry), from its registered form. */
export const document = (item: PlannedItem, registeredJson: Json, p: Publishing): GrqDocument.Built => {
  const version = itemVersion(registeredJson, p.version)
  const slash = item.relPath.lastIndexOf("/")
  const itemDir = StacPublish.canonicalUrl(p.baseUrl, slash < 0 ? "" : item.relPath.slice(0, slash))
  const built = GrqDocument.stacItem({
    item: registeredJson,
    collection: item.collection,
    entry: p.entry,
    version,
    urls: [itemDir],
    prov: p.prov,
    now: p.now
  })
  // The planned id (checked equal) rather than the parsed copy: refs of every batch stay in memory until the run ends.
  return { ...built, record: { ...built.record, index: intern(built.record.index), id: item.id } }
}
