/**
 * One walk of a job tree, kept as an index that every check of planning asks
 * instead of the file system: discovery (Discovery), the links and assets of a
 * STAC catalog (stac-tree/Hrefs), the files a product publishes (ProductFiles)
 * and the metadata it reads (JsonFile).
 *
 * Why: those checks used to walk the tree three times, with about 18 stats and
 * 13 realpaths per item. The index lists each real directory once (through the
 * JobTree port, one call per directory) with the lstat of every entry, so the
 * kind, size and identity of a file are known without another call, and the
 * real path of an entry that is not a symlink is its real directory plus its
 * name; only a symlink costs a realpath (and a stat of its target), once.
 *
 * The confinement rules do not change (Confine.ts): the root is a real path,
 * resolved once; `resolve` answers exactly what realpath followed by a stat of
 * the real path would have answered when the tree was walked, and the callers
 * apply the same "inside" checks to that real path. The walk enters a linked
 * directory only when its real path lies inside the root, so it never follows a
 * link out; a path the index cannot answer (one that leads out through a link
 * and back, or lies outside the root) is asked of the file system itself. The
 * identities recorded here are what the store checks, no-follow, when it opens
 * each file to copy it (SourceFile): a file changed since is refused there.
 */
import { Effect } from "effect"
import * as Confine from "./Confine.ts"
import * as EventLoop from "./EventLoop.ts"
import type { DirEntry, EntryInfo, JobTreeShape, Resolved, TextRead } from "./JobTree.ts"

/** Files read per call to the port when a caller says which it will read next. */
export const READ_BATCH = 256

/** Resolved directories kept for the next questions (see `parents` in `scan`). */
const PARENTS_CACHED = 4096

/**
 * A directory's entries: names sorted (as every walk of planning visits them)
 * and the lstat of each at the same position. Two arrays rather than a Map per
 * directory: a catalog may put each of 100,000 items in a directory of its own,
 * and a Map costs several times the entries it holds of a small one.
 */
export interface Listing {
  readonly names: ReadonlyArray<string>
  readonly infos: ReadonlyArray<EntryInfo>
}

/** The lstat of `name` in a listing, by binary search over its sorted names. */
export const entryOf = (dir: Listing, name: string): EntryInfo | undefined => {
  let lo = 0
  let hi = dir.names.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const at = dir.names[mid]!
    if (at === name) return dir.infos[mid]
    if (at < name) lo = mid + 1
    else hi = mid - 1
  }
  return undefined
}

/** Sorted by name with the `<` of strings (UTF-16 code units), as Array.prototype.sort does by default. */
const listingOf = (listed: ReadonlyArray<DirEntry>): Listing => {
  const sorted = [...listed].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { names: sorted.map((e) => e.name), infos: sorted.map((e) => e.info) }
}

const UNREADABLE = "unreadable" as const
/** Queued for listing during the scan; no directory is left so once it ends. */
const PENDING = "pending" as const

/** Not answerable from the index: the file system must be asked (`resolve` does). */
export const Unknown: unique symbol = Symbol("TreeIndex.Unknown")
export type Known = Resolved | undefined | typeof Unknown
type Local = Known

/**
 * `path.join(dir, name)` for a directory entry's `name` (never holding `/`,
 * never `.` or `..`) in a normalized `dir`, as a concatenation: the walks
 * join hundreds of thousands of them, and every path they make this way (or
 * by path.join) is normalized in turn.
 */
export const childOf = (dir: string, name: string) => (dir === "/" ? `/${name}` : `${dir}/${name}`)

export interface TreeIndex {
  /** The real path the index was built from. */
  readonly root: string
  readonly port: JobTreeShape
  /** realpath of `abs` (absolute and normalized) and the stat of it; undefined when that would fail. */
  readonly resolve: (abs: string) => Effect.Effect<Resolved | undefined>
  /**
   * `resolve` answered from the index alone, without an Effect: `Unknown` when
   * only the file system can answer. Why: the checks of a 100,000-item catalog
   * ask this a million times, and an Effect per question was most of the plan.
   */
  readonly known: (abs: string) => Known
  /** Sorted entry names of a real directory, with the lstat of each; undefined when it cannot be read. */
  readonly list: (real: string) => Effect.Effect<Listing | undefined>
  /** The lstat of `abs` itself (a symlink is `SymbolicLink`), when the index holds its directory. */
  readonly own: (abs: string) => EntryInfo | undefined
  /**
   * Says which files (absolute paths as named) will be read next, in order:
   * `readText` then reads them from the port in batches of READ_BATCH rather
   * than one by one. A path that is not a regular file of the index is left out.
   */
  readonly expect: (files: ReadonlyArray<string>) => Effect.Effect<void>
  /** The text of a file (its real path), no-follow, at most `maxBytes`. */
  readonly readText: (real: string, maxBytes: number) => Effect.Effect<TextRead>
}

/**
 * Walks the tree under `root` (a real directory path) through `port`: each
 * real directory once, entering a linked directory only when its real path
 * lies inside `root`.
 */
