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
 * A directory being listed by `list`: its entries are taken one at a time, so
 * the walk holds a frame per open directory, not an entry per name. Why: a
 * catalog directory with 100,000 item directories held 100,000 waiting entries
 * (absolute, real and relative paths and a stat each: 38 MiB, measured) at
 * the plan's busiest point.
 */
interface Frame {
  /** The directory as named (normalized) and its path relative to the listed dir. */
  readonly named: string
  readonly rel: string
  readonly real: string
  /** Whether `real` is the listed dir's real path plus `rel` (then so is every plain entry's below). */
  readonly straight: boolean
  readonly listing: TreeIndex.Listing | undefined
  next: number
}

/** `parent`'s child `name`, or `parent` itself. */
const pathOf = (parent: string, name: string | undefined): string => (name === undefined ? parent : TreeIndex.childOf(parent, name))

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
    const stack: Array<Frame> = []

    // realpath and stat once per entry, the stat of the REAL path: that is the file whose
    // identity the store checks before publishing it. `real` is made for a directory (to
    // list it) or when the entry does not lie straight below the root; `abs` only when asked.
    // A plain function, not an Effect: it runs for every entry. Its path is `pathOf(parent, name)`,
    // made only when needed. A directory comes back, to be entered.
    const place = (parent: string, name: string | undefined, rel: string, real: string | undefined, info: EntryInfo, straight: boolean) => {
      if (info.type === "Directory") {
        if (entered.get(real!)) {
          problems.push({ file: pathOf(parent, name), path: "", message: "directory symlink loop" })
          return undefined
        }
        entered.set(real!, true)
        return { named: rel === "" ? roots.abs : pathOf(parent, name), rel, real: real!, straight }
      }
      if (info.type === "File") {
        // The index's stat of the file (of its target, for a symlink) is its identity. `dir` itself
        // being a file has no relative path: it keeps its real path, as one under a symlink does.
        files.push(new Listed(rel, rel === "" ? { abs: parent, real: real! } : roots, info, rel !== "" && straight ? undefined : real))
      } else {
        problems.push({ file: pathOf(parent, name), path: "", message: `not a regular file (${info.type})` })
      }
      return undefined
    }
    const enter = (d: Omit<Frame, "listing" | "next"> | undefined) =>
      Effect.gen(function* () {
        if (d === undefined) return
        if (due()) yield* EventLoop.turn
        stack.push({ ...d, listing: yield* tree.list(d.real), next: 0 })
      })
    // The dir itself and symlinks are resolved, from the index (a realpath per symlink).
    const resolved = (abs: string, rel: string) =>
      Effect.map(Effect.suspend(() => {
        const known = tree.known(abs)
        return known === TreeIndex.Unknown ? tree.resolve(abs) : Effect.succeed(known)
      }), (found) => {
        const inside = Confine.insideOf(found, abs, root, "the product or catalog dir")
        if (Either.isLeft(inside)) {
          problems.push(inside.left)
          return undefined
        }
        const real = inside.right.real
        return place(abs, undefined, rel, real, inside.right.info, rel === "" ? real === root : TreeIndex.isChildOf(real, root, rel))
      })

    yield* enter(yield* resolved(dir, ""))
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!
      const names = frame.listing?.names ?? []
      if (frame.next >= names.length) {
        stack.pop()
        continue
      }
      const i = frame.next++
      const name = names[i]!
      const rel = frame.rel ? `${frame.rel}/${name}` : name
      const info = frame.listing!.infoAt(i)
      // A plain entry comes with its directory's listing: its lstat is its stat, and its real
      // path is its directory's plus its name.
      if (info.type === "SymbolicLink") yield* enter(yield* resolved(TreeIndex.childOf(frame.named, name), rel))
      else {
        const real = info.type === "Directory" || !frame.straight ? TreeIndex.childOf(frame.real, name) : undefined
        const d = place(frame.named, name, rel, real, info, frame.straight)
        if (d !== undefined) yield* enter(d)
      }
    }
    return { files, problems }
  })
