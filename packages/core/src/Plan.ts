/**
 * The plan of an ingest: everything it will write, computed before writing
 * anything. Planning reads the job dir only, so every problem (bad config,
 * invalid catalog, escaping href, missing version) is found and reported
 * together while nothing has been published yet. A dry run stops here.
 */
import { FileSystem, Path } from "@effect/platform"
import { Data, Effect, Either, Option, Predicate } from "effect"
import * as CatalogEntries from "./CatalogEntries.ts"
import * as DatasetConfig from "./DatasetConfig.ts"
import { type ConfigError, type Problem, ValidationError } from "./Errors.ts"
import * as GrqDocument from "./GrqDocument.ts"
import type { GrqRecord } from "./GrqIndex.ts"
import type { JobInfo } from "./JobInfo.ts"
import * as JsonFile from "./JsonFile.ts"
import * as Location from "./Location.ts"
import * as ProductFiles from "./ProductFiles.ts"
import * as ProductMetadata from "./ProductMetadata.ts"
import { Extractor } from "./Extractor.ts"
import * as PyJson from "./PyJson.ts"
import * as PyRegex from "./PyRegex.ts"
import * as SafeName from "./SafeName.ts"
import type { FileIdentity, StoreCredentials } from "./ObjectStore.ts"
import * as Stac from "./Stac.ts"
import type { StacRules } from "./StacRegistry.ts"
import * as StacPublish from "./StacPublish.ts"
import * as StacSource from "./StacSource.ts"
import * as StacTree from "./StacTree.ts"
import * as Discovery from "./Discovery.ts"
import * as EventLoop from "./EventLoop.ts"
import * as JobTree from "./JobTree.ts"
import * as TreeIndex from "./TreeIndex.ts"
import type { Warning } from "./Warning.ts"

/** HySDS's publish context, written at each publish location when a product is published; it stays after success, as HySDS leaves it. */
export const MARKER_NAME = "_publish.context.json"
/** The claim that makes one ingest the owner of a location (steps/ClaimProduct). */
export const CLAIM_NAME = ".hysds-stac-claim.json"

export type FileSource =
  /** `path` is the file's real path; `identity` what the store must find there (see ObjectStore.FileIdentity). */
  | { readonly _tag: "File"; readonly path: string; readonly identity: FileIdentity }
  | { readonly _tag: "Bytes"; readonly bytes: Uint8Array; readonly contentType: string }

export interface PlannedFile {
  readonly url: string
  readonly size: number
  readonly source: FileSource
}

export interface PlannedProduct {
  readonly kind: "classic" | "stac"
  readonly id: string
  readonly dir: string
  /** The datasets.json entry (its ipath) that matched. */
  readonly entry: string
  readonly dataset: string
  /** Where the product is copied; absent when its entry has no `publish` (indexed only, as HySDS does). */
  readonly location?: string
  readonly urls: ReadonlyArray<string>
  /** Every location the product writes under (publish, and browse when set), with the entry's credentials for it. */
  readonly roots: ReadonlyArray<string>
  readonly credentials: ReadonlyArray<{ readonly location: string; readonly credentials: StoreCredentials }>
  /** HySDS's publish context at the publish location (steps/ClaimProduct); absent without one. */
  readonly marker?: string
  /** The claim one ingest at a time may hold (steps/ClaimProduct); absent when the product uploads nothing. */
  readonly claim?: string
  /**
   * Files published as they are. For a STAC product, the files no item claims
   * as an asset come first (`stac.headFiles` of them), then each item's
   * assets in item order (see StacPlan); its STAC documents are not here.
   */
  readonly files: ReadonlyArray<PlannedFile>
  /** Bytes to publish; a STAC document counts its size on disk (its published form is a little larger). */
  readonly bytes: number
  /** The GRQ documents of a classic product (STAC items make theirs when published). */
  readonly documents: ReadonlyArray<GrqRecord>
  /** A classic product's `_datasets.json` entries: HySDS's `update_json` of each document (STAC items make theirs when published). */
  readonly datasetsJson: ReadonlyArray<Readonly<Record<string, unknown>>>
  /** STAC products: the documents, found again and published batch by batch. */
  readonly stac?: StacPlan
  /** What planning noticed in this product's inputs that does not stop the ingest (Warning.ts). */
  readonly warnings: ReadonlyArray<Warning>
}

/**
 * What a STAC product publishes, without the documents themselves: each is
 * read again when its turn comes (StacSource), so the plan's size is a few
 * strings and numbers per item whatever the documents hold.
 */
export interface StacPlan extends StacSource.Publishing {
  /** Catalogs and collections, published with the head files; the collections registered before any item. */
  readonly nodes: ReadonlyArray<StacSource.StacDocument>
  /** Every item, in tree order. */
  readonly items: ReadonlyArray<StacSource.PlannedItem>
  /** How many of `files` come before the first item's assets. */
  readonly headFiles: number
  /** Where each item's assets end in `files`: item i owns `files[assetsEnd[i-1] ?? headFiles, assetsEnd[i])`. */
  readonly assetsEnd: Uint32Array
}

