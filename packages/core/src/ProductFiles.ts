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
import * as TreeIndex from "./TreeIndex.ts"
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
    // Real directories already entered: a symlink back up the tree would loop forever.
    const seen = new Set<string>()

    // Depth-first in sorted order, as a stack rather than an Effect per entry:
    // a catalog has hundreds of thousands of files and the index answers
    // nearly every one without the file system.
    const stack: Array<{ readonly abs: string; readonly rel: string }> = [{ abs: dir, rel: "" }]
    while (stack.length > 0) {
      const { abs, rel } = stack.pop()!
      // realpath and stat once per entry, the stat of the REAL path: that is the
      // file whose identity the store checks before publishing it. Both come from
      // the index (an lstat per entry, a realpath per symlink).
      const known = tree.known(abs)
      const resolved = Confine.insideOf(known === TreeIndex.Unknown ? yield* tree.resolve(abs) : known, abs, root, "the product or catalog dir")
      if (Either.isLeft(resolved)) {
        problems.push(resolved.left)
        continue
      }
      const { real, info } = resolved.right
      if (info.type === "Directory") {
        if (seen.has(real)) {
          problems.push({ file: abs, path: "", message: "directory symlink loop" })
          continue
        }
        seen.add(real)
        if (due()) yield* EventLoop.turn
        const names = (yield* tree.list(real))?.names ?? []
        for (let i = names.length - 1; i >= 0; i--) {
          const name = names[i]!
          // Only `dir` itself may be named unnormalized (a trailing `/`); below it every path is made normalized.
          stack.push({ abs: abs === dir ? path.join(abs, name) : TreeIndex.childOf(abs, name), rel: rel ? `${rel}/${name}` : name })
        }
      } else if (info.type === "File") {
        const identity = Confine.identityOfEntry(info)
        // One string when both name the same path (no symlink on the way): a catalog has hundreds of thousands.
        files.push({ relPath: rel, absPath: abs, realPath: real === abs ? abs : real, size: identity.size, identity })
      } else {
        problems.push({ file: abs, path: "", message: `not a regular file (${info.type})` })
      }
    }
    return { files, problems }
  })
