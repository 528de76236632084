/**
 * The files of a product directory, as they will be published. Walking happens
 * before anything is published so that a symlink escaping the job, a device
 * file or a socket is reported up front instead of half-way through an upload.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Either, Option } from "effect"
import * as Confine from "./Confine.ts"
import * as EventLoop from "./EventLoop.ts"
import type { Problem } from "./Errors.ts"
import * as JobTree from "./JobTree.ts"
import type { EntryInfo } from "./JobTree.ts"
import * as TreeIndex from "./TreeIndex.ts"
import type { FileIdentity } from "./ObjectStore.ts"
import { Visits } from "./Visits.ts"

export interface ProductFile {
  /** Path relative to the product directory, with `/` separators. */
  readonly relPath: string
  /** Absolute path on disk (the link's own path when it is a symlink inside the tree). */
  readonly absPath: string
  /** The real path (no symlink in it): what the store opens, no-follow. */
  readonly realPath: string
  readonly size: number
  /** From the stat of `realPath`: the store refuses a file that no longer matches it. */
  readonly identity: FileIdentity
}

/** Where a listing started: the dir as named (normalized) and its real path. Shared by every file of the listing. */
interface Roots {
  readonly abs: string
  readonly real: string
}

/**
 * A listed file, kept small: a catalog lists hundreds of thousands, all held
 * until its plan is made. Its absolute path is the listed dir's plus its
 * relative path, made when asked for; so is its real path, unless a symlink on
 * the way makes it another (then it is kept); its identity is kept as numbers
 * (the stat of its real path), made into an object when asked for.
 */
class Listed implements ProductFile {
  readonly size: number
  readonly dev: number
  readonly ino: number | undefined
  readonly mtimeMs: number | undefined
  constructor(
    readonly relPath: string,
    private readonly roots: Roots,
    info: EntryInfo,
    /** Set only when the real path is not the listing's real root plus `relPath`. */
    private readonly ownReal: string | undefined
  ) {
    this.size = info.size
    this.dev = info.dev
    this.ino = info.ino
    this.mtimeMs = info.mtimeMs
  }
  get identity(): FileIdentity {
    return Confine.identityOfEntry(this)
  }
  get absPath(): string {
    return this.relPath === "" ? this.roots.abs : TreeIndex.childOf(this.roots.abs, this.relPath)
  }
  get realPath(): string {
    return this.ownReal ?? TreeIndex.childOf(this.roots.real, this.relPath)
  }
}

/**
 * An entry waiting its turn in `list`'s walk. One that is not a symlink comes
 * with its lstat from its directory's listing (`info`), whether its directory's
 * real path is the listed dir's plus its relative path (`straight`, and then so
 * is its own), and its real path when it is not that or it is a directory.
 */
type Pending =
  | { readonly abs: string; readonly rel: string; readonly info?: undefined }
  | { readonly abs: string; readonly rel: string; readonly info: EntryInfo; readonly real: string | undefined; readonly straight: boolean }

/** True when `child` is `root` itself or lies below it. Both must be normalized absolute paths. */
export const isInside = Confine.isInside

/**
 * Lists every file under `dir`, sorted by relative path. A symlink is followed only
 * when its target stays inside `boundary` (the product or catalog directory);
 * one pointing elsewhere, a loop, or anything but a regular file or directory is
 * a Problem. With `within` (the real job dir), the boundary's own real path must
 * lie inside it too: a product dir swapped for a link out after discovery is
 * caught here. All problems are collected; the walk itself never fails.
 */