/** The GRQ ids a product publishes: its documents', or its items'. */
export const documentIds = (p: PlannedProduct): ReadonlyArray<string> =>
  p.stac ? p.stac.items.map((i) => i.id) : p.documents.map((d) => d.id)

/** Collections a product registers. */
export const collectionCount = (p: PlannedProduct): number => p.stac?.nodes.filter((n) => n.type === "Collection").length ?? 0

/** Every file a product writes: its files and its STAC documents. */
export const fileCount = (p: PlannedProduct): number => p.files.length + (p.stac ? p.stac.nodes.length + p.stac.items.length : 0)

/**
 * Everything a product publishes, held whole: its collections and items as
 * the STAC API gets them, and its GRQ documents. For tools that compare
 * against it (the benchmark's floors send the same items and documents); an
 * ingest never holds this, it reads the documents batch by batch.
 */
export const published = (p: PlannedProduct, concurrency = 16) =>
  Effect.gen(function* () {
    const stac = p.stac
    if (!stac) return { collections: [], items: [], documents: p.documents }
    const registered = (doc: StacSource.StacDocument) =>
      Effect.map(StacSource.read(doc), (json) => StacSource.registered(doc, StacSource.published(doc, json, stac.baseUrl), stac.baseUrl))
    const collections = yield* Effect.forEach(stac.nodes.filter((n) => n.type === "Collection"), registered, { concurrency })
    const items = yield* Effect.forEach(stac.items, registered, { concurrency })
    const byCollection = new Map<string, Array<Record<string, unknown>>>()
    stac.items.forEach((item, i) => {
      const list = byCollection.get(item.collection)
      if (list === undefined) byCollection.set(item.collection, [items[i]!])
      else list.push(items[i]!)
    })
    return {
      collections,
      items: [...byCollection].map(([collection, list]) => ({ collection, items: list })),
      documents: [...p.documents, ...stac.items.map((item, i) => StacSource.document(item, items[i]!, stac).record)]
    }
  })

export const itemCount = (p: PlannedProduct): number => p.stac?.items.length ?? 0

export const documentCount = (p: PlannedProduct): number => p.documents.length + itemCount(p)

export interface Totals {
  readonly products: number
  readonly collections: number
  readonly items: number
  readonly documents: number
  readonly files: number
  readonly bytes: number
}

export interface Plan {
  readonly jobDir: string
  readonly job: JobInfo
  readonly products: ReadonlyArray<PlannedProduct>
  readonly skipped: ReadonlyArray<{ readonly dir: string; readonly reason: string }>
  readonly totals: Totals
  /** Every product's warnings, in product order. */
  readonly warnings: ReadonlyArray<Warning>
}

export interface PlanInput {
  readonly jobDir: string
  readonly job: JobInfo
  readonly datasets: DatasetConfig.DatasetsConfig
  readonly stac: boolean
  readonly hostname: string
  readonly now: Date
  /** What the STAC registry refuses, checked while planning; pgstac's when absent. */
  readonly rules?: StacRules
  /**
   * The URL schemes the configured object store publishes to (ObjectStore
   * `schemes`): a location of another scheme is refused while planning, before
   * anything is claimed. Unchecked when absent.
   */
  readonly schemes?: ReadonlyArray<string>
  /** The environment an `extractor` value's `$VAR`s expand from (ProductMetadata). */
  readonly env?: Readonly<Record<string, string | undefined>>
}

type Json = Record<string, unknown>

const prov = (job: JobInfo): unknown => job.prov ?? {}

const entryFields = (m: DatasetConfig.CompiledEntry): GrqDocument.EntryFields => {
  const index: unknown = (m.entry as { index?: unknown }).index
  return {
    ipath: m.name,
    dataset: m.dataset,
    type: String(m.entry.type),
    level: String(m.entry.level),
    ...(Predicate.isRecord(index) ? { index } : {})
  }
}

const problemAt = (file: string, message: string, path = ""): Problem => ({ file, path, message })

/** The entry's `browse.sort_order` (Python regexes, searched in each image name), compiled. */
const browseSortOrder = (entry: DatasetConfig.CompiledEntry, dir: string) => {
  const patterns = entry.entry.browse?.sort_order ?? []
  const compiled: Array<(name: string) => boolean> = []
  const problems: Array<Problem> = []
  patterns.forEach((p, i) => {
    const c = PyRegex.compile(p)
    if (Either.isRight(c)) compiled.push((name) => c.right.test(name))
    else problems.push(problemAt(dir, `entry ${entry.name}: browse.sort_order[${i}] ${JSON.stringify(p)} is not a usable regex: ${c.left}`))
  })
  return problems.length > 0 ? planProblems(problems) : Effect.succeed(compiled)
}

