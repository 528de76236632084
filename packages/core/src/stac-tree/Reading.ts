/**
 * The state one read of a STAC tree shares between its checks: where the
 * catalog is, the problems found so far, and what the walk learned about each
 * document.
 *
 * Why one shared, mutable list of problems: validation never stops at the first
 * problem (a user fixing a catalog wants the whole list at once), and the list
 * is reported in the order the checks met the problems, so every check appends
 * to the same list through `report` rather than returning its own.
 *
 * Why both the catalog dir and its real path: the dir as named is what gets
 * published and what messages are relative to; its real path is what a
 * target's real path must stay inside, so a symlink cannot lead out.
 */
import type { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import type { Problem } from "../Errors.ts"
import type * as Stac from "../Stac.ts"
import * as Interned from "../Interned.ts"
import * as TreeIndex from "../TreeIndex.ts"
import type { Warning } from "../Warning.ts"
import type { Extent } from "./Extents.ts"
import type { Visits } from "../Visits.ts"

export interface Reading {
  readonly fs: FileSystem.FileSystem
  readonly path: Path.Path
  /** The planning walk's index: every stat, realpath and read of the tree is asked of it. */
  readonly tree: TreeIndex.TreeIndex
  /** The root document, absolute. */
  readonly rootAbs: string
  /** The root document's directory as named: what gets published. */
  readonly rootDir: string
  /** The same after symlinks: where every target's real path must lie. */
  readonly realRootDir: string
  /** Every problem found so far, in the order found. */
  readonly problems: Array<Problem>
  readonly report: (file: string, jsonPath: string, message: string) => void
  /** What does not stop the ingest (a migrated document, an unchecked extension), in the order found. */
  readonly warnings: Array<Warning>
  readonly warn: (file: string, jsonPath: string, message: string) => void
  /** A path as messages show it: relative to the catalog dir, `/`-separated. */
  readonly rel: (abs: string) => string
}

export const make = (fs: FileSystem.FileSystem, path: Path.Path, tree: TreeIndex.TreeIndex, rootFile: string): Effect.Effect<Reading> =>
  Effect.gen(function* () {
    const rootAbs = path.resolve(rootFile)
    const rootDir = path.dirname(rootAbs)
    const realRootDir = (yield* tree.resolve(rootDir))?.real ?? rootDir
    const problems: Array<Problem> = []
    const warnings: Array<Warning> = []
    const below = rootDir === "/" ? "/" : `${rootDir}/`
    return {
      fs,
      path,
      tree,
      rootAbs,
      rootDir,
      realRootDir,
      problems,
      report: (file, jsonPath, message) => void problems.push({ file, path: jsonPath, message }),
      warnings,
      warn: (file, jsonPath, message) => void warnings.push({ file, path: jsonPath, message }),
      // A normalized path below the dir is the rest of it, as a slice (which shares the path's characters
      // rather than copying them: every item of a catalog keeps its relative path); anything else goes
      // through path.relative.
      rel: (abs) =>
        abs.length > below.length && abs.startsWith(below) && !abs.endsWith("/") && path.normalize(abs) === abs
          ? abs.slice(below.length)
          : path.relative(rootDir, abs).split(path.sep).join("/")
    }
  })

/**
 * What the walk learned about one document; once the walk is over and every
 * check passed, the tree's node (StacTree), as it is.
 *
 * It keeps its path relative to the catalog dir only: its absolute path (and
 * its real path, the same string when no symlink is on the way) is made when
 * asked for, which is for a message, mostly, unless it is not the catalog dir
 * plus the relative path. Why: a catalog has a document per item, alive from
 * its visit to the plan's busiest point, and the absolute paths (about 150
 * bytes each) were the largest part of them; a node made from each at the end
 * of the walk held a relative path of its own beside them (measured, 100,000
 * items: absolute paths 14.6 MiB, the nodes 7.1 MiB and their paths 8.4 MiB,
 * all alive at once as the nodes were made).
 */
export class Visited {
  /** Relative to the catalog dir, with `/` separators. */
  readonly relPath: string
  readonly #dir: string
  /** Set only when the file is not `#dir` + "/" + `relPath`. */
  readonly #file: string | undefined
  /** Set only when the real path is not the file's path. */
  readonly #key: string | undefined
  /** The document's parent (absolute path): the one whose `child`/`item` link reached it. */
  readonly parent?: string
  /** For an item: the id of its collection, once the walk's graph is complete (StacTree). */
  collection?: string
  constructor(
    r: Pick<Reading, "rootDir" | "rel">,
    file: string,
    /** Its real path: two hrefs (or a symlink) naming the same document meet here. */
    key: string,
    /** The document as read (migrated when older); for an item, its outline (Outline.ts). */
    readonly json: Record<string, unknown>,
    readonly type: Stac.StacType | undefined,
    readonly id: string | undefined,
    parent: string | undefined,
    /** Nearest Collection above this document (through child/item links). */
    readonly owner: { readonly id: string; readonly file: string; readonly extent: Extent } | undefined
  ) {
    // A slice of `file` would keep all of it alive.
    this.relPath = Interned.detached(r.rel(file))
    this.#dir = r.rootDir
    this.#file = TreeIndex.isChildOf(file, r.rootDir, this.relPath) ? undefined : file
    this.#key = key === file ? undefined : key
    if (parent !== undefined) this.parent = parent
  }
  get file(): string {
    return this.#file ?? TreeIndex.childOf(this.#dir, this.relPath)
  }
  get key(): string {
    return this.#key ?? this.file
  }
}

/** A link whose check needs the whole tree (is its target a document of this tree?). */
export interface LateLink {
  readonly from: string
  readonly fromKey: string
  readonly fromType: Stac.StacType | undefined
  readonly index: number
  readonly rel: string
  readonly target: string
  readonly targetKey: string
}

/** The documents the walk reached and the links it left for later. */
export interface Graph {
  /** Real path of the root document. */
  readonly rootKey: string
  /** By real path (../Visits.ts). */
  readonly visited: Pick<Visits<Visited>, "get">
  /** Discovery order (depth-first, in link order), root first. */
  readonly order: ReadonlyArray<Visited>
  /** The late links that did not pass when the walk met them (LateLinks.ts). */
  readonly late: ReadonlyArray<LateLink>
  /** Item key → key of the target of its first `rel=collection` link, for items with no Collection above them. */
  readonly collectionLinks: ReadonlyMap<string, string>
}
