/**
 * Reading the small JSON documents a job writes (catalogs, items, dataset.json,
 * met.json, _job.json). Every failure becomes a `Problem` naming the file, so a
 * caller can gather all of them before reporting.
 */
import { FileSystem } from "@effect/platform"
import { Effect, Predicate } from "effect"
import * as Confine from "./Confine.ts"
import type { Problem } from "./Errors.ts"

/** Metadata documents larger than this are refused rather than parsed: a multi-GB
 * "JSON" file is a mistake (or an attack), and parsing it would exhaust memory. */
export const MAX_JSON_BYTES = 32 * 1024 * 1024

const problem = (file: string, message: string): Problem => ({ file, path: "", message })

/**
 * Reads and parses `file`; fails with a Problem (never a defect) on any error.
 * With `within` (a directory of the job), `file` may be a symlink only to a file
 * inside that directory's real path: the job dir's metadata must not pull in
 * files from elsewhere on the machine.
 */
export const read = (
  file: string,
  options: {
    readonly within?: string
    /** How to parse the text (default JSON.parse); e.g. PyJson.parse to keep numbers as Python reads them. */
    readonly parser?: (text: string) => unknown
  } = {}
): Effect.Effect<unknown, Problem, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    let target = file
    if (options.within !== undefined) {
      const root = yield* fs.realPath(options.within).pipe(Effect.orElseSucceed(() => options.within!))
      const real = yield* fs.realPath(file).pipe(Effect.mapError(() => problem(file, "file not found or unreadable")))
      if (!Confine.isInside(root, real)) {
        return yield* Effect.fail(problem(file, `is a symlink to ${real}, outside ${root}; metadata is read only from inside the job dir`))
      }
      target = real
    }
    const info = yield* fs.stat(target).pipe(Effect.mapError(() => problem(file, "file not found or unreadable")))
    if (info.type !== "File") return yield* Effect.fail(problem(file, "not a regular file"))
    if (Number(info.size) > MAX_JSON_BYTES) {
      return yield* Effect.fail(
        problem(file, `JSON file is ${info.size} bytes, over the ${MAX_JSON_BYTES}-byte limit for metadata`)
      )
    }
    const text = yield* fs.readFileString(target).pipe(Effect.mapError(() => problem(file, "file unreadable")))
    return yield* parse(file, text, options.parser)
  })

/** Parses JSON text, turning a syntax error into a Problem that keeps the parser's position. */
export const parse = (file: string, text: string, parser: (text: string) => unknown = JSON.parse): Effect.Effect<unknown, Problem> =>
  Effect.try({
    try: () => parser(text),
    catch: (e) => problem(file, `malformed JSON: ${e instanceof Error ? e.message : String(e)}`)
  })

/**
 * True for a plain JSON object (not an array, not null): Effect's
 * `Predicate.isRecord`, which core uses directly; kept under this name for
 * the callers outside core that read JSON through it.
 */
export const isObject: (u: unknown) => u is Record<string, unknown> = Predicate.isRecord