/**
 * How planning fails inside this module: the problems found in one product's
 * inputs. Tagged so it cannot be confused with a ConfigError (a datasets.json
 * template that does not render is the operator's to fix, and stops the plan);
 * `make` gathers these from every product and reports them once, as the
 * public ValidationError.
 */
class PlanProblems extends Data.TaggedError("PlanProblems")<{ readonly problems: ReadonlyArray<Problem> }> {}

const planProblems = (problems: ReadonlyArray<Problem>) => Effect.fail(new PlanProblems({ problems }))

/** Each value URL-encoded segment by segment (a `/` a regex group captured stays a separator). */
const encodeValues = (values: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.split("/").map(Location.encodeSegment).join("/")]))

/**
 * A rendered location must parse and hold no name SafeName refuses:
 * `{met[key]}` and `{dataset[key]}` come from the job's own files unencoded, so
 * a value such as `..%2F..` must be refused here rather than climb out.
 */
const locationProblem = (publish: DatasetConfig.Rendered, schemes: ReadonlyArray<string> | undefined): string | undefined => {
  for (const location of [...(publish.location !== undefined ? [publish.location] : []), ...(publish.browse ? [publish.browse.location] : [])]) {
    const unserved = Location.unservedScheme(location, schemes)
    if (unserved !== undefined) return `its location ${JSON.stringify(location)} cannot be published to: ${unserved}`
    const parsed = Location.parse(location)
    if (Either.isLeft(parsed)) return `its publish location is unusable: ${parsed.left}`
    const rest = parsed.right.scheme === "file" ? parsed.right.path : parsed.right.key
    const bad = rest.split("/").filter((seg) => seg !== "").map(SafeName.problem).find((p) => p !== undefined)
    if (bad !== undefined) return `its publish location ${JSON.stringify(location)} cannot be used: ${bad}`
  }
  return undefined
}

/**
 * Problems for names SafeName refuses: each file (and the product dir itself)
 * named, before anything is claimed.
 */
const nameProblems = (dir: string, files: ReadonlyArray<{ readonly relPath: string; readonly absPath: string }>): Array<Problem> => {
  const problems: Array<Problem> = []
  const own = SafeName.problem(dir.split("/").pop() ?? dir)
  if (own !== undefined) problems.push(problemAt(dir, `cannot publish a product directory with this name: ${own}; rename it`))
  for (const f of files) {
    const p = SafeName.pathProblem(f.relPath)
    if (p !== undefined) problems.push(problemAt(f.absPath, `cannot publish a file with this name: ${p}; rename it`))
  }
  return problems
}

/**
 * Key length limits of the destination: an S3 key (with room for its `--force`
 * backup). Each file is published at `location` + its relative path, so the key
 * is the location's key and the path (Location.child encodes each name and
 * parse decodes it back): the location is parsed once, not once per file, and
 * a file's path to name in a problem (`absPath`, a getter for a listed file) is
 * asked only for a problem: a catalog has hundreds of thousands of files.
 */
const lengthProblems = (location: string, files: Iterable<{ readonly relPath: string; readonly absPath: string }>): Array<Problem> => {
  const parsed = Location.parse(location)
  if (Either.isLeft(parsed)) return Array.from(files, (f) => problemAt(f.absPath, parsed.left))
  // Only an S3 key has a length limit.
  if (parsed.right.scheme !== "s3") return []
  const base = SafeName.byteLength(parsed.right.key)
  const problems: Array<Problem> = []
  for (const f of files) {
    const bytes = base + (base > 0 ? 1 : 0) + SafeName.byteLength(f.relPath)
    if (bytes + SafeName.BACKUP_OVERHEAD_BYTES > SafeName.MAX_S3_KEY_BYTES) {
      problems.push(problemAt(f.absPath, `its S3 key would be ${bytes} bytes; with its backup prefix that exceeds S3's ${SafeName.MAX_S3_KEY_BYTES}-byte limit: shorten the name or the location`))
    }
  }
  return problems
}

/** Matches a product directory to its datasets.json entry and renders its publish settings. */
const settle = (
  input: PlanInput,
  dir: string,
  names: ReadonlyArray<string>,
  values: (entry: DatasetConfig.CompiledEntry) => Record<string, string>,
  dataset: Json,
  met: Json
) =>
  Effect.gen(function* () {
    const matched = DatasetConfig.match(input.datasets, dir, names)
    if (Option.isNone(matched)) {
      return yield* planProblems([problemAt(dir, `no entry of ${input.datasets.file} matches this product directory`)])
    }
    const { entry, groups } = matched.value
    // Names (the product id, regex groups taken from the path) go into URL templates:
    // encoded, so `a%2Fb` stays one segment named `a%2Fb` once the URL is parsed.
    const encodedGroups = encodeValues(groups)
    const publish = DatasetConfig.renderPublish({ ...matched.value, groups: encodedGroups }, {
      values: { ...encodeValues(values(entry)), ...encodedGroups },
      dataset,
      met
    })
    if (Either.isLeft(publish)) return yield* Effect.fail(publish.left)
    const bad = locationProblem(publish.right, input.schemes)
    if (bad !== undefined) return yield* planProblems([problemAt(dir, bad)])
    return { entry, groups, publish: publish.right }
  })

