/**
 * The directories of a scanned tree and the lstat of each of their entries,
 * packed: every entry of every directory in one array of names and a few
 * arrays of numbers, a directory being a range of them.
 *
 * Why not an object per entry and a Map of directories by path: a catalog may
 * put each of 100,000 items in a directory of its own. Then a Map entry keyed
 * by the directory's path, a listing object, two small arrays and an object
 * per stat cost about 650 bytes per item, most of a plan's memory before it
 * had read a document; here an entry costs its name and 37 bytes of numbers.
 * A stat is made into an `EntryInfo` only when asked for.
 */
import type { FileSystem } from "@effect/platform"
import * as Interned from "./Interned.ts"
import type { DirEntry, EntryInfo } from "./JobTree.ts"

const TYPES: ReadonlyArray<FileSystem.File.Type> = ["File", "Directory", "SymbolicLink", "BlockDevice", "CharacterDevice", "FIFO", "Socket", "Unknown"]
const TYPE_CODE = new Map(TYPES.map((t, i) => [t, i]))
const DIRECTORY = TYPE_CODE.get("Directory")!
const UNKNOWN = TYPE_CODE.get("Unknown")!

/** Sorted by name with the `<` of strings (UTF-16 code units), as Array.prototype.sort does by default. */
export const byName = (listed: ReadonlyArray<DirEntry>): Array<DirEntry> =>
  [...listed].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))

/** A directory queued for listing, and one that could not be listed (its count). */
const PENDING = -1
const UNREADABLE = -2

/** Numbers kept per entry, in `numbers` at 4 * entry: size, dev, ino, mtimeMs (NaN when the stat had none). */
const NUMBERS = 4

const grown = <A extends Uint8Array | Int32Array | Float64Array>(a: A, need: number, make: (n: number) => A): A => {
  if (need <= a.length) return a
  const next = make(Math.max(need, a.length * 2))
  next.set(a)
  return next
}

export class TreeEntries {
  /** Entry names: a directory's entries are `[start, start + count)`, sorted by name. */
  private names: Array<string> = []
  private kinds = new Uint8Array(256)
  private numbers = new Float64Array(256 * NUMBERS)
  /** For an entry that is a directory: the directory it is (listed or queued); -1 otherwise. */
  private children = new Int32Array(256)
  private length = 0
  /** How many entries all directories hold: entries are numbered 0 to size - 1. */
  get size(): number {
    return this.length
  }
  private starts = new Int32Array(64)
  /** Entries of each directory; PENDING or UNREADABLE when it has none (yet). */
  private counts = new Int32Array(64)
  private dirs = 0

  /**
   * One string for a name many directories repeat (each item's `data.tif`).
   * Bounded: a tree whose names all differ must not grow a second table of them.
   */
  private readonly shared = Interned.table(4096)

  /** A new directory, queued for listing: its number. */
  addDir(): number {
    this.starts = grown(this.starts, this.dirs + 1, (n) => new Int32Array(n))
    this.counts = grown(this.counts, this.dirs + 1, (n) => new Int32Array(n))
    this.counts[this.dirs] = PENDING
    return this.dirs++
  }

  unreadable(dir: number): void {
    this.counts[dir] = UNREADABLE
  }

  /**
   * The entries of `dir`, sorted `byName`. Each that is a directory gets a
   * directory number of its own, queued; `onDir` is told of it.
   */
  fill(dir: number, listed: ReadonlyArray<DirEntry>, onDir: (name: string, child: number) => void): void {
    const sorted = byName(listed)
    const need = this.length + sorted.length
    this.kinds = grown(this.kinds, need, (n) => new Uint8Array(n))
    this.numbers = grown(this.numbers, need * NUMBERS, (n) => new Float64Array(n))
    this.children = grown(this.children, need, (n) => new Int32Array(n))
    this.starts[dir] = this.length
    this.counts[dir] = sorted.length
    for (const { name, info } of sorted) {
      const at = this.length++
      this.names.push(this.shared(name))
      const kind = TYPE_CODE.get(info.type) ?? UNKNOWN
      this.kinds[at] = kind
      const n = at * NUMBERS
      this.numbers[n] = info.size
      this.numbers[n + 1] = info.dev
      this.numbers[n + 2] = info.ino ?? Number.NaN
      this.numbers[n + 3] = info.mtimeMs ?? Number.NaN
      this.children[at] = -1
      if (kind === DIRECTORY) {
        const child = this.addDir()
        this.children[at] = child
        onDir(name, child)
      }
    }
  }

  /** Once every directory is listed: the arrays shrink to what they hold (they grew by doubling). */
  trim(): void {
    this.names = this.names.slice()
    this.kinds = this.kinds.slice(0, this.length)
    this.numbers = this.numbers.slice(0, this.length * NUMBERS)
    this.children = this.children.slice(0, this.length)
    this.starts = this.starts.slice(0, this.dirs)
    this.counts = this.counts.slice(0, this.dirs)
  }

  isListed(dir: number): boolean {
    return dir >= 0 && dir < this.dirs && this.counts[dir]! >= 0
  }

  isUnreadable(dir: number): boolean {
    return this.counts[dir] === UNREADABLE
  }

  /** The entry named `name` in a listed `dir`, by bisection; -1 when there is none. */
  find(dir: number, name: string): number {
    let lo = this.starts[dir]!
    let hi = lo + this.counts[dir]! - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const at = this.names[mid]!
      if (at === name) return mid
      if (at < name) lo = mid + 1
      else hi = mid - 1
    }
    return -1
  }

  /** The names of a listed `dir`, sorted, and where its entries begin. */
  namesOf(dir: number): { readonly names: Array<string>; readonly start: number } {
    const start = this.starts[dir]!
    return { names: this.names.slice(start, start + this.counts[dir]!), start }
  }

  type(at: number): FileSystem.File.Type {
    return TYPES[this.kinds[at]!]!
  }

  isDirectory(at: number): boolean {
    return this.kinds[at] === DIRECTORY
  }

  /** The directory an entry is, when it is one; -1 otherwise. */
  child(at: number): number {
    return this.children[at]!
  }

  info(at: number): EntryInfo {
    const n = at * NUMBERS
    const out: { -readonly [K in keyof EntryInfo]: EntryInfo[K] } = { type: this.type(at), size: this.numbers[n]!, dev: this.numbers[n + 1]! }
    const ino = this.numbers[n + 2]!
    const mtimeMs = this.numbers[n + 3]!
    if (!Number.isNaN(ino)) out.ino = ino
    if (!Number.isNaN(mtimeMs)) out.mtimeMs = mtimeMs
    return out
  }
}
