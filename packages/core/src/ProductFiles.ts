/**
 * The files of a product directory, as they will be published. Walking happens
 * before anything is published so that a symlink escaping the job, a device
 * file or a socket is reported up front instead of half-way through an upload.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Either } from "effect"
import * as Confine from "./Confine.ts"
import type { Problem } from "./Errors.ts"
import type { FileIdentity } from "./ObjectStore.ts"

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
  within?: string
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
    const realBoundary = yield* fs.realPath(boundary).pipe(Effect.option)
    if (realBoundary._tag === "None") {
      problems.push({ file: boundary, path: "", message: "broken symlink or unreadable directory" })
      return { files, problems }
    }
    if (within !== undefined && !isInside(within, realBoundary.value)) {
      problems.push({
        file: boundary,
        path: "",
        message: `symlink points outside the job dir ${within} (to ${realBoundary.value}); only links inside the job dir are followed`
      })
      return { files, problems }
    }
    // Real directories already entered: a symlink back up the tree would loop forever.
    const seen = new Set<string>()

    const walk = (abs: string, rel: string): Effect.Effect<void, never, FileSystem.FileSystem> =>
      Effect.gen(function* () {
        // realpath and stat once per entry, the stat of the REAL path: that is the
        // file whose identity the store checks before publishing it.
        const resolved = yield* Confine.resolveInside(abs, realBoundary.value, "the product or catalog dir").pipe(Effect.either)
        if (Either.isLeft(resolved)) {
          problems.push(resolved.left)
          return
        }
        const { real, info } = resolved.right
        if (info.type === "Directory") {
          if (seen.has(real)) {
            problems.push({ file: abs, path: "", message: "directory symlink loop" })
            return
          }
          seen.add(real)
          const names = yield* fs.readDirectory(real).pipe(Effect.orElseSucceed(() => [] as Array<string>))
          for (const name of [...names].sort()) {
            yield* walk(path.join(abs, name), rel ? `${rel}/${name}` : name)
          }
        } else if (info.type === "File") {
          const identity = Confine.identityOf(info)
          files.push({ relPath: rel, absPath: abs, realPath: real, size: identity.size, identity })
        } else {
          problems.push({ file: abs, path: "", message: `not a regular file (${info.type})` })
        }
      })

    yield* walk(dir, "")
    return { files, problems }
  })