/**
 * The product's metadata (ProductMetadata), numbers as Python reads them: its
 * `<id>.met.json`, or what the extractor of the entry it matches prints, or
 * `{}`. Problems are added to `problems`; the extractor does not run for a
 * product already found invalid.
 */
const productMetadata = (input: PlanInput, tree: TreeIndex.TreeIndex, dir: string, id: string, names: ReadonlyArray<string>, problems: Array<Problem>) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    type Found = { readonly met: Json; readonly extracted?: ProductMetadata.Extracted }
    const none: Found = { met: {} }
    const exists = (file: string) => Effect.map(tree.resolve(file), (r) => r !== undefined)
    const metFile = path.join(dir, `${id}.met.json`)
    if (yield* exists(metFile)) {
      return yield* JsonFile.read(metFile, { within: dir, parser: PyJson.parse, tree }).pipe(
        Effect.flatMap((m) => (Predicate.isRecord(m) ? Effect.succeed<Found>({ met: m }) : Effect.fail(problemAt(metFile, "must be a JSON object")))),
        Effect.catchAll((p) => Effect.sync(() => (problems.push(p), none)))
      )
    }
    const matched = DatasetConfig.match(input.datasets, dir, names)
    if (Option.isNone(matched)) return none
    const extractor = matched.value.entry.entry.extractor
    if (extractor === undefined || problems.length > 0) return none
    const runner = yield* Effect.serviceOption(Extractor)
    if (Option.isNone(runner)) {
      problems.push(problemAt(dir, `entry ${matched.value.entry.name} names an extractor, and this process was started without one`))
      return none
    }
    const seedFile = path.join(dir, ProductMetadata.SEED_NAME)
    let seed: { file: string; json: unknown } | undefined
    if (yield* exists(seedFile)) {
      const json = yield* JsonFile.read(seedFile, { within: dir, parser: PyJson.parse, tree }).pipe(
        Effect.catchAll((p) => Effect.sync(() => (problems.push(p), undefined)))
      )
      if (json === undefined) return none
      seed = { file: seedFile, json }
    }
    return yield* ProductMetadata.extract({ extractor, env: input.env ?? {}, dir, id, ...(seed ? { seed } : {}) }).pipe(
      Effect.provideService(Extractor, runner.value),
      Effect.map((extracted): Found => ({ met: extracted.met, extracted })),
      Effect.catchAll((p) => Effect.sync(() => (problems.push(p), none)))
    )
  })

