/**
 * Whether one href of the catalog (a link's or an asset's) may be followed or
 * shipped: a relative path to an existing regular file inside the catalog
 * directory, also after symlinks. That directory is what gets published, so
 * anything outside it (a `..` path, an absolute path, a `file:` URL, a symlink
 * out) would either leak local files or publish a broken link.
 *
 * A remote URL is never followed; whether it is acceptable depends on where it
 * appears (a tree link cannot be remote, an asset may use a few schemes), so
 * the caller says, through `remoteOk`.
 */
import { Effect } from "effect"
import type { Resolved } from "../JobTree.ts"
import { isInside } from "../ProductFiles.ts"
import * as Stac from "../Stac.ts"
import * as TreeIndex from "../TreeIndex.ts"
import type { Reading } from "./Reading.ts"

/** A checked local target: its absolute path as named and its real path. */
export interface Target {
  readonly abs: string
  readonly real: string
}

/**
 * Checks that an href is a relative path to an existing regular file inside the
 * root directory (also after symlinks). Returns the absolute and real paths when
 * it is, after reporting why when it is not. For a remote URL, `remoteOk` returns
 * the problem to report, or undefined when such a URL is fine there.
 */
export const check = (
  r: Reading,
  from: string,
  jsonPath: string,
  href: string,
  what: string,
  isAsset: boolean,
  remoteOk: (scheme: string) => string | undefined
): Effect.Effect<Target | undefined> => {
  const kind = Stac.classifyHref(href)
  switch (kind._tag) {
    case "FileUrl":
      r.report(from, jsonPath, `${what} is a file: URL (${href}), which points at the local machine; use a path relative to the catalog`)
      return NONE
    case "AbsolutePath":
      r.report(from, jsonPath, `${what} is an absolute local path (${href}); use a path relative to the catalog`)
      return NONE
    case "Url": {
      const refusal = remoteOk(kind.scheme)
      if (refusal !== undefined) r.report(from, jsonPath, refusal)
      return NONE
    }
    case "Relative": {
      const abs = r.path.resolve(r.path.dirname(from), kind.path)
      if (!isInside(r.rootDir, abs)) {
        r.report(from, jsonPath, `${what} ${JSON.stringify(href)} resolves outside the catalog directory ${r.rootDir} (to ${abs})`)
        return NONE
      }
      // stat + realpath from the planning walk's index, without ever opening the
      // file (a fifo would block a read); the file system only when the index cannot say.
      const conclude = (found: Resolved | undefined): Target | undefined => {
        if (found === undefined) {
          r.report(
            from,
            jsonPath,
            isAsset
              ? `${what} ${JSON.stringify(href)} names a missing file: ${r.rel(abs)} does not exist`
              : `${what} ${JSON.stringify(href)} is dangling: ${r.rel(abs)} does not exist`
          )
          return undefined
        }
        if (!isInside(r.realRootDir, found.real)) {
          r.report(from, jsonPath, `${what} ${JSON.stringify(href)} is a symlink leading outside the catalog directory (to ${found.real})`)
          return undefined
        }
        if (found.info.type !== "File") {
          r.report(from, jsonPath, `${what} ${JSON.stringify(href)} is not a regular file (${found.info.type})`)
          return undefined
        }
        return { abs, real: found.real }
      }
      const known = r.tree.known(abs)
      return known === TreeIndex.Unknown ? Effect.map(r.tree.resolve(abs), conclude) : Effect.succeed(conclude(known))
    }
  }
}

const NONE: Effect.Effect<undefined> = Effect.succeed(undefined)
