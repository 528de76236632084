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
import { byName, TreeEntries } from "./TreeEntries.ts"

/** Files read per call to the port when a caller says which it will read next. */
export const READ_BATCH = 256

/** Resolved directories kept for the next questions (see `parents` in `scan`). */
const PARENTS_CACHED = 4096

/**
 * A directory's entries: names sorted (as every walk of planning visits them)
 * and the lstat of the entry at each position, made when asked for (the index
 * keeps stats packed, TreeEntries).
 */
export interface Listing {
  readonly names: ReadonlyArray<string>
  readonly infoAt: (i: number) => EntryInfo
}

/** A listing the port gave, for a directory the index does not hold. */
const listingOf = (listed: ReadonlyArray<DirEntry>): Listing => {
  const sorted = byName(listed)
  return { names: sorted.map((e) => e.name), infoAt: (i) => sorted[i]!.info }
}

/** Not answerable from the index: the file system must be asked (`resolve` does). */
export const Unknown: unique symbol = Symbol("TreeIndex.Unknown")
export type Known = Resolved | undefined | typeof Unknown

/**
 * A path resolved inside the index, and the listed directory it is
 * (TreeEntries; -1 when none). The number is a private field, not a property:
 * callers get a Resolved whose fields are the real path and its stat, as the
 * port's answer has, without a second object made per question.
 */
class Node implements Resolved {
  readonly #dir: number
  constructor(
    readonly real: string,
    readonly info: EntryInfo,
    dir: number
  ) {
    this.#dir = dir
  }
  get dir(): number {
    return this.#dir
  }
}
type Local = Node | undefined | typeof Unknown

/**
 * `path.join(dir, name)` for a directory entry's `name` (never holding `/`,
 * never `.` or `..`) in a normalized `dir`, as a concatenation: the walks
 * join hundreds of thousands of them, and every path they make this way (or
 * by path.join) is normalized in turn.
 */
export const childOf = (dir: string, name: string) => (dir === "/" ? `/${name}` : `${dir}/${name}`)

/** Whether `path` is `childOf(dir, rel)`, checked without making that string. */
export const isChildOf = (path: string, dir: string, rel: string): boolean =>
  dir === "/"
    ? path.length === rel.length + 1 && path.charCodeAt(0) === 47 && path.endsWith(rel)
    : path.length === dir.length + 1 + rel.length && path.startsWith(dir) && path.charCodeAt(dir.length) === 47 && path.endsWith(rel)

export interface TreeIndex {
  /** The real path the index was built from. */
  readonly root: string
  /**
   * Lets go of everything the index holds, once no check will ask it again:
   * a later question goes to the file system, as one about a path the index
   * never walked does. Why: planning a large catalog holds the index, the
   * documents' outlines and the listed files at once, and the index is not
   * needed once the last product's files are listed.
   */
  readonly release: () => void
  readonly port: JobTreeShape
  /** realpath of `abs` (absolute and normalized) and the stat of it; undefined when that would fail. */
  readonly resolve: (abs: string) => Effect.Effect<Resolved | undefined>
  /**
   * `resolve` answered from the index alone, without an Effect: `Unknown` when
   * only the file system can answer. Why: the checks of a 100,000-item catalog
   * ask this a million times, and an Effect per question was most of the plan.
   */
  readonly known: (abs: string) => Known
  /**
   * The number of the entry at real path `real` (no symlink in it), from 0 to
   * `size` - 1; -1 when the index has no such entry (or has been released).
   * Why: a walk that keeps something per file keeps it in an array by this
   * number rather than a Map keyed by a path (about 170 bytes an entry).
   */
  readonly slot: (real: string) => number
  /** How many entries the index holds (0 once released). */
  readonly size: () => number
  /** Sorted entry names of a real directory, with the lstat of each; undefined when it cannot be read. */
  readonly list: (real: string) => Effect.Effect<Listing | undefined>
  /** The lstat of `abs` itself (a symlink is `SymbolicLink`), when the index holds its directory. */
  readonly own: (abs: string) => EntryInfo | undefined
  /**
   * Says which files (absolute paths as named) will be read next, in order:
   * `readText` then reads them from the port in batches of READ_BATCH rather
   * than one by one. A path that is not a regular file of the index is left out.
   * The paths are taken from `files` as the reads reach them, a batch or two
   * ahead: a collection's 100,000 item paths need never be made all at once.
   */
  readonly expect: (files: Iterable<string>) => Effect.Effect<void>
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
    let entries = new TreeEntries()
    /** Set by `release`: from then on every question goes to the port. */
    let released = false
    /** Symlinks by their entry: where each leads; undefined when broken. */
    const links = new Map<number, Node | undefined>()
    /**
     * Real directories inside the root that descent from it cannot reach (an
     * unreadable directory on the way), listed because a link leads there.
     */
    const apart = new Map<string, number>()
    const rootResolved = yield* port.resolve(root)
    const rootInfo = rootResolved?.info
    const rootNode: Node | undefined = rootInfo === undefined ? undefined : new Node(root, rootInfo, rootInfo.type === "Directory" ? entries.addDir() : -1)