const classicProduct = (input: PlanInput, tree: TreeIndex.TreeIndex, dir: string) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const id = path.basename(dir)
    const problems: Array<Problem> = []
    const datasetFile = path.join(dir, `${id}.dataset.json`)
    // Read keeping numbers as Python does (`1.0` stays a float) for _datasets.json; plain elsewhere.
    const datasetPy = yield* JsonFile.read(datasetFile, { within: dir, parser: PyJson.parse, tree }).pipe(
      Effect.catchAll((p) => Effect.sync(() => (problems.push(p), undefined)))
    )
    const datasetJson = PyJson.plain(datasetPy)
    let dataset: Json & { version: string } = { version: "" }
    if (datasetJson !== undefined) {
      if (!Predicate.isRecord(datasetJson)) problems.push(problemAt(datasetFile, "must be a JSON object"))
      else if (typeof datasetJson.version !== "string" || datasetJson.version === "") {
        problems.push(problemAt(datasetFile, "required field missing: version (a non-empty string)", "$.version"))
      } else dataset = datasetJson as Json & { version: string }
      // GRQ maps `location` as geo_shape: an out-of-range position would be refused
      // by the index after the files were copied.
      if (Predicate.isRecord(datasetJson)) {
        for (const i of Stac.geometryIssues(datasetJson.location, ["location"])) problems.push(problemAt(datasetFile, i.message, i.path))
      }
    }
    const listing = yield* ProductFiles.list(dir, dir, input.jobDir, tree)
    problems.push(...listing.problems)
    problems.push(...nameProblems(dir, listing.files))
    // HySDS copies the job's _context.json into the product as <id>.context.json
    // before publishing and takes `prov` from that file; without a _context.json
    // (a plain directory of products) the product's own copy, if any, is used.
    const contextName = `${id}.context.json`
    const contextFile = input.job.contextFile
    let productProv: unknown = prov(input.job)
    if (contextFile === undefined && listing.files.some((f) => f.relPath === contextName)) {
      const own = yield* JsonFile.read(path.join(dir, contextName), { within: dir, tree }).pipe(Effect.catchAll((p) => Effect.sync(() => (problems.push(p), undefined))))
      if (own !== undefined && !Predicate.isRecord(own)) problems.push(problemAt(path.join(dir, contextName), "must be a JSON object"))
      else if (Predicate.isRecord(own) && own._prov !== undefined) productProv = own._prov
    }
    const names = [...new Set([...listing.files.map((f) => f.relPath).filter((n) => !n.includes("/")), ...(contextFile ? [contextName] : [])])].sort()
    // `<id>.met.json`, or what the entry's extractor prints (ProductMetadata); numbers as Python reads them.
    const metadata = yield* productMetadata(input, tree, dir, id, names, problems)
    if (problems.length > 0) return yield* planProblems(problems)
    const metPy: Json = metadata.met
    const settled = yield* settle(
      input,
      dir,
      names,
      (e) => ({ id, version: dataset.version, type: String(e.entry.type), level: String(e.entry.level), hostname: input.hostname }),
      // Read as Python reads them, so `{met[x]}` of `1.0` renders `1.0` as in HySDS.
      Predicate.isRecord(datasetPy) ? datasetPy : dataset,
      metPy
    )
    const { entry, publish } = settled

    // An entry without `publish` uploads nothing of the product (HySDS indexes it only).
    // With extracted metadata, HySDS publishes `<id>.met.json` in place of the seed met.json.
    const extracted = metadata.extracted
    const location = publish.location
    const published =
      location === undefined
        ? []
        : listing.files.filter((f) => (contextFile === undefined || f.relPath !== contextName) && (extracted === undefined || f.relPath !== ProductMetadata.SEED_NAME))
    const files: Array<PlannedFile> = published.map((f) => ({
      url: Location.child(location!, f.relPath),
      size: f.size,
      source: { _tag: "File", path: f.realPath, identity: f.identity }
    }))
    if (contextFile !== undefined && location !== undefined) {
      files.push({
        url: Location.child(location, contextName),
        size: contextFile.identity.size,
        source: { _tag: "File", path: contextFile.realPath, identity: contextFile.identity }
      })
    }
    if (extracted !== undefined && location !== undefined) {
      files.push({
        url: Location.child(location, `${id}.met.json`),
        size: extracted.bytes.length,
        source: { _tag: "Bytes", bytes: extracted.bytes, contentType: "application/json" }
      })
    }
    // Only the small images go to the browse location, as HySDS uploads them (the
    // whole product, browse.png included, goes to the publish location).
    const browseUploads = publish.browse ? smallBrowseImages(listing.files) : []
    if (publish.browse) {
      for (const f of browseUploads) {
        files.push({ url: Location.child(publish.browse.location, f.relPath), size: f.size, source: { _tag: "File", path: f.realPath, identity: f.identity } })
      }
    }
    // HySDS: image records (file names) and browse urls only when the entry has `browse`.
    const sortOrder = yield* browseSortOrder(entry, dir)
    const images = publish.browse ? GrqDocument.images(names, sortOrder) : []
    const tooLong = [
      ...(location === undefined
        ? []
        : lengthProblems(location, [
            ...published,
            ...(contextFile !== undefined ? [{ relPath: contextName, absPath: contextFile.realPath }] : []),
            ...(extracted !== undefined ? [{ relPath: `${id}.met.json`, absPath: path.join(dir, `${id}.met.json`) }] : [])
          ])),
      ...(publish.browse ? lengthProblems(publish.browse.location, browseUploads) : [])
    ]
    if (tooLong.length > 0) return yield* planProblems(tooLong)
    const document = GrqDocument.classic({
      id,
      entry: entryFields(entry),
      datasetJson: datasetPy as Json & { version: string },
      met: metPy,
      urls: publish.urls,
      browseUrls: publish.browse ? publish.browse.urls : [],
      images,
      prov: productProv,
      now: input.now
    })
    return product("classic", id, dir, entry, publish, files, [document])
  })

/**
 * The files HySDS uploads to the browse location: for each top-level
 * `*browse.png` (a shell glob: hidden names excluded), its `*browse_small.png`
 * when the product has one. A small image without its browse.png is not uploaded.
 */
export const smallBrowseImages = <F extends { readonly relPath: string }>(files: ReadonlyArray<F>): Array<F> => {
  const top = new Map(files.filter((f) => !f.relPath.includes("/")).map((f) => [f.relPath, f] as const))
  return [...top.keys()]
    .filter((name) => name.endsWith("browse.png") && !name.startsWith("."))
    .flatMap((name) => {
      const small = top.get(name.replaceAll("browse.png", "browse_small.png"))
      return small === undefined ? [] : [small]
    })
}

