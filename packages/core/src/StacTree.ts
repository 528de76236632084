/**
 * Reading and validating a static STAC catalog tree as a job wrote it, before
 * anything is published. The tree is everything reachable from the root
 * `catalog.json`/`collection.json` through `child` and `item` links.
 *
 * Validation never stops at the first problem: a user fixing a catalog wants the
 * whole list at once, so every check records a `Problem` (file + JSON path +
 * message) and the read fails once, at the end, with a single `ValidationError`.
 *
 * Only local, relative hrefs that stay inside the root's directory are followed:
 * that directory is what gets published, so anything outside it (a `..` path, an
 * absolute path, a `file:` URL, a symlink out) would either leak local files or
 * publish a broken link.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import { type Problem, ValidationError } from "./Errors.ts"
import * as JsonFile from "./JsonFile.ts"
import { isInside, list, type ProductFile } from "./ProductFiles.ts"
import * as Stac from "./Stac.ts"
import { PGSTAC_RULES, type StacRules } from "./StacRegistry.ts"

export interface StacNode {
  /** Absolute path of the document. */
  readonly file: string
  /** Path relative to the root directory, with `/` separators. */
  readonly relPath: string
  readonly type: Stac.StacType
  readonly id: string
  /** The document exactly as read; never modified. */
  readonly json: Record<string, unknown>
  /** Absolute path of the document whose `child`/`item` link reached this one. */
  readonly parent?: string
  /** For items: the id of the collection the item belongs to. */
  readonly collection?: string
}

export interface StacTree {
  readonly rootFile: string
  readonly rootDir: string
  readonly root: StacNode
  /** Discovery order (depth-first, in link order), root first. */
  readonly nodes: ReadonlyArray<StacNode>
  readonly collections: ReadonlyArray<StacNode>
  readonly items: ReadonlyArray<StacNode>
  /** Every regular file under `rootDir`: what will be published. */
  readonly files: ReadonlyArray<ProductFile>
  /** Absolute paths of all STAC documents reached. */
  readonly reachable: ReadonlySet<string>
}

const ROOT_NAMES = ["catalog.json", "collection.json"]

/** Whether a file name (or path) names a STAC root document a job may ship. */
export const isStacRootCandidate = (fileName: string): boolean =>
  ROOT_NAMES.includes(fileName.split(/[\\/]/).pop() ?? "")

/** Links whose targets are part of this tree and must therefore be local and readable. */
const TREE_RELS = new Set(["root", "parent", "child", "item", "collection"])
const FOLLOWED_RELS = new Set(["child", "item"])

/** What a `child`/`item` link may point at. */
const EXPECTED: Record<string, ReadonlyArray<Stac.StacType>> = {
  child: ["Catalog", "Collection"],
  item: ["Feature"]
}

/** What we learned about one document while walking; frozen into a `StacNode` at the end. */
interface Visited {
  readonly file: string
  readonly key: string
  readonly json: Record<string, unknown>
  readonly type: Stac.StacType | undefined
  readonly id: string | undefined
  readonly parent: string | undefined
  /** Nearest Collection above this document (through child/item links). */
  readonly owner: { readonly id: string; readonly file: string } | undefined
}

/** A link whose check needs the whole tree (is its target a document of this tree?). */
interface LateLink {
  readonly from: string
  readonly fromKey: string
  readonly fromType: Stac.StacType | undefined
  readonly index: number
  readonly rel: string
  readonly target: string
  readonly targetKey: string
}

type Inspected =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Found"; readonly type: FileSystem.File.Type; readonly real: string }

const plural = (n: number) => `${n} problem${n === 1 ? "" : "s"}`

/**
 * Reads the catalog rooted at `rootFile` and everything reachable from it, and
 * validates it. Fails with one `ValidationError` listing every problem found.
 */