export const list = (
  dir: string,
  boundary: string = dir,
  within?: string,
  /** The planning walk's index of the job dir; built here (from the boundary) when absent. */
  given?: TreeIndex.TreeIndex
): Effect.Effect<
  { readonly files: ReadonlyArray<ProductFile>; readonly problems: ReadonlyArray<Problem> },
  never,
  FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const files: Array<ProductFile> = []
    const problems: Array<Problem> = []
    const tree = given ?? (yield* TreeIndex.scan(yield* JobTree.current, yield* fs.realPath(boundary).pipe(Effect.orElseSucceed(() => boundary))))
    const resolvedBoundary = Option.map(Option.fromNullable(yield* tree.resolve(boundary)), (r) => r.real)
    if (resolvedBoundary._tag === "None") {
      problems.push({ file: boundary, path: "", message: "broken symlink or unreadable directory" })
      return { files, problems }
    }
    const root = resolvedBoundary.value
    if (within !== undefined && !isInside(within, root)) {
      problems.push({
        file: boundary,
        path: "",
        message: `symlink points outside the job dir ${within} (to ${root}); only links inside the job dir are followed`
      })
      return { files, problems }
    }
    const due = yield* EventLoop.pace
    // Real directories already entered: a symlink back up the tree would loop forever. Kept by the
    // index's entry number (Visits.ts): a catalog may have 100,000 directories.
    const entered = new Visits<true>(tree)

    // Depth-first in sorted order, as a stack rather than an Effect per entry:
    // a catalog has hundreds of thousands of files and the index answers
    // nearly every one without the file system.
    // Only `dir` itself may be named unnormalized (a trailing `/`); below it every path is made normalized.
    const roots: Roots = { abs: path.join(dir, "."), real: root }
    const stack: Array<Pending> = [{ abs: dir, rel: "" }]
    while (stack.length > 0) {
      const pending = stack.pop()!
      const { abs, rel } = pending
      // realpath and stat once per entry, the stat of the REAL path: that is the
      // file whose identity the store checks before publishing it. An entry that
      // is not a symlink came with its directory's listing: its lstat is that stat
      // and its real path is its directory's plus its name. Only the others (the
      // dir itself, symlinks) are resolved, from the index (a realpath per symlink).
      let real: string | undefined
      let info: EntryInfo
      let straight: boolean
      if (pending.info !== undefined) {
        info = pending.info
        real = pending.real
        straight = pending.straight
      } else {
        const known = tree.known(abs)
        const resolved = Confine.insideOf(known === TreeIndex.Unknown ? yield* tree.resolve(abs) : known, abs, root, "the product or catalog dir")
        if (Either.isLeft(resolved)) {
          problems.push(resolved.left)
          continue
        }
        real = resolved.right.real
        info = resolved.right.info
        straight = rel === "" ? real === root : TreeIndex.isChildOf(real, root, rel)
      }
      if (info.type === "Directory") {
        const dirReal = real!
        if (entered.get(dirReal)) {
          problems.push({ file: abs, path: "", message: "directory symlink loop" })
          continue
        }
        entered.set(dirReal, true)
        if (due()) yield* EventLoop.turn
        const listing = yield* tree.list(dirReal)
        const names = listing?.names ?? []
        const named = abs === dir ? roots.abs : abs
        for (let i = names.length - 1; i >= 0; i--) {
          const name = names[i]!
          const child = { abs: TreeIndex.childOf(named, name), rel: rel ? `${rel}/${name}` : name }
          const childInfo = listing!.infoAt(i)
          // A link is resolved when its turn comes; a plain entry's real path is made only when it is
          // needed (a directory's, to list it; a file's when its directory is not root + its path).
          if (childInfo.type === "SymbolicLink") stack.push(child)
          else {
            const childReal = childInfo.type === "Directory" || !straight ? TreeIndex.childOf(dirReal, name) : undefined
            stack.push({ ...child, info: childInfo, real: childReal, straight })
          }
        }
      } else if (info.type === "File") {
        // The index's stat of the file (of its target, for a symlink) is its identity. `dir` itself
        // being a file has no relative path: it keeps its real path, as one under a symlink does.
        files.push(new Listed(rel, rel === "" ? { abs, real: real! } : roots, info, rel !== "" && straight ? undefined : real))
      } else {
        problems.push({ file: abs, path: "", message: `not a regular file (${info.type})` })
      }
    }
    return { files, problems }
  })