/** HySDS's per-entry S3 credentials; a named profile wins over keys, as in HySDS. */
export const credentialsOf = (settings: DatasetConfig.Publish | DatasetConfig.Browse): StoreCredentials => {
  const profile = settings["s3-profile-name"]
  if (profile) return { profile }
  const accessKeyId = settings["s3-api-key"]
  const secretAccessKey = settings["s3-secret-key"]
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : {}
}

const product = (
  kind: "classic" | "stac",
  id: string,
  dir: string,
  entry: DatasetConfig.CompiledEntry,
  publish: DatasetConfig.Rendered,
  files: ReadonlyArray<PlannedFile>,
  documents: ReadonlyArray<GrqDocument.Built>,
  stac?: StacPlan,
  warnings: ReadonlyArray<Warning> = []
): PlannedProduct => ({
  kind,
  id,
  dir,
  entry: entry.name,
  dataset: entry.dataset,
  ...(publish.location !== undefined ? { location: publish.location, marker: Location.join(publish.location, MARKER_NAME) } : {}),
  urls: publish.urls,
  roots: [...(publish.location !== undefined ? [publish.location] : []), ...(publish.browse ? [publish.browse.location] : [])],
  credentials: [
    ...(publish.location !== undefined && entry.entry.publish
      ? [{ location: publish.location, credentials: credentialsOf(entry.entry.publish) }]
      : []),
    ...(publish.browse && entry.entry.browse
      ? [{ location: publish.browse.location, credentials: credentialsOf(entry.entry.browse) }]
      : [])
  ].filter((c) => Object.keys(c.credentials).length > 0),
  // The claim lives at the publish location, or at the browse location of an entry
  // without `publish`; a product that uploads nothing has none.
  ...(publish.location !== undefined || publish.browse
    ? { claim: Location.join(publish.location ?? publish.browse!.location, CLAIM_NAME) }
    : {}),
  files,
  bytes:
    files.reduce((n, f) => n + f.size, 0) +
    (stac ? stac.nodes.reduce((n, d) => n + d.identity.size, 0) + stac.items.reduce((n, d) => n + d.identity.size, 0) : 0),
  documents: documents.map((d) => d.record),
  datasetsJson: documents.map((d) => d.update),
  warnings,
  ...(stac ? { stac } : {})
})

/** The relative asset hrefs of a document, as paths relative to the catalog dir. */
const assetPaths = (node: StacTree.StacNode): Array<string> => {
  const assets = node.json.assets
  if (!Predicate.isRecord(assets)) return []
  const out: Array<string> = []
  for (const asset of Object.values(assets)) {
    if (!Predicate.isRecord(asset) || typeof asset.href !== "string") continue
    const kind = Stac.classifyHref(asset.href)
    if (kind._tag !== "Relative") continue
    const target = StacPublish.resolveRel(node.relPath, kind.path)
    if (target !== undefined) out.push(target)
  }
  return out
}