    /** The listed directory of a real path, by descent from the root (or from a directory listed apart). */
    const descend = (from: string, dir: number, real: string): number | undefined => {
      if (real === from) return dir
      let at = from === "/" ? 1 : from.length + 1
      while (at <= real.length) {
        if (!entries.isListed(dir)) return undefined
        const slash = real.indexOf("/", at)
        const end = slash < 0 ? real.length : slash
        const found = entries.find(dir, real.slice(at, end))
        if (found < 0 || !entries.isDirectory(found)) return undefined
        dir = entries.child(found)
        at = end + 1
      }
      return dir
    }
    const dirOf = (real: string): number | undefined => {
      if (released) return undefined
      if (rootNode !== undefined && rootNode.dir >= 0 && Confine.isInside(root, real)) {
        const d = descend(root, rootNode.dir, real)
        if (d !== undefined) return d
      }
      for (const [from, dir] of apart) if (Confine.isInside(from, real)) {
        const d = descend(from, dir, real)
        if (d !== undefined) return d
      }
      return undefined
    }

    const due = yield* EventLoop.pace
    // A directory waiting to be listed keeps its parent's path and its name, not its own path:
    // listing a directory of 100,000 item directories queued 100,000 paths (13 MB) at once.
    // The root, and a directory reached by a link, have no parent here: `name` is their path.
    const pending: Array<{ readonly parent: string | undefined; readonly name: string; readonly dir: number }> = []
    /** Symlink entries leading to a directory inside the root: where they lead is settled once all is listed. */
    const linked: Array<number> = []
    if (rootNode !== undefined && rootNode.dir >= 0) pending.push({ parent: undefined, name: root, dir: rootNode.dir })
    while (pending.length > 0) {
      while (pending.length > 0) {
        const { parent, name, dir } = pending.pop()!
        const real = parent === undefined ? name : childOf(parent, name)
        if (due()) yield* EventLoop.turn
        const listed = yield* port.list(real)
        if (listed === undefined) {
          entries.unreadable(dir)
          continue
        }
        entries.fill(dir, listed, (name, child) => pending.push({ parent: real, name, dir: child }))
        for (const e of listed) {
          if (e.info.type !== "SymbolicLink") continue
          const own = childOf(real, e.name)
          const target = yield* port.resolve(own)
          const at = entries.find(dir, e.name)
          links.set(at, target === undefined ? undefined : new Node(target.real, target.info, -1))
          if (target !== undefined && target.info.type === "Directory" && Confine.isInside(root, target.real)) linked.push(at)
        }
      }
      // Each real directory is listed once: where a link leads is usually listed already, by descent.
      for (const at of linked.splice(0)) {
        const target = links.get(at)!
        let dir = dirOf(target.real)
        if (dir === undefined) {
          dir = entries.addDir()
          apart.set(target.real, dir)
          pending.push({ parent: undefined, name: target.real, dir })
        }
        links.set(at, new Node(target.real, target.info, dir))
      }
    }
    entries.trim()

