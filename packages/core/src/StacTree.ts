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
import { ValidationError } from "./Errors.ts"
import * as EventLoop from "./EventLoop.ts"
import * as JobTree from "./JobTree.ts"
import { list, type ProductFile } from "./ProductFiles.ts"
import * as Stac from "./Stac.ts"
import type { Warning } from "./Warning.ts"
import { PGSTAC_RULES, type StacRules } from "./StacRegistry.ts"
import * as Extents from "./stac-tree/Extents.ts"
import * as Ids from "./stac-tree/Ids.ts"
import { collectionOf } from "./stac-tree/ItemCollection.ts"
import * as LateLinks from "./stac-tree/LateLinks.ts"
import * as Reading from "./stac-tree/Reading.ts"
import * as Walk from "./stac-tree/Walk.ts"
import * as TreeIndex from "./TreeIndex.ts"

export interface StacNode {
  /** Absolute path of the document. */
  readonly file: string
  /** Path relative to the root directory, with `/` separators. */
  readonly relPath: string
  readonly type: Stac.StacType
  readonly id: string
  /**
   * The document as read, migrated to STAC 1.1.0 when it was older (StacMigrate);
   * the file itself is never modified. Only its outline (stac-tree/Outline.ts):
   * for an item the fields later checks read (a catalog may hold 100,000 of
   * them), for a catalog or collection all but its links.
   */
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
  /** Absolute paths of all STAC documents reached: made when asked for (a Set of 100,000 paths is about 17 MiB). */
  readonly reachable: ReadonlySet<string>
  /** Documents migrated from an older STAC, extensions declared but not checked. */
  readonly warnings: ReadonlyArray<Warning>
}

const ROOT_NAMES = ["catalog.json", "collection.json"]

/** Whether a file name (or path) names a STAC root document a job may ship. */
export const isStacRootCandidate = (fileName: string): boolean =>
  ROOT_NAMES.includes(fileName.split(/[\\/]/).pop() ?? "")

const plural = (n: number) => `${n} problem${n === 1 ? "" : "s"}`

/** A document the tree has a node for: one with a STAC type and an id. */
const isNode = (v: Reading.Visited): v is Reading.Visited & StacNode => v.type !== undefined && v.id !== undefined

/**
 * The walk and the checks that need its whole graph, then the tree's nodes
 * (none once a problem is found). Its own function so that the graph (a record
 * per document, by path) is let go before the files are listed: on a catalog
 * of 100,000 items, both at once were a plan's busiest point.
 */
const documents = (r: Reading.Reading, rules: StacRules) =>
  Effect.gen(function* () {
    const due = yield* EventLoop.pace
    const graph = yield* Walk.walk(r)
    LateLinks.check(r, graph)
    Ids.check(r, graph, rules)
    const rootFound = graph.visited.get(graph.rootKey) !== undefined
    const nodes: Array<StacNode> = []
    if (r.problems.length > 0 || !rootFound) return { nodes, rootFound }
    // The walk's records become the nodes, as they are (see Reading.Visited).
    for (let i = 0; i < graph.order.length; i++) {
      if (due()) yield* EventLoop.turn
      const v = graph.order[i]!
      if (!isNode(v)) continue
      const collection = collectionOf(graph, v)
      if (collection !== undefined) v.collection = collection
      nodes.push(v)
    }
    return { nodes, rootFound }
  })

/**
 * Reads the catalog rooted at `rootFile` and everything reachable from it, and
 * validates it. Fails with one `ValidationError` listing every problem found.
 *
 * The checks live in `stac-tree/`, one concern per module, all appending to one
 * list of problems (Reading.ts): the walk of the link graph with its cycles and
 * second parents (Walk.ts), each href against the catalog dir (Hrefs.ts), assets
 * (Assets.ts), an item's collection (ItemCollection.ts), the links that need the
 * whole tree (LateLinks.ts), ids (Ids.ts); then the files under the catalog dir,
 * against the job dir. Items outside their collection's extent are warnings
 * (Extents.ts), not problems.
 */
export const readTree = (
  rootFile: string,
  /** What the STAC registry refuses (ids, null geometry); pgstac's when no registry is at hand. */
  rules: StacRules = PGSTAC_RULES,
  /** The real job dir the catalog belongs to: the catalog dir's real path must lie inside it. */
  within?: string,
  /** The planning walk's index of the job dir; built here (from the catalog dir) when absent. */
  given?: TreeIndex.TreeIndex
): Effect.Effect<StacTree, ValidationError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const catalogDir = path.dirname(path.resolve(rootFile))
    const tree = given ?? (yield* TreeIndex.scan(yield* JobTree.current, yield* fs.realPath(catalogDir).pipe(Effect.orElseSucceed(() => catalogDir))))
    const r = yield* Reading.make(fs, path, tree, rootFile)
    const { rootAbs, rootDir, problems } = r

    const due = yield* EventLoop.pace
    const { nodes, rootFound } = yield* documents(r, rules)

    const listed = yield* list(rootDir, rootDir, within, tree)
    problems.push(...listed.problems)

    if (problems.length > 0 || !rootFound) {
      return yield* Effect.fail(
        new ValidationError({
          message: `STAC catalog ${rootAbs} is invalid (${plural(problems.length)})`,
          problems,
          hint: `each problem names the file and the JSON path; hrefs must be relative paths inside the catalog directory (assets may also be ${Stac.REMOTE_ASSET_SCHEMES.join("/")} URLs)`
        })
      )
    }

    // Items outside their collection's extent: warnings, published anyway.
    yield* Extents.check(r, nodes)
    if (due()) yield* EventLoop.turn
    return {
      rootFile: rootAbs,
      rootDir,
      root: nodes[0]!,
      nodes,
      collections: nodes.filter((n) => n.type === "Collection"),
      items: nodes.filter((n) => n.type === "Feature"),
      files: listed.files,
      get reachable() {
        return new Set(nodes.map((n) => n.file))
      },
      warnings: r.warnings
    }
  })
