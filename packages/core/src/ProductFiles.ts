/**
 * The files of a product directory, as they will be published. Walking happens
 * before anything is published so that a symlink escaping the job, a device
 * file or a socket is reported up front instead of half-way through an upload.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import type { Problem } from "./Errors.ts"

export interface ProductFile {
  /** Path relative to the product directory, with `/` separators. */
  readonly relPath: string
  /** Absolute path on disk (the link's own path when it is a symlink inside the tree). */
  readonly absPath: string
  readonly size: number
}

/** True when `child` is `root` itself or lies below it. Both must be normalized absolute paths. */
export const isInside = (root: string, child: string): boolean =>
  child === root || child.startsWith(root.endsWith("/") ? root : root + "/")

/**
 * Lists every file under `dir`, sorted by relative path. A symlink is followed only
 * when its target stays inside `boundary` (the product or catalog directory);
 * one pointing elsewhere, a loop, or anything but a regular file or directory is
 * a Problem. All problems are collected; the walk itself never fails.
 */
export const list = (
  dir: string,
  boundary: string = dir
): Effect.Effect<
  { readonly files: ReadonlyArray<ProductFile>; readonly problems: ReadonlyArray<Problem> },
  never,
  FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const realBoundary = yield* fs.realPath(boundary).pipe(Effect.orElseSucceed(() => boundary))
    const files: Array<ProductFile> = []
    const problems: Array<Problem> = []
    // Real directories already entered: a symlink back up the tree would loop forever.
    const seen = new Set<string>()

    const walk = (abs: string, rel: string): Effect.Effect<void> =>
      Effect.gen(function* () {
        const real = yield* fs.realPath(abs).pipe(Effect.option)
        if (real._tag === "None") {
          problems.push({ file: abs, path: "", message: "broken symlink or unreadable path" })
          return
        }
        if (!isInside(realBoundary, real.value)) {
          problems.push({ file: abs, path: "", message: `symlink points outside ${boundary} (to ${real.value})` })
          return
        }
        const info = yield* fs.stat(abs).pipe(Effect.option)
        if (info._tag === "None") {
          problems.push({ file: abs, path: "", message: "cannot stat file" })
          return
        }
        if (info.value.type === "Directory") {
          if (seen.has(real.value)) {
            problems.push({ file: abs, path: "", message: "directory symlink loop" })
            return
          }
          seen.add(real.value)
          const names = yield* fs.readDirectory(abs).pipe(Effect.orElseSucceed(() => [] as Array<string>))
          for (const name of [...names].sort()) {
            yield* walk(path.join(abs, name), rel ? `${rel}/${name}` : name)
          }
        } else if (info.value.type === "File") {
          files.push({ relPath: rel, absPath: abs, size: Number(info.value.size) })
        } else {
          problems.push({ file: abs, path: "", message: `not a regular file (${info.value.type})` })
        }
      })

    yield* walk(dir, "")
    return { files, problems }
  })
