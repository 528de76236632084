/**
 * core's JobTree port over node:fs, with synchronous calls.
 *
 * Why synchronous: planning asks for tens of thousands of tiny answers (a
 * directory's entries, an lstat, a 2 KiB item). Asked asynchronously, each is a
 * trip through the runtime's thread pool, and with many in flight the pool's
 * threads spend their time on futexes: planning 10,000 items took 16 times a
 * plain walk, and ran 3 times faster pinned to one CPU. A synchronous lstat or
 * read of a cached small file takes microseconds; each call here answers a whole
 * directory or a batch of files, so the event loop is held for one batch at a
 * time (a large directory gives it turns as it is listed), never for the walk.
 *
 * What is read is opened no-follow (a symlink swapped in after the walk is not
 * followed) and non-blocking (a fifo swapped in does not hang the read), and
 * fstat'ed: only a regular file within the size limit is read, from that
 * descriptor.
 */
import { EventLoop, JobTree, TreeIndex } from "@hysds-stac/core"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"

type FileType = JobTree.EntryInfo["type"]

const typeOf = (st: fs.Stats): FileType =>
  st.isFile()
    ? "File"
    : st.isDirectory()
      ? "Directory"
      : st.isSymbolicLink()
        ? "SymbolicLink"
        : st.isFIFO()
          ? "FIFO"
          : st.isSocket()
            ? "Socket"
            : st.isBlockDevice()
              ? "BlockDevice"
              : st.isCharacterDevice()
                ? "CharacterDevice"
                : "Unknown"

/** The same fields, with the same rounding, as core's identity from a platform stat (Confine.identityOf). */
export const infoOf = (st: fs.Stats): JobTree.EntryInfo => ({
  type: typeOf(st),
  size: st.size,
  dev: st.dev,
  ino: st.ino,
  mtimeMs: Math.trunc(st.mtimeMs)
})

/** The entries `names[from..to)` of `dir`, lstat'ed, appended to `entries`. */
const lstatInto = (entries: Array<JobTree.DirEntry>, dir: string, names: ReadonlyArray<string>, from: number, to: number) => {
  for (let i = from; i < to; i++) {
    const name = names[i]!
    // An entry gone between readdir and lstat is not listed, as if readdir had not seen it.
    const st = fs.lstatSync(TreeIndex.childOf(dir, name), { throwIfNoEntry: false })
    if (st !== undefined) entries.push({ name, info: infoOf(st) })
  }
  return entries
}

/** Entries lstat'ed between two chances of a turn of the event loop. */
const LIST_CHUNK = 512

const list = (dir: string): Effect.Effect<ReadonlyArray<JobTree.DirEntry> | undefined> =>
  Effect.suspend(() => {
    let names: Array<string>
    try {
      names = fs.readdirSync(dir)
    } catch {
      return Effect.succeed(undefined)
    }
    if (names.length <= LIST_CHUNK) return Effect.succeed(lstatInto([], dir, names, 0, names.length))
    // A directory of 100,000 entries is most of a second of lstats: the event loop gets its turns
    // within it, as between any two steps of planning (signals, probes, the engine's memory valve).
    return Effect.gen(function* () {
      const due = yield* EventLoop.pace
      const entries: Array<JobTree.DirEntry> = []
      for (let at = 0; at < names.length; at += LIST_CHUNK) {
        if (due()) yield* EventLoop.turn
        lstatInto(entries, dir, names, at, Math.min(at + LIST_CHUNK, names.length))
      }
      return entries
    })
  })

const resolve = (file: string): JobTree.Resolved | undefined => {
  try {
    const real = fs.realpathSync.native(file)
    return { real, info: infoOf(fs.statSync(real)) }
  } catch {
    return undefined
  }
}

/**
 * Where small files are read into, reused: planning reads every item of a
 * catalog (100,000 of them at 2 KiB each), and a buffer per file was as many
 * objects and native allocations of garbage, freed only when the collector
 * came round to them.
 */
let scratch = Buffer.allocUnsafe(64 * 1024)
/** A larger file gets a buffer of its own, let go with it, rather than a scratch buffer that stays that large. */
const SCRATCH_MAX = 1 << 20

/** A buffer of at least `bytes`: the shared one (grown to fit) up to SCRATCH_MAX, else one of its own. */
const bufferFor = (bytes: number): Buffer => {
  if (bytes > SCRATCH_MAX) return Buffer.allocUnsafe(bytes)
  if (scratch.length < bytes) scratch = Buffer.allocUnsafe(bytes)
  return scratch
}

/**
 * The file's bytes, up to its end or just past `maxBytes`: `size` (from fstat)
 * is a hint, since a file being rewritten may grow or shrink while it is read;
 * one byte more than expected is asked for so that growth shows at once. Read
 * from the start whatever was read of the descriptor before.
 */
const readAll = (fd: number, size: number, maxBytes: number): { readonly buffer: Buffer; readonly length: number } => {
  let buffer = bufferFor(size + 1)
  let length = 0
  for (;;) {
    if (length === buffer.length) {
      const grown = Buffer.allocUnsafe(buffer.length * 2)
      buffer.copy(grown, 0, 0, length)
      buffer = grown
    }
    const n = fs.readSync(fd, buffer, length, buffer.length - length, length)
    if (n === 0 || length + n > maxBytes) return { buffer, length: length + n }
    length += n
  }
}

const NO_FOLLOW = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK

const readOne = (file: string, maxBytes: number): JobTree.TextRead => {
  let fd: number
  try {
    fd = fs.openSync(file, NO_FOLLOW)
  } catch (e) {
    const code = (e as { readonly code?: unknown }).code
    if (code === "ENOENT" || code === "ENOTDIR") return { _tag: "Failed", reason: "Missing" }
    // ELOOP: the path is now a symlink, which is not followed.
    return { _tag: "Failed", reason: code === "ELOOP" ? "NotAFile" : "Unreadable" }
  }
  try {
    const st = fs.fstatSync(fd)
    if (!st.isFile()) return { _tag: "Failed", reason: "NotAFile" }
    if (st.size > maxBytes) return { _tag: "Failed", reason: "TooLarge", size: st.size }
    if (st.size >= SCRATCH_MAX) {
      // Straight into a string: through a buffer of its own, a large document (a collection
      // linking 100,000 items is 16 MB) was twice its size at once.
      const text = fs.readFileSync(fd, "utf8")
      const bytes = Buffer.byteLength(text, "utf8")
      // Invalid UTF-8 decodes to U+FFFD, whose bytes differ from those read: counted again from the bytes then.
      if (bytes === st.size) return { _tag: "Text", text, info: infoOf(st), bytes }
    }
    const { buffer, length } = readAll(fd, st.size, maxBytes)
    if (length > maxBytes) return { _tag: "Failed", reason: "TooLarge", size: length }
    return { _tag: "Text", text: buffer.toString("utf8", 0, length), info: infoOf(st), bytes: length }
  } catch {
    return { _tag: "Failed", reason: "Unreadable" }
  } finally {
    fs.closeSync(fd)
  }
}

export const make = (): JobTree.JobTreeShape => ({
  list,
  resolve: (file) => Effect.sync(() => resolve(file)),
  readTexts: (files, maxBytes) => Effect.sync(() => files.map((file) => readOne(file, maxBytes)))
})

export const layer: Layer.Layer<JobTree.JobTree> = Layer.sync(JobTree.JobTree, make)