const stacProduct = (
  input: PlanInput,
  index: TreeIndex.TreeIndex,
  rootFile: string,
  /** No product after this one asks the index: it is let go once this catalog is read. */
  lastReader: boolean
) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const tree = yield* StacTree.readTree(rootFile, input.rules, input.jobDir, index).pipe(
      Effect.mapError((e) => new PlanProblems({ problems: e.problems })),
      Effect.ensuring(Effect.sync(() => lastReader && index.release()))
    )
    const due = yield* EventLoop.pace
    const dir = tree.rootDir
    const id = path.basename(dir)
    // Turns of the event loop between the steps below: each goes over every item or file.
    if (due()) yield* EventLoop.turn
    const badNames = nameProblems(dir, tree.files)
    if (badNames.length > 0) return yield* planProblems(badNames)
    const names = tree.files.map((f) => f.relPath).filter((n) => !n.includes("/"))
    const rootVersion = String(tree.root.json.stac_version ?? "")
    const settled = yield* settle(
      input,
      dir,
      names,
      (e) => ({
        id,
        version: typeof e.entry.version === "string" ? e.entry.version : rootVersion,
        type: String(e.entry.type),
        level: String(e.entry.level),
        hostname: input.hostname
      }),
      {},
      {}
    )
    const { entry, publish } = settled
    const location = publish.location
    if (location === undefined) {
      return yield* planProblems([problemAt(dir, `entry ${entry.name} has no publish: a STAC catalog needs publish.location (its hrefs are rewritten to the published URLs)`)])
    }
    const baseUrl = publish.urls[0] ?? location
    if (due()) yield* EventLoop.turn
    const problems: Array<Problem> = lengthProblems(location, tree.files)
    if (due()) yield* EventLoop.turn

    // The documents are kept as where they are and what planning saw of them
    // (StacSource); the files, as the store will read them; both compact (CatalogEntries).
    // The catalog's files by relative path: positions into tree.files sorted by it, searched by
    // bisection, and what each file is (document, or the asset of which item) in arrays beside them.
    // Why not Maps and Sets keyed by path: a catalog of 100,000 items has 200,000 files, and a
    // hash entry costs tens of bytes where a position costs four.
    const listed = tree.files
    const sorted = Uint32Array.from(listed.keys()).sort((a, b) => compare(listed[a]!.relPath, listed[b]!.relPath))
    const find = (rel: string): number => {
      let lo = 0
      let hi = sorted.length - 1
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1
        const at = sorted[mid]!
        const c = compare(listed[at]!.relPath, rel)
        if (c === 0) return at
        if (c < 0) lo = mid + 1
        else hi = mid - 1
      }
      return -1
    }
    const isDocument = new Uint8Array(listed.length)
    const fileOf = (node: StacTree.StacNode) => {
      const at = find(node.relPath)
      if (at < 0) {
        problems.push(problemAt(node.file, "STAC document is not a regular file inside the catalog directory"))
        return undefined
      }
      isDocument[at] = 1
      return listed[at]!
    }
    const nodes: Array<StacSource.StacDocument> = []
    // Items in tree order: the order HySDS lists them in `_datasets.json`; a batch never spans two collections.
    // Two arrays side by side rather than a pair object per item.
    const ordered: Array<StacTree.StacNode> = []
    const items: Array<StacSource.PlannedItem> = []
    for (let i = 0; i < tree.nodes.length; i++) {
      if (due()) yield* EventLoop.turn
      const node = tree.nodes[i]!
      if (node.type !== "Feature") {
        const f = fileOf(node)
        if (f) nodes.push(new CatalogEntries.CatalogDocument(location, f, node.type, node.id))
        continue
      }
      if (node.collection === undefined) {
        problems.push(problemAt(node.file, "item belongs to no collection; a STAC API can only hold items of a collection", "$.collection"))
        continue
      }
      const f = fileOf(node)
      if (f === undefined) continue
      ordered.push(node)
      items.push(new CatalogEntries.CatalogItem(location, f, node.id, node.collection))
    }
    if (problems.length > 0) return yield* planProblems(problems)

    // Each item's assets follow it, so a batch of items carries its own files;
    // an asset two items name goes with the first. Everything else is a head file.
    const owner = new Int32Array(listed.length).fill(-1)
    for (let i = 0; i < ordered.length; i++) {
      if (due()) yield* EventLoop.turn
      for (const rel of assetPaths(ordered[i]!)) {
        const at = find(rel)
        if (at >= 0 && isDocument[at] === 0 && owner[at] === -1) owner[at] = i
      }
    }
    if (due()) yield* EventLoop.turn
    const files: Array<PlannedFile> = []
    const assets: Array<number> = []
    for (let at = 0; at < listed.length; at++) {
      if (isDocument[at] === 1) continue
      if (owner[at] === -1) files.push(new CatalogEntries.CatalogFile(location, listed[at]!))
      else assets.push(at)
    }
    const headFiles = files.length
    if (due()) yield* EventLoop.turn
    // By owning item, in listing order within an item.
    assets.sort((a, b) => owner[a]! - owner[b]! || a - b)
    const assetsEnd = new Uint32Array(ordered.length)
    let next = 0
    for (let i = 0; i < ordered.length; i++) {
      while (next < assets.length && owner[assets[next]!] === i) files.push(new CatalogEntries.CatalogFile(location, listed[assets[next++]!]!))
      assetsEnd[i] = files.length
    }
    const stac: StacPlan = {
      baseUrl,
      entry: entryFields(entry),
      version: typeof entry.entry.version === "string" && entry.entry.version !== "" ? entry.entry.version : rootVersion,
      prov: prov(input.job),
      now: input.now,
      nodes,
      items,
      headFiles,
      assetsEnd
    }
    if (due()) yield* EventLoop.turn
    // Each item's GRQ key, from the document as read, by the rule its document is built by (StacSource.document).
    // One index name string per version: the keys are held until the cross-checks.
    const indexes = new Map<string, string>()
    const indexOf = (version: string) => {
      let name = indexes.get(version)
      if (name === undefined) indexes.set(version, (name = GrqDocument.indexName(stac.entry, version)))
      return name
    }
    const keys = ordered.map((node, i): GrqKey => ({ id: items[i]!.id, index: indexOf(StacSource.itemVersion(node.json, stac.version)), collection: items[i]!.collection }))
    return { product: product("stac", id, dir, entry, publish, files, [], stac, tree.warnings), keys } satisfies Planned
  })

/** The `<` of strings (UTF-16 code units), as a comparator. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const sum = (products: ReadonlyArray<PlannedProduct>, f: (p: PlannedProduct) => number) =>
  products.reduce((n, p) => n + f(p), 0)

/** Where a GRQ document lands: its id in its index (and, for a STAC item, its collection, for messages). */
interface GrqKey {
  readonly id: string
  readonly index: string
  readonly collection?: string
}

