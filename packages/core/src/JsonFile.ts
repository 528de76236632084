/**
 * Reading the small JSON documents a job writes (catalogs, items, dataset.json,
 * met.json, _job.json). Every failure becomes a `Problem` naming the file, so a
 * caller can gather all of them before reporting.
 */
import { FileSystem } from "@effect/platform"
import { Effect, Predicate } from "effect"
import * as Confine from "./Confine.ts"
import type { Problem } from "./Errors.ts"
import type { Resolved } from "./JobTree.ts"
import { type TreeIndex, Unknown } from "./TreeIndex.ts"

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
    /** The planning walk's index: its stat and realpath, the text read through the JobTree port. */
    readonly tree?: TreeIndex
  } = {}
): Effect.Effect<unknown, Problem, FileSystem.FileSystem> =>
  options.tree !== undefined ? readIndexed(file, options.tree, options.within, options.parser) : readDirect(file, options.within, options.parser)

const tooLarge = (file: string, size: number) =>
  problem(file, `JSON file is ${size} bytes, over the ${MAX_JSON_BYTES}-byte limit for metadata`)

/**
 * The same checks, answered by the planning walk's index (TreeIndex): its
 * realpath and stat, then the text read no-follow through the JobTree port,
 * in batches when the caller said what it reads next. The index answers the
 * paths of nearly every document without an Effect (`known`); one that it
 * cannot is asked of the file system (`resolve`).
 */
const readIndexed = (file: string, tree: TreeIndex, within: string | undefined, parser?: (text: string) => unknown): Effect.Effect<unknown, Problem> => {
  /** The directory `file` must lie inside: `within`'s real path, or `within` as given when it has none. */
  const rootOf = (resolved: Resolved | undefined) => (within === undefined ? undefined : (resolved?.real ?? within))
  const known = tree.known(file)
  const root = within === undefined ? undefined : tree.known(within)
  if (known === Unknown || root === Unknown) {
    return Effect.flatMap(
      Effect.all([tree.resolve(file), within === undefined ? Effect.succeed(undefined) : tree.resolve(within)]),
      ([resolved, rootResolved]) => readResolved(file, tree, resolved, rootOf(rootResolved), parser)
    )
  }
  return readResolved(file, tree, known, rootOf(root), parser)
}

/** `file`, resolved to `resolved`, checked to lie inside `root` (when given) and to be a regular file within the limit, then read and parsed. */
const readResolved = (
  file: string,
  tree: TreeIndex,
  resolved: Resolved | undefined,
  root: string | undefined,
  parser?: (text: string) => unknown
): Effect.Effect<unknown, Problem> => {
  if (resolved === undefined) return Effect.fail(problem(file, "file not found or unreadable"))
  if (root !== undefined && !Confine.isInside(root, resolved.real)) {
    return Effect.fail(problem(file, `is a symlink to ${resolved.real}, outside ${root}; metadata is read only from inside the job dir`))
  }
  if (resolved.info.type !== "File") return Effect.fail(problem(file, "not a regular file"))
  if (resolved.info.size > MAX_JSON_BYTES) return Effect.fail(tooLarge(file, resolved.info.size))
  return Effect.flatMap(tree.readText(resolved.real, MAX_JSON_BYTES), (read) => {
    if (read._tag === "Text") return parseNow(file, read.text, parser)
    switch (read.reason) {
      case "Missing":
        return Effect.fail(problem(file, "file not found or unreadable"))
      case "NotAFile":
        return Effect.fail(problem(file, "not a regular file"))
      case "TooLarge":
        return Effect.fail(tooLarge(file, read.size ?? resolved.info.size))
      case "Unreadable":
        return Effect.fail(problem(file, "file unreadable"))
    }
  })
}

const readDirect = (file: string, within: string | undefined, parser?: (text: string) => unknown): Effect.Effect<unknown, Problem, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const options = { within }
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
    if (Number(info.size) > MAX_JSON_BYTES) return yield* Effect.fail(tooLarge(file, Number(info.size)))
    const text = yield* fs.readFileString(target).pipe(Effect.mapError(() => problem(file, "file unreadable")))
    return yield* parse(file, text, parser)
  })

/** Parses JSON text, turning a syntax error into a Problem that keeps the parser's position. */
export const parse = (file: string, text: string, parser: (text: string) => unknown = JSON.parse): Effect.Effect<unknown, Problem> =>
  Effect.suspend(() => parseNow(file, text, parser))

/** `parse`, parsed when called: for a caller already running (inside a flatMap), one Effect less per document. */
const parseNow = (file: string, text: string, parser: (text: string) => unknown = JSON.parse): Effect.Effect<unknown, Problem> => {
  try {
    return Effect.succeed(parser(text))
  } catch (e) {
    return Effect.fail(problem(file, `malformed JSON: ${e instanceof Error ? e.message : String(e)}`))
  }
}

/**
 * True for a plain JSON object (not an array, not null): Effect's
 * `Predicate.isRecord`, which core uses directly; kept under this name for
 * the callers outside core that read JSON through it.
 */
export const isObject: (u: unknown) => u is Record<string, unknown> = Predicate.isRecord