export const scan = (port: JobTreeShape, root: string): Effect.Effect<TreeIndex> =>
  Effect.gen(function* () {
    const dirs = new Map<string, Listing | typeof UNREADABLE | typeof PENDING>()
    /** Symlinks by their own path (real directory + name): where each leads; undefined when broken. */
    const links = new Map<string, Resolved | undefined>()
    const rootResolved = yield* port.resolve(root)
    const rootInfo = rootResolved?.info

    const due = yield* EventLoop.pace
    const pending: Array<string> = []
    const enqueue = (real: string) => {
      if (dirs.has(real)) return
      dirs.set(real, PENDING)
      pending.push(real)
    }
    if (rootInfo?.type === "Directory") enqueue(root)
    while (pending.length > 0) {
      const dir = pending.pop()!
      if (due()) yield* EventLoop.turn
      const listed = yield* port.list(dir)
      if (listed === undefined) {
        dirs.set(dir, UNREADABLE)
        continue
      }
      dirs.set(dir, listingOf(listed))
      for (const e of listed) {
        const own = childOf(dir, e.name)
        if (e.info.type === "Directory") enqueue(own)
        else if (e.info.type === "SymbolicLink") {
          const target = yield* port.resolve(own)
          links.set(own, target)
          if (target !== undefined && target.info.type === "Directory" && Confine.isInside(root, target.real)) enqueue(target.real)
        }
      }
    }

    /** One step of realpath: `name` inside the resolved directory `parent`. */
    const step = (parent: Resolved, name: string): Local => {
      if (name === "" || name === "." || name === "..") return Unknown
      if (parent.info.type !== "Directory") return undefined // ENOTDIR
      const dir = dirs.get(parent.real)
      if (dir === undefined || dir === UNREADABLE || dir === PENDING) return Unknown
      const entry = entryOf(dir, name)
      if (entry === undefined) return undefined // ENOENT
      const own = childOf(parent.real, name)
      if (entry.type !== "SymbolicLink") return { real: own, info: entry }
      if (!links.has(own)) return Unknown
      return links.get(own) // undefined: broken, or a loop
    }
    /**
     * Directories as named, resolved once: every file of a directory shares the
     * answer. Bounded: the walks ask about one directory's files together, and a
     * cache of every directory of a 100,000-item catalog would be held to the end.
     */
    const parents = new Map<string, Local>()
    /** The directory asked about last: questions come a directory's files at a time, and this is checked without a new string. */
    let lastPath = ""
    let last: Local = Unknown
    /** Component by component, as realpath does; Unknown where the index has no answer. */
    const resolveLocal = (abs: string): Local => {
      if (rootInfo === undefined || !Confine.isInside(root, abs)) return Unknown
      if (abs === root) return { real: root, info: rootInfo }
      const slash = abs.lastIndexOf("/")
      let parent: Local
      if (slash > 0 && slash === lastPath.length && abs.startsWith(lastPath)) parent = last
      else {
        const parentPath = slash === 0 ? "/" : abs.slice(0, slash)
        parent = parents.get(parentPath)
        if (parent === undefined && !parents.has(parentPath)) {
          parent = resolveLocal(parentPath)
          if (parents.size >= PARENTS_CACHED) parents.clear()
          parents.set(parentPath, parent)
        }
        lastPath = parentPath
        last = parent
      }
      if (parent === Unknown || parent === undefined) return parent
      return step(parent, abs.slice(slash + 1))
    }

    // Batched reads: the files a caller said it will read, fetched READ_BATCH at a time.
    // A slot is emptied once its file is fetched: a collection expects all of its items at once (100,000
    // real paths), and those already read need not be held until the next `expect`.
    let upcoming: Array<string | undefined> = []
    let position = new Map<string, number>()
    const texts = new Map<string, { readonly text: TextRead; readonly maxBytes: number }>()

    const index: TreeIndex = {
      root,
      port,
      resolve: (abs) => {
        const local = resolveLocal(abs)
        return local === Unknown ? port.resolve(abs) : Effect.succeed(local)
      },
      known: resolveLocal,
      list: (real) => {
        const dir = dirs.get(real)
        if (dir === UNREADABLE) return Effect.succeed(undefined)
        if (dir !== undefined && dir !== PENDING) return Effect.succeed(dir)
        return Effect.map(port.list(real), (listed) => (listed === undefined ? undefined : listingOf(listed)))
      },
      own: (abs) => {
        const slash = abs.lastIndexOf("/")
        const parent = resolveLocal(slash === 0 ? "/" : abs.slice(0, slash))
        if (parent === Unknown || parent === undefined) return undefined
        const dir = dirs.get(parent.real)
        return dir === undefined || dir === UNREADABLE || dir === PENDING ? undefined : entryOf(dir, abs.slice(slash + 1))
      },
      expect: (files) =>
        Effect.gen(function* () {
          const reals: Array<string> = []
          for (let i = 0; i < files.length; i++) {
            if (due()) yield* EventLoop.turn
            const local = resolveLocal(files[i]!)
            if (local !== Unknown && local !== undefined && local.info.type === "File") reals.push(local.real)
          }
          upcoming = reals
          position = new Map(reals.map((r, i) => [r, i]))
        }),
      readText: (real, maxBytes) => {
        const cached = texts.get(real)
        if (cached !== undefined && cached.maxBytes === maxBytes) {
          texts.delete(real)
          return Effect.succeed(cached.text)
        }
        const at = position.get(real)
        if (at === undefined) return Effect.map(port.readTexts([real], maxBytes), (read) => read[0]!)
        // This file and the next ones expected, in one call; what is left of the batch is kept until read.
        const batch: Array<string> = []
        for (let i = at; i < Math.min(at + READ_BATCH, upcoming.length); i++) {
          const r = upcoming[i]
          if (r === undefined) continue
          upcoming[i] = undefined
          position.delete(r)
          if (r === real || !texts.has(r)) batch.push(r)
        }
        if (position.size === 0) {
          upcoming = []
          position = new Map()
        }
        return Effect.map(port.readTexts(batch, maxBytes), (read) => {
          batch.forEach((r, i) => {
            if (r !== real) texts.set(r, { text: read[i]!, maxBytes })
          })
          return read[0]!
        })
      }
    }
    return index
  })