    /** One step of realpath: `name` inside the resolved directory `parent`. */
    const step = (parent: Node, name: string): Local => {
      if (name === "" || name === "." || name === "..") return Unknown
      if (parent.info.type !== "Directory") return undefined // ENOTDIR
      if (!entries.isListed(parent.dir)) return Unknown
      const at = entries.find(parent.dir, name)
      if (at < 0) return undefined // ENOENT
      if (entries.type(at) !== "SymbolicLink") return new Node(childOf(parent.real, name), entries.info(at), entries.child(at))
      if (!links.has(at)) return Unknown
      return links.get(at) // undefined: broken, or a loop
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
      if (released || rootNode === undefined || !Confine.isInside(root, abs)) return Unknown
      if (abs === root) return rootNode
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

    // Batched reads: the files a caller said it will read, fetched READ_BATCH at a time. Their paths are
    // pulled from the caller's iterator only as far as the reads have come (a batch past the file read),
    // and a place is emptied once its file is fetched.
    let ahead: Iterator<string> | undefined
    let upcoming: Array<string | undefined> = []
    const texts = new Map<string, { readonly text: TextRead; readonly maxBytes: number }>()
    /** One more expected file into `upcoming` (its real path); false when there are no more. */
    const pull = (): boolean => {
      while (ahead !== undefined) {
        const next = ahead.next()
        if (next.done === true) {
          ahead = undefined
          return false
        }
        const named = next.value
        const local = resolveLocal(named)
        // The caller's string when it is the real path (no symlink on the way): one string per file, not two.
        if (local !== Unknown && local !== undefined && local.info.type === "File") {
          upcoming.push(local.real === named ? named : local.real)
          return true
        }
      }
      return false
    }
    /** Where `real` is in `upcoming`, pulling at most READ_BATCH more to find it; -1 when it is not. */
    const find = (real: string): number => {
      const at = upcoming.indexOf(real)
      if (at >= 0) return at
      for (let pulled = 0; pulled < READ_BATCH && pull(); pulled++) if (upcoming[upcoming.length - 1] === real) return upcoming.length - 1
      return -1
    }

    const index: TreeIndex = {
      release: () => {
        released = true
        entries = new TreeEntries()
        links.clear()
        apart.clear()
        parents.clear()
        last = Unknown
        texts.clear()
        ahead = undefined
        upcoming = []
      },
      root,
      port,
      resolve: (abs) => {
        const local = resolveLocal(abs)
        return local === Unknown ? port.resolve(abs) : Effect.succeed(local)
      },
      known: resolveLocal,
      slot: (real) => {
        const slash = real.lastIndexOf("/")
        const dir = slash < 0 ? undefined : dirOf(slash === 0 ? "/" : real.slice(0, slash))
        return dir === undefined || !entries.isListed(dir) ? -1 : entries.find(dir, real.slice(slash + 1))
      },
      size: () => entries.size,
      list: (real) => {
        const dir = dirOf(real)
        if (dir !== undefined && entries.isUnreadable(dir)) return Effect.succeed(undefined)
        if (dir !== undefined && entries.isListed(dir)) {
          // The entries of now: `release` replaces them, and a listing given before must still answer.
          const held = entries
          const { names, start } = held.namesOf(dir)
          return Effect.succeed({ names, infoAt: (i: number) => held.info(start + i) })
        }
        return Effect.map(port.list(real), (listed) => (listed === undefined ? undefined : listingOf(listed)))
      },
      own: (abs) => {
        const slash = abs.lastIndexOf("/")
        const parent = resolveLocal(slash === 0 ? "/" : abs.slice(0, slash))
        if (parent === Unknown || parent === undefined || !entries.isListed(parent.dir)) return undefined
        const at = entries.find(parent.dir, abs.slice(slash + 1))
        return at < 0 ? undefined : entries.info(at)
      },
      expect: (files) =>
        Effect.sync(() => {
          ahead = files[Symbol.iterator]()
          upcoming = []
        }),
      readText: (real, maxBytes) => {
        const cached = texts.get(real)
        if (cached !== undefined && cached.maxBytes === maxBytes) {
          texts.delete(real)
          return Effect.succeed(cached.text)
        }
        const at = find(real)
        if (at < 0) return Effect.map(port.readTexts([real], maxBytes), (read) => read[0]!)
        // This file and the next ones expected, in one call; what is left of the batch is kept until read.
        while (upcoming.length < at + READ_BATCH && pull()) continue
        const batch: Array<string> = []
        for (let i = at; i < Math.min(at + READ_BATCH, upcoming.length); i++) {
          const r = upcoming[i]
          if (r === undefined) continue
          upcoming[i] = undefined
          if (r === real || !texts.has(r)) batch.push(r)
        }
        // Files read go; so do those passed over a batch ago (a link that was never followed), so that
        // what is kept stays a few batches long however the reads go.
        upcoming = upcoming.slice(Math.max(0, at - READ_BATCH)).filter((r) => r !== undefined)
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
