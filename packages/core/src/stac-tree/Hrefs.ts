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
 * The verdict, or when the index cannot give it alone, the Effect that asks
 * the file system. Why not always an Effect: a catalog has several hrefs per
 * item and the index answers nearly all of them; an Effect each was a good
 * part of planning's time (`Effect.isEffect` tells the two apart).
 */
export type Checked = Target | undefined | Effect.Effect<Target | undefined>

/** Where an href is, for a message: its JSON path and what it is ("asset \"data\" href"). */
export interface Site {
  readonly jsonPath: string
  readonly what: string
}

/**
 * Checks that an href is a relative path to an existing regular file inside the
 * root directory (also after symlinks). Gives the absolute and real paths when
 * it is, after reporting why when it is not. For a remote URL, `remoteOk` returns
 * the problem to report, or undefined when such a URL is fine there. `site` is
 * asked only for a report (nearly every href passes: no strings made for them).
 */
export const check = (
  r: Reading,
  from: string,
  href: string,
  site: () => Site,
  isAsset: boolean,
  remoteOk: (scheme: string) => string | undefined
): Checked => {
  const kind = Stac.classifyHref(href)
  switch (kind._tag) {
    case "FileUrl": {
      const { jsonPath, what } = site()
      r.report(from, jsonPath, `${what} is a file: URL (${href}), which points at the local machine; use a path relative to the catalog`)
      return undefined
    }
    case "AbsolutePath": {
      const { jsonPath, what } = site()
      r.report(from, jsonPath, `${what} is an absolute local path (${href}); use a path relative to the catalog`)
      return undefined
    }
    case "Url": {
      const refusal = remoteOk(kind.scheme)
      if (refusal !== undefined) r.report(from, site().jsonPath, refusal)
      return undefined
    }
    case "Relative": {
      const abs = r.path.resolve(r.path.dirname(from), kind.path)
      if (!isInside(r.rootDir, abs)) {
        const { jsonPath, what } = site()
        r.report(from, jsonPath, `${what} ${JSON.stringify(href)} resolves outside the catalog directory ${r.rootDir} (to ${abs})`)
        return undefined
      }
      // stat + realpath from the planning walk's index, without ever opening the
      // file (a fifo would block a read); the file system only when the index cannot say.
      const conclude = (found: Resolved | undefined): Target | undefined => {
        if (found !== undefined && found.info.type === "File" && isInside(r.realRootDir, found.real)) return { abs, real: found.real }
        const { jsonPath, what } = site()
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
        r.report(from, jsonPath, `${what} ${JSON.stringify(href)} is not a regular file (${found.info.type})`)
        return undefined
      }
      const known = r.tree.known(abs)
      return known === TreeIndex.Unknown ? Effect.map(r.tree.resolve(abs), conclude) : conclude(known)
    }
  }
}
