/**
 * The port planning reads a job tree through, in bulk: a directory's entries
 * with each one's own kind and identity, where a path really leads, and the
 * texts of many small files at once.
 *
 * Why a port of its own rather than `@effect/platform`'s FileSystem: planning
 * touches every entry of the job (40,000 files for 10,000 items of 3 assets),
 * and one asynchronous stat or realpath per entry, each a trip through the
 * runtime's thread pool, made planning 16 times slower than a plain walk (most
 * of it futex contention between pool threads). The calls here answer a whole
 * directory or a batch of files per trip, and give the entry's own kind (an
 * lstat), so a realpath is needed only for symlinks. The Node adapter
 * (adapters `NodeJobTree`) answers them with synchronous calls; `fromFileSystem`
 * answers them through any platform FileSystem, for hosts that provide none.
 *
 * The port only reports what the file system says; what a job may reach (the
 * confinement of Confine.ts) is decided in core, by TreeIndex, the same way
 * whichever implementation answers.
 */
import { FileSystem } from "@effect/platform"
import { Context, Effect, Option } from "effect"

/** What a stat (or lstat) says about one path: its kind and the identity a store checks (ObjectStore.FileIdentity). */
export interface EntryInfo {
  readonly type: FileSystem.File.Type
  readonly size: number
  readonly dev: number
  readonly ino?: number
  /** Modification time in whole milliseconds. */
  readonly mtimeMs?: number
}

export interface DirEntry {
  readonly name: string
  /** The entry itself, not followed: a symlink is `SymbolicLink`. */
  readonly info: EntryInfo
}

/** Where a path leads: its real path (no symlink in it) and the stat of that. */
export interface Resolved {
  readonly real: string
  readonly info: EntryInfo
}

/** One small file's text, or why it was not read. */
export type TextRead =
  | {
      readonly _tag: "Text"
      readonly text: string
      /** The stat of what was read (of the open descriptor, where the implementation has one). */
      readonly info: EntryInfo
      /** How many bytes were read: a file rewritten while it was read differs from `info.size`. */
      readonly bytes: number
    }
  | { readonly _tag: "Failed"; readonly reason: "Missing" | "NotAFile" | "TooLarge" | "Unreadable"; readonly size?: number }

export interface JobTreeShape {
  /** The entries of directory `dir` (any order), each with its lstat; undefined when it cannot be read. */
  readonly list: (dir: string) => Effect.Effect<ReadonlyArray<DirEntry> | undefined>
  /** realpath of `path`, then stat of the real path; undefined when either fails (missing, broken link, loop). */
  readonly resolve: (path: string) => Effect.Effect<Resolved | undefined>
  /**
   * The texts (UTF-8) of `files`, in order. Each is opened without following a
   * final symlink and read only when it is a regular file of at most `maxBytes`:
   * a fifo must not block the read, a huge file not exhaust memory.
   */
  readonly readTexts: (files: ReadonlyArray<string>, maxBytes: number) => Effect.Effect<ReadonlyArray<TextRead>>
}

export class JobTree extends Context.Tag("@hysds-stac/core/JobTree")<JobTree, JobTreeShape>() {}

/** The identity fields of a platform stat. */
export const infoOf = (info: FileSystem.File.Info): EntryInfo => {
  const out: { -readonly [K in keyof EntryInfo]: EntryInfo[K] } = { type: info.type, size: Number(info.size), dev: info.dev }
  if (Option.isSome(info.ino)) out.ino = info.ino.value
  if (Option.isSome(info.mtime)) out.mtimeMs = info.mtime.value.getTime()
  return out
}

const SYMLINK: EntryInfo = { type: "SymbolicLink", size: 0, dev: 0 }

/**
 * The port over a platform FileSystem, which has no lstat: a path whose
 * readLink succeeds is a symlink, anything else is stat'ed. Correct anywhere,
 * but one asynchronous call or two per entry: hosts running large jobs provide
 * a native implementation instead.
 */
export const fromFileSystem = (fs: FileSystem.FileSystem): JobTreeShape => {
  const lstat = (file: string): Effect.Effect<EntryInfo | undefined> =>
    fs.readLink(file).pipe(
      Effect.as(SYMLINK),
      Effect.orElse(() => fs.stat(file).pipe(Effect.map(infoOf))),
      Effect.orElseSucceed(() => undefined)
    )
  const readOne = (file: string, maxBytes: number): Effect.Effect<TextRead> =>
    Effect.gen(function* () {
      const own = yield* lstat(file)
      if (own === undefined) return { _tag: "Failed", reason: "Missing" } as const
      if (own.type !== "File") return { _tag: "Failed", reason: "NotAFile" } as const
      if (own.size > maxBytes) return { _tag: "Failed", reason: "TooLarge", size: own.size } as const
      return yield* fs.readFile(file).pipe(
        Effect.map((content): TextRead => ({ _tag: "Text", text: new TextDecoder().decode(content), info: own, bytes: content.length })),
        Effect.orElseSucceed((): TextRead => ({ _tag: "Failed", reason: "Unreadable" }))
      )
    })
  return {
    list: (dir) =>
      fs.readDirectory(dir).pipe(
        Effect.flatMap((names) =>
          Effect.forEach(names, (name) => Effect.map(lstat(`${dir === "/" ? "" : dir}/${name}`), (info) => (info ? [{ name, info }] : [])), {
            concurrency: 8
          })
        ),
        Effect.map((entries) => entries.flat()),
        Effect.orElseSucceed(() => undefined)
      ),
    resolve: (file) =>
      fs.realPath(file).pipe(
        Effect.flatMap((real) => Effect.map(fs.stat(real), (info) => ({ real, info: infoOf(info) }))),
        Effect.orElseSucceed(() => undefined)
      ),
    readTexts: (files, maxBytes) => Effect.forEach(files, (file) => readOne(file, maxBytes), { concurrency: 8 })
  }
}

/** The JobTree provided, else the one over the platform FileSystem. */
export const current: Effect.Effect<JobTreeShape, never, FileSystem.FileSystem> = Effect.flatMap(
  Effect.serviceOption(JobTree),
  (provided) => (Option.isSome(provided) ? Effect.succeed(provided.value) : Effect.map(FileSystem.FileSystem, fromFileSystem))
)