/** Where a document comes from, for messages: its product dir and (a STAC item's) collection. */
interface Place {
  readonly dir: string
  readonly collection: string | undefined
}

/** A product and its documents' GRQ keys, which only the cross-checks need (the plan keeps no STAC document). */
interface Planned {
  readonly product: PlannedProduct
  readonly keys: ReadonlyArray<GrqKey>
}

/** Checks across products: ids GRQ needs unique, locations two products would both write. */
const crossChecks = (planned: ReadonlyArray<Planned>): Array<Problem> => {
  const problems: Array<Problem> = []
  // GRQ keys a document by its id within its index: one id in two indexes is two documents
  // (two STAC collections may share an item id, as STAC allows); in one index, the second
  // would overwrite the first.
  // By index, then by id, each document's place shared with the documents before it from the same
  // product and collection: no key string and no object per document (a catalog has 100,000 of them).
  const ids = new Map<string, Map<string, Place>>()
  const locations = new Map<string, string>()
  const collections = new Map<string, string>()
  const where = (o: Place) => (o.collection !== undefined ? `collection ${o.collection} of ${o.dir}` : o.dir)
  let place: Place | undefined
  for (const { product: p, keys } of planned) {
    for (const d of keys) {
      if (place === undefined || place.dir !== p.dir || place.collection !== d.collection) place = { dir: p.dir, collection: d.collection }
      let inIndex = ids.get(d.index)
      if (inIndex === undefined) ids.set(d.index, (inIndex = new Map()))
      const other = inIndex.get(d.id)
      if (other !== undefined) {
        problems.push(
          problemAt(
            p.dir,
            `GRQ document ${d.id} of ${where(place)} would land in index ${d.index}, where ${where(other)} puts a document of the same id; ` +
              "GRQ keeps one document per id in an index, so one would overwrite the other: rename one of them (or give them different versions, which index them apart)"
          )
        )
      }
      inIndex.set(d.id, place)
    }
    for (const root of p.roots) {
      const clash = [...locations].find(([loc]) => loc === root || loc.startsWith(root + "/") || root.startsWith(loc + "/"))
      if (clash) problems.push(problemAt(p.dir, `location ${root} overlaps ${clash[0]} of ${clash[1]}`))
    }
    for (const root of p.roots) locations.set(root, p.dir)
    for (const c of p.stac?.nodes ?? []) {
      if (c.type !== "Collection") continue
      const other = collections.get(c.id)
      if (other !== undefined) problems.push(problemAt(p.dir, `STAC collection ${c.id} is also defined by ${other}`))
      collections.set(c.id, p.dir)
    }
  }
  return problems
}

export const make = (input: PlanInput): Effect.Effect<Plan, ConfigError | ValidationError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    // One walk of the job dir, which every check below asks instead of the file system.
    const tree = yield* TreeIndex.scan(yield* JobTree.current, input.jobDir)
    const found = yield* Discovery.discover(input.jobDir, { stac: input.stac }, tree)
    const problems: Array<Problem> = [...found.problems]
    const planned: Array<Planned> = []
    const due = yield* EventLoop.pace
    const plans: Array<Effect.Effect<Planned, PlanProblems | ConfigError, FileSystem.FileSystem | Path.Path>> = [
      ...found.catalogs.map((f, i) => stacProduct(input, tree, f, i === found.catalogs.length - 1 && found.products.length === 0)),
      ...found.products.map((d) =>
        Effect.map(classicProduct(input, tree, d), (product): Planned => ({ product, keys: product.documents.map((r) => ({ id: r.id, index: r.index })) }))
      )
    ]
    for (const plan of plans) {
      if (due()) yield* EventLoop.turn
      const outcome = yield* Effect.either(plan)
      if (Either.isRight(outcome)) planned.push(outcome.right)
      else if (outcome.left._tag === "PlanProblems") problems.push(...outcome.left.problems)
      else return yield* Effect.fail(outcome.left)
    }
    problems.push(...crossChecks(planned))
    const products = planned.map((p) => p.product)
    if (problems.length > 0) return yield* planProblems(problems)
    return {
      jobDir: input.jobDir,
      job: input.job,
      products,
      skipped: found.skipped,
      warnings: products.flatMap((p) => p.warnings),
      totals: {
        products: products.length,
        collections: sum(products, collectionCount),
        items: sum(products, itemCount),
        documents: sum(products, documentCount),
        files: sum(products, fileCount),
        bytes: sum(products, (p) => p.bytes)
      }
    }
  }).pipe(
    // The one place planning reports: every product's problems and the cross-product ones together.
    Effect.catchTag("PlanProblems", ({ problems }) =>
      Effect.fail(
        new ValidationError({
          message: `the job in ${input.jobDir} is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was published`,
          problems,
          hint: "fix the files named above and run the ingest again"
        })
      )
    )
  )