export const readTree = (
  rootFile: string,
  /** What the STAC registry refuses (ids, null geometry); pgstac's when no registry is at hand. */
  rules: StacRules = PGSTAC_RULES,
  /** The real job dir the catalog belongs to: the catalog dir's real path must lie inside it. */
  within?: string
): Effect.Effect<StacTree, ValidationError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const rootAbs = path.resolve(rootFile)
    const rootDir = path.dirname(rootAbs)
    const realRootDir = yield* fs.realPath(rootDir).pipe(Effect.orElseSucceed(() => rootDir))

    const problems: Array<Problem> = []
    const report = (file: string, jsonPath: string, message: string) => problems.push({ file, path: jsonPath, message })
    const rel = (abs: string) => path.relative(rootDir, abs).split(path.sep).join("/")

    /** stat + realpath, without ever opening the file (a fifo would block a read). */
    const inspect = (abs: string): Effect.Effect<Inspected> =>
      Effect.gen(function* () {
        const info = yield* fs.stat(abs).pipe(Effect.option)
        if (info._tag === "None") return { _tag: "Missing" } as const
        const real = yield* fs.realPath(abs).pipe(Effect.orElseSucceed(() => abs))
        return { _tag: "Found", type: info.value.type, real } as const
      })

    /**
     * Checks that an href is a relative path to an existing regular file inside the
     * root directory (also after symlinks). Returns the absolute and real paths when
     * it is, after reporting why when it is not. For a remote URL, `remoteOk` returns
     * the problem to report, or undefined when such a URL is fine there.
     */
    const checkHref = (
      from: string,
      jsonPath: string,
      href: string,
      what: string,
      isAsset: boolean,
      remoteOk: (scheme: string) => string | undefined
    ): Effect.Effect<{ readonly abs: string; readonly real: string } | undefined> =>
      Effect.gen(function* () {
        const kind = Stac.classifyHref(href)
        switch (kind._tag) {
          case "FileUrl":
            report(from, jsonPath, `${what} is a file: URL (${href}), which points at the local machine; use a path relative to the catalog`)
            return undefined
          case "AbsolutePath":
            report(from, jsonPath, `${what} is an absolute local path (${href}); use a path relative to the catalog`)
            return undefined
          case "Url": {
            const refusal = remoteOk(kind.scheme)
            if (refusal !== undefined) report(from, jsonPath, refusal)
            return undefined
          }
          case "Relative": {
            const abs = path.resolve(path.dirname(from), kind.path)
            if (!isInside(rootDir, abs)) {
              report(from, jsonPath, `${what} ${JSON.stringify(href)} resolves outside the catalog directory ${rootDir} (to ${abs})`)
              return undefined
            }
            const found = yield* inspect(abs)
            if (found._tag === "Missing") {
              report(
                from,
                jsonPath,
                isAsset
                  ? `${what} ${JSON.stringify(href)} names a missing file: ${rel(abs)} does not exist`
                  : `${what} ${JSON.stringify(href)} is dangling: ${rel(abs)} does not exist`
              )
              return undefined
            }
            if (!isInside(realRootDir, found.real)) {
              report(from, jsonPath, `${what} ${JSON.stringify(href)} is a symlink leading outside the catalog directory (to ${found.real})`)
              return undefined
            }
            if (found.type !== "File") {
              report(from, jsonPath, `${what} ${JSON.stringify(href)} is not a regular file (${found.type})`)
              return undefined
            }
            return { abs, real: found.real }
          }
        }
      })

    const visited = new Map<string, Visited>() // by real path
    const order: Array<Visited> = []
    const late: Array<LateLink> = []
    /** Document key → key of the target of its first `rel=collection` link. */
    const collectionLinks = new Map<string, string>()

    const visit = (
      file: string,
      key: string,
      via: { readonly from: string; readonly index: number; readonly rel: string } | undefined,
      owner: Visited["owner"],
      stack: ReadonlyArray<string>
    ): Effect.Effect<void, never, FileSystem.FileSystem> =>
      Effect.gen(function* () {
        // Links were checked to stay inside; this also covers the root document itself.
        const read = yield* JsonFile.read(file, { within: realRootDir }).pipe(Effect.either)
        if (read._tag === "Left") {
          problems.push(read.left)
          return
        }
        const json = read.right
        if (!JsonFile.isObject(json)) {
          report(file, "$", "expected a JSON object (a STAC Catalog, Collection or Item)")
          return
        }
        const decoded = Stac.decode(json)
        if (decoded._tag === "Left") for (const i of decoded.left) report(file, i.path, i.message)

        const type = Stac.STAC_TYPES.find((t) => t === json["type"])
        const id = typeof json["id"] === "string" ? json["id"] : undefined
        if (via !== undefined && type !== undefined) {
          const expected = EXPECTED[via.rel] ?? []
          if (!expected.includes(type)) {
            report(
              via.from,
              `$.links[${via.index}].href`,
              `${via.rel} link points at a ${type} (${rel(file)}); expected ${expected.join(" or ")}`
            )
          }
        }
        if (via === undefined && type === "Feature") {
          report(file, "$.type", "the root document must be a Catalog or Collection, not an Item")
        }

        const self: Visited = { file, key, json, type, id, parent: via?.from, owner }
        visited.set(key, self)
        order.push(self)
        if (type === "Feature") checkItemCollection(self, via)

        const childOwner = type === "Collection" && id !== undefined ? { id, file } : owner
        const here = [...stack, key]
        const links = Array.isArray(json["links"]) ? json["links"] : []
        for (let index = 0; index < links.length; index++) {
          const link: unknown = links[index]
          if (!JsonFile.isObject(link) || typeof link["href"] !== "string") continue // schema reports it
          const relName = typeof link["rel"] === "string" ? link["rel"] : ""
          const jsonPath = `$.links[${index}].href`
          const href = link["href"]
          // Remote `self` and non-tree links (license, via, ...) are metadata; tree links
          // to a foreign catalog cannot be followed, so its documents would go unchecked.
          const target = yield* checkHref(file, jsonPath, href, `${relName || "link"} href`, false, () =>
            TREE_RELS.has(relName)
              ? `${relName} link points at a remote document (${href}); only a local catalog can be read, so it cannot be validated or published; make it a relative path inside the catalog`
              : undefined
          )
          if (target === undefined) continue
          if (FOLLOWED_RELS.has(relName)) {
            // Items are leaves: a child/item link on one is not part of the tree.
            if (type === "Feature") continue
            const cycleStart = here.indexOf(target.real)
            if (cycleStart >= 0) {
              const cycle = [...here.slice(cycleStart), target.real].map((k) => rel(visited.get(k)?.file ?? k))
              report(file, jsonPath, `link cycle: ${cycle.join(" → ")}`)
              continue
            }
            const seen = visited.get(target.real)
            if (seen !== undefined) {
              report(
                file,
                jsonPath,
                `${rel(target.abs)} is reached twice through child/item links (already linked from ${seen.parent ? rel(seen.parent) : "the root"}); each document must have a single parent`
              )
              continue
            }
            yield* visit(target.abs, target.real, { from: file, index, rel: relName }, childOwner, here)
          } else if (TREE_RELS.has(relName)) {
            late.push({ from: file, fromKey: key, fromType: type, index, rel: relName, target: target.abs, targetKey: target.real })
            if (relName === "collection" && !collectionLinks.has(key)) collectionLinks.set(key, target.real)
          }
        }

        yield* checkAssets(file, json)
      })

    /** Assets: relative ones are shipped with the catalog, so they must exist inside it. */
    const checkAssets = (file: string, json: Record<string, unknown>): Effect.Effect<void> =>
      Effect.gen(function* () {
        const assets = json["assets"]
        if (!JsonFile.isObject(assets)) return
        for (const [name, asset] of Object.entries(assets)) {
          if (!JsonFile.isObject(asset) || typeof asset["href"] !== "string") continue // schema reports it
          const href = asset["href"]
          yield* checkHref(file, `${Stac.jsonPath(["assets", name, "href"])}`, href, `asset ${JSON.stringify(name)} href`, true, (scheme) =>
            Stac.REMOTE_ASSET_SCHEMES.includes(scheme)
              ? undefined
              : `asset ${JSON.stringify(name)} uses an unsupported URL scheme "${scheme}:" (${href}); use a relative path or one of ${Stac.REMOTE_ASSET_SCHEMES.map((s) => s + ":").join(", ")}`
          )
        }
      })

    /** STAC: an item's `collection` field exists iff it has a `rel=collection` link, and
     * names the collection it belongs to. Link-target checks happen in `checkLate`. */
    const checkItemCollection = (item: Visited, via: { readonly from: string } | undefined) => {
      const field = item.json["collection"]
      const links = Array.isArray(item.json["links"]) ? item.json["links"] : []
      const linkIndex = links.findIndex((l) => JsonFile.isObject(l) && l["rel"] === "collection")
      if (field !== undefined && linkIndex < 0) {
        report(item.file, "$.collection", `is ${JSON.stringify(field)} but the item has no rel=collection link; STAC requires both or neither`)
      }
      if (field === undefined && linkIndex >= 0) {
        report(item.file, `$.links[${linkIndex}]`, "the item has a rel=collection link but no collection field; STAC requires both or neither")
      }
      if (item.owner !== undefined) {
        const from = item.owner.file === via?.from ? "" : " (through a sub-catalog)"
        if (field === undefined) {
          report(item.file, "$.collection", `is missing, but the item is reached from collection "${item.owner.id}" (${rel(item.owner.file)})${from}`)
        } else if (field !== item.owner.id) {
          report(item.file, "$.collection", `is ${JSON.stringify(field)}, but the item is reached from collection "${item.owner.id}" (${rel(item.owner.file)})${from}`)
        }
      }
    }

    /** Checks of root/parent/collection links, which need to know every document of the tree. */
    const checkLate = (link: LateLink) => {
      const jsonPath = `$.links[${link.index}].href`
      const target = visited.get(link.targetKey)
      switch (link.rel) {
        case "root":
          if (link.targetKey !== rootKey) {
            report(link.from, jsonPath, `root link points at ${rel(link.target)}, not at the root document ${rel(rootAbs)}`)
          }
          return
        case "parent":
          if (target === undefined) {
            report(link.from, jsonPath, `parent link points at ${rel(link.target)}, which is not a document of this catalog tree`)
          }
          return
        case "collection": {
          if (target === undefined || target.type !== "Collection") {
            report(
              link.from,
              jsonPath,
              `collection link points at ${rel(link.target)}, which is not a Collection of this catalog tree`
            )
            return
          }
          const field = visited.get(link.fromKey)?.json["collection"]
          if (link.fromType === "Feature" && typeof field === "string" && target.id !== undefined && field !== target.id) {
            report(link.from, "$.collection", `is "${field}", but the rel=collection link points at collection "${target.id}" (${rel(target.file)})`)
          }
          return
        }
      }
    }

    // --- walk -------------------------------------------------------------
    const rootKey = yield* fs.realPath(rootAbs).pipe(Effect.orElseSucceed(() => rootAbs))
    yield* visit(rootAbs, rootKey, undefined, undefined, [])
    for (const link of late) checkLate(link)

    // --- ids --------------------------------------------------------------
    const collectionOf = (v: Visited): string | undefined => {
      if (v.type !== "Feature") return undefined
      if (v.owner !== undefined) return v.owner.id
      const linked = collectionLinks.get(v.key)
      const target = linked === undefined ? undefined : visited.get(linked)
      if (target?.type === "Collection" && target.id !== undefined) return target.id
      return typeof v.json["collection"] === "string" ? v.json["collection"] : undefined
    }
    const collectionIds = new Map<string, string>()
    const itemIdsByCollection = new Map<string, Map<string, string>>()
    const itemIds = new Map<string, { readonly file: string; readonly collection: string | undefined }>()
    for (const v of order) {
      if (v.id === undefined) continue
      // Collections and items are what the registry stores: refuse here what it would refuse
      // half-way through a publish.
      if (v.type === "Collection" || v.type === "Feature") {
        const refused = Stac.idProblem(v.id, rules)
        if (refused !== undefined) report(v.file, "$.id", `${refused}; rename the ${v.type === "Feature" ? "item" : "collection"}`)
      }
      if (v.type === "Feature" && rules.geometryRequired && v.json["geometry"] === null) {
        report(v.file, "$.geometry", "is null, but the STAC registry (pgstac) requires every item to have a geometry; give the item its footprint (or at least a point)")
      }
      if (v.type === "Collection") {
        const first = collectionIds.get(v.id)
        if (first !== undefined) report(v.file, "$.id", `duplicate collection id "${v.id}" (also used by ${rel(first)}); collection ids must be unique under the root`)
        else collectionIds.set(v.id, v.file)
      } else if (v.type === "Feature") {
        const collection = collectionOf(v)
        const inCollection = collection === undefined ? undefined : (itemIdsByCollection.get(collection) ?? new Map<string, string>())
        const first = inCollection?.get(v.id)
        if (collection !== undefined && inCollection !== undefined && first !== undefined) {
          report(v.file, "$.id", `duplicate item id "${v.id}" in collection "${collection}" (also used by ${rel(first)})`)
          continue
        }
        if (collection !== undefined && inCollection !== undefined) {
          inCollection.set(v.id, v.file)
          itemIdsByCollection.set(collection, inCollection)
        }
        const global = itemIds.get(v.id)
        if (global !== undefined) {
          report(
            v.file,
            "$.id",
            `item id "${v.id}" is also used by ${rel(global.file)}${global.collection ? ` in collection "${global.collection}"` : ""}; GRQ needs item ids unique across the whole catalog`
          )
        } else itemIds.set(v.id, { file: v.file, collection })
      }
    }

    // --- files ------------------------------------------------------------
    const listed = yield* list(rootDir, rootDir, within)
    problems.push(...listed.problems)

    const rootVisited = visited.get(rootKey)
    if (problems.length > 0 || rootVisited === undefined) {
      return yield* Effect.fail(
        new ValidationError({
          message: `STAC catalog ${rootAbs} is invalid (${plural(problems.length)})`,
          problems,
          hint: `each problem names the file and the JSON path; hrefs must be relative paths inside the catalog directory (assets may also be ${Stac.REMOTE_ASSET_SCHEMES.join("/")} URLs)`
        })
      )
    }

    const nodes = order.flatMap((v): Array<StacNode> => {
      if (v.type === undefined || v.id === undefined) return []
      const collection = collectionOf(v)
      return [
        {
          file: v.file,
          relPath: rel(v.file),
          type: v.type,
          id: v.id,
          json: v.json,
          ...(v.parent !== undefined ? { parent: v.parent } : {}),
          ...(collection !== undefined ? { collection } : {})
        }
      ]
    })
    return {
      rootFile: rootAbs,
      rootDir,
      root: nodes[0]!,
      nodes,
      collections: nodes.filter((n) => n.type === "Collection"),
      items: nodes.filter((n) => n.type === "Feature"),
      files: listed.files,
      reachable: new Set(nodes.map((n) => n.file))
    }
  })
