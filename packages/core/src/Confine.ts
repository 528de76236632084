/**
 * What a job may reach: the one rule every walk and read of a job dir applies.
 * The job dir is written by science code, so its symlinks are hostile until
 * checked. The job dir is resolved to its real path once, at the start; every
 * path reached from it is resolved again and must stay inside that real path
 * (a symlink is followed only when its target is inside). The identity of each
 * file to publish (size, inode, device, mtime) is taken here from the stat of
 * its real path, so the store can prove it publishes the very file planned.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Either, Option } from "effect"
import { type Problem, ValidationError } from "./Errors.ts"
import type { EntryInfo } from "./JobTree.ts"
import type { FileIdentity } from "./ObjectStore.ts"

/** True when `child` is `root` itself or lies below it. Both must be normalized absolute paths. */
export const isInside = (root: string, child: string): boolean =>
  child === root ||
  // No `root + "/"`: this runs several times per file of a catalog, and the concatenation was most of its cost.
  (child.startsWith(root) && (root.endsWith("/") || child.charCodeAt(root.length) === 47))

/**
 * The job dir's real path. CLI and server both ingest this path: datasets.json
 * patterns are matched against paths under it, and everything published must
 * lie inside it.
 */
export const realJobDir = (jobDir: string): Effect.Effect<string, ValidationError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const abs = path.resolve(jobDir)
    const real = yield* fs.realPath(abs).pipe(
      Effect.mapError(
        () =>
          new ValidationError({
            message: `job dir ${abs} does not exist or cannot be resolved`,
            problems: [{ file: abs, path: "", message: "no such directory (or a broken symlink)" }],
            hint: "give the path of an existing job directory"
          })
      )
    )
    const info = yield* fs.stat(real).pipe(Effect.option)
    if (Option.isNone(info) || info.value.type !== "Directory") {
      return yield* Effect.fail(
        new ValidationError({
          message: `job dir ${abs} is not a directory`,
          problems: [{ file: abs, path: "", message: "not a directory" }],
          hint: "give the path of a job directory"
        })
      )
    }
    return real
  })

/** The identity a store checks before publishing a file: see ObjectStore.FileIdentity. */
export const identityOf = (info: FileSystem.File.Info): FileIdentity => {
  const identity: { -readonly [K in keyof FileIdentity]: FileIdentity[K] } = { size: Number(info.size), dev: info.dev }
  if (Option.isSome(info.ino)) identity.ino = info.ino.value
  if (Option.isSome(info.mtime)) identity.mtimeMs = info.mtime.value.getTime()
  return identity
}

export interface Resolved {
  readonly real: string
  readonly info: FileSystem.File.Info
}

/**
 * Resolves `abs` (realpath, then stat of the real path) and checks it lies
 * inside `realRoot`. A Problem names the path and, for a symlink leading out,
 * its target; `what` says what the root is ("the job dir", "the product dir").
 */
export const resolveInside = (
  abs: string,
  realRoot: string,
  what: string
): Effect.Effect<Resolved, Problem, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const real = yield* fs.realPath(abs).pipe(
      Effect.mapError((): Problem => ({ file: abs, path: "", message: "broken symlink or unreadable path" }))
    )
    if (!isInside(realRoot, real)) {
      return yield* Effect.fail<Problem>({
        file: abs,
        path: "",
        message: `symlink points outside ${what} ${realRoot} (to ${real}); only links to files inside it are followed`
      })
    }
    const info = yield* fs.stat(real).pipe(
      Effect.mapError((): Problem => ({ file: abs, path: "", message: "cannot stat file" }))
    )
    return { real, info }
  })

/** The same identity, from an entry of the planning walk's index (TreeIndex), or a record of one's numbers. */
export const identityOfEntry = (info: {
  readonly size: number
  readonly dev: number
  readonly ino?: number | undefined
  readonly mtimeMs?: number | undefined
}): FileIdentity => {
  const identity: { -readonly [K in keyof FileIdentity]: FileIdentity[K] } = { size: info.size, dev: info.dev }
  if (info.ino !== undefined) identity.ino = info.ino
  if (info.mtimeMs !== undefined) identity.mtimeMs = info.mtimeMs
  return identity
}

/**
 * What differs between a file's stat now (`info`, of the descriptor about to be
 * read) and the identity planning recorded; empty when it is the same file.
 * Every reader of a planned file (the stores copying it, the publish reading a
 * STAC document again) refuses it with these words.
 */
export const changesSince = (info: EntryInfo, planned: FileIdentity): Array<string> => {
  if (info.type !== "File") return ["it is no longer a regular file"]
  const out: Array<string> = []
  if (info.size !== planned.size) out.push(`size ${planned.size} → ${info.size} bytes`)
  if (planned.ino !== undefined && info.ino !== undefined && info.ino !== planned.ino) out.push(`inode ${planned.ino} → ${info.ino}`)
  if (planned.dev !== undefined && info.dev !== planned.dev) out.push(`device ${planned.dev} → ${info.dev}`)
  if (planned.mtimeMs !== undefined && info.mtimeMs !== undefined && info.mtimeMs !== planned.mtimeMs) {
    out.push(`modified at ${new Date(info.mtimeMs).toISOString()}, planned at ${new Date(planned.mtimeMs).toISOString()}`)
  }
  return out
}

/**
 * `resolveInside`, answered by the planning walk's index (TreeIndex.known or
 * TreeIndex.resolve): the same realpath, stat of the real path and check, the
 * same Problems. Plain, not an Effect: it runs once per file of the job.
 */
export const insideOf = (
  resolved: { readonly real: string; readonly info: EntryInfo } | undefined,
  abs: string,
  realRoot: string,
  what: string
): Either.Either<{ readonly real: string; readonly info: EntryInfo }, Problem> => {
  if (resolved === undefined) return Either.left({ file: abs, path: "", message: "broken symlink or unreadable path" })
  if (!isInside(realRoot, resolved.real)) {
    return Either.left({
      file: abs,
      path: "",
      message: `symlink points outside ${what} ${realRoot} (to ${resolved.real}); only links to files inside it are followed`
    })
  }
  return Either.right(resolved)
}

/** True when `file` itself is a symbolic link (readLink succeeds only on a link). */
export const isSymlink = (file: string): Effect.Effect<boolean, never, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    fs.readLink(file).pipe(
      Effect.as(true),
      Effect.orElseSucceed(() => false)
    )
  )
