/**
 * Writing the job's own outputs (`_datasets.json`) into a job dir the science
 * code controls. A path there may have become a symlink to anything (an API
 * keys file, say), so nothing is ever written through a path: the content goes
 * to a new temp file in the same directory, created exclusively (it cannot be a
 * link planted in advance), and is renamed over the target. A rename replaces a
 * link itself, never what it points at.
 */
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Stream } from "effect"
import { isSymlink } from "./Confine.ts"

const tempOf = (file: string): string => {
  // String surgery rather than Path: the undo runs with the file system alone. Job paths are absolute.
  const slash = file.lastIndexOf("/")
  return `${file.slice(0, slash + 1)}.${file.slice(slash + 1)}.hysds-stac-${crypto.randomUUID()}.tmp`
}

/** Replaces `file` with `text` without following a link at `file`. */
export const replace = (file: string, text: string): Effect.Effect<void, PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const temp = tempOf(file)
    yield* fs.writeFileString(temp, text, { flag: "wx" }).pipe(
      Effect.zipRight(fs.rename(temp, file)),
      Effect.tapError(() => fs.remove(temp).pipe(Effect.ignore))
    )
  })

/**
 * Replaces `file` with the text `chunks` make, written as they come (a job's
 * `_datasets.json` can be larger than is worth holding), the same way: a new
 * temp file, then a rename.
 */
export const replaceStreaming = <E, R>(
  file: string,
  chunks: Stream.Stream<string, E, R>
): Effect.Effect<void, E | PlatformError, FileSystem.FileSystem | R> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const temp = tempOf(file)
    const encoder = new TextEncoder()
    yield* Effect.scoped(
      Effect.flatMap(fs.open(temp, { flag: "wx" }), (handle) => Stream.runForEach(chunks, (text) => handle.writeAll(encoder.encode(text))))
    ).pipe(
      Effect.zipRight(fs.rename(temp, file)),
      // Also when interrupted: no temp file is left in the job dir.
      Effect.onError(() => fs.remove(temp).pipe(Effect.ignore))
    )
  })

/**
 * Removes `file` when it is a regular file, never a link: a link there now was
 * not written by us (we only ever rename regular files into place).
 */
export const removeIfFile = (file: string): Effect.Effect<void, PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    if (yield* isSymlink(file)) return
    const info = yield* fs.stat(file).pipe(Effect.option)
    if (info._tag === "Some" && info.value.type === "File") yield* fs.remove(file)
  })

/** The content of `file` when it is a regular file (not a link); none otherwise. */
export const readIfFile = (file: string): Effect.Effect<string | undefined, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    if (yield* isSymlink(file)) return undefined
    return yield* fs.readFileString(file).pipe(Effect.orElseSucceed(() => undefined))
  })
