/**
 * Confining requests to the job dirs the server is meant to publish. A path is
 * allowed only if its REAL path (every symlink resolved) lies under one of the
 * configured roots (themselves resolved at start). Checking the text of the
 * path alone would let `/jobs/x -> /etc` through; checking only the real path
 * would tell a caller which paths exist anywhere on the host. So the text is
 * checked first (nothing outside the roots is even looked at), then the real
 * path, and the ingest then runs on the real path, not on the link.
 */
import * as fs from "node:fs"
import * as path from "node:path"

export type Resolution =
  | { readonly _tag: "Allowed"; readonly real: string }
  /** Not an absolute path: relative to what would depend on the server's cwd. */
  | { readonly _tag: "NotAbsolute" }
  /** Outside every root, by its text or (through a symlink) by its real path. */
  | { readonly _tag: "Outside"; readonly real?: string }
  /** Under a root but does not exist (or cannot be resolved). */
  | { readonly _tag: "Missing" }

/** Whether `child` is `root` or below it (both absolute and normalized). */
export const isWithin = (root: string, child: string): boolean => {
  const rel = path.relative(root, child)
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))
}

/** A configured root: as written in the configuration, and its real path. */
export interface Root {
  readonly given: string
  readonly real: string
}

export const resolve = (roots: ReadonlyArray<Root>, requested: string): Resolution => {
  if (requested.includes("\0") || !path.isAbsolute(requested)) return { _tag: "NotAbsolute" }
  const lexical = path.resolve(requested)
  // A request may spell a root as configured or as its real path (/tmp vs /private/tmp).
  if (!roots.some((r) => isWithin(path.resolve(r.given), lexical) || isWithin(r.real, lexical))) return { _tag: "Outside" }
  let real: string
  try {
    real = fs.realpathSync(lexical)
  } catch {
    return { _tag: "Missing" }
  }
  return roots.some((r) => isWithin(r.real, real)) ? { _tag: "Allowed", real } : { _tag: "Outside", real }
}
