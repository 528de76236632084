/**
 * Finding what a job dir holds: STAC catalogs first (their roots only), then
 * classic HySDS products by HySDS's rule (`<X>/<X>.dataset.json`), skipping what
 * a catalog already covers and inputs marked `.localized`.
 *
 * The walk never leaves the job dir: `jobDir` is its real path, each entry is
 * resolved (realpath, then one stat of the real path) and a directory symlink
 * whose target lies outside is not entered. Such a link is a Problem (a product
 * or catalog there would publish files the job does not own), except when the
 * target is an input HySDS localized from its cache (it holds `.localized`),
 * which is skipped as inputs are.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import * as Confine from "./Confine.ts"
import * as EventLoop from "./EventLoop.ts"
import type { Problem } from "./Errors.ts"
import * as JobTree from "./JobTree.ts"
import * as TreeIndex from "./TreeIndex.ts"

const isInside = Confine.isInside

/** The job's own output: written by the ingest, so never a link and never anything but a file. */
export const DATASETS_JSON = "_datasets.json"

export interface Discovered {
  /** Root `catalog.json`/`collection.json` files, one per catalog. */
  readonly catalogs: ReadonlyArray<string>
  /** Classic product directories. */
  readonly products: ReadonlyArray<string>
  /** Directories passed over, and why (shown in dry runs and summaries). */
  readonly skipped: ReadonlyArray<{ readonly dir: string; readonly reason: string }>
  readonly problems: ReadonlyArray<Problem>
}

const STAC_ROOT_NAMES = ["catalog.json", "collection.json"]

export const discover = (
  jobDir: string,
  options: { readonly stac: boolean },
  /** The planning walk's index of the job dir; built here when absent. */
  given?: TreeIndex.TreeIndex
): Effect.Effect<Discovered, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    // Every name a directory is reached under, in walk order; `entered` marks the one
    // walked into (each real directory once), whose descendants carry its name.
    const dirs: Array<{ readonly dir: string; readonly real: string; readonly names: ReadonlyArray<string>; readonly entered: boolean }> = []
    const problems: Array<Problem> = []
    const seen = new Set<string>()

    const skipped: Array<{ dir: string; reason: string }> = []
    const due = yield* EventLoop.pace
    const tree = given ?? (yield* TreeIndex.scan(yield* JobTree.current, yield* fs.realPath(jobDir).pipe(Effect.orElseSucceed(() => jobDir))))
    const realRoot = (yield* tree.resolve(jobDir))?.real ?? jobDir

    // `_datasets.json` is replaced by a rename at the end of the ingest, which never
    // writes through a link; refusing one here says so before anything is published.
    const output = path.join(jobDir, DATASETS_JSON)
    const own = tree.own(output) ?? (yield* Confine.isSymlink(output).pipe(Effect.map((link) => (link ? { type: "SymbolicLink" as const } : undefined))))
    if (own?.type === "SymbolicLink") {
      const target = yield* fs.readLink(output).pipe(Effect.orElseSucceed(() => "?"))
      problems.push({ file: output, path: "", message: `is a symlink (to ${target}); the ingest writes this file, so it must be absent or a regular file: remove it` })
    } else {
      const info = yield* tree.resolve(output)
      if (info !== undefined && info.info.type !== "File") {
        problems.push({ file: output, path: "", message: `is a ${info.info.type}, not a regular file; the ingest writes this file: remove it` })
      }
    }

    // Sorted walk that follows links like HySDS, but only to directories inside the
    // job dir, entering each real directory once. Every answer comes from the index:
    // an entry's kind from its lstat, a symlink's target from its one realpath.
    // Depth-first with a stack of open directories rather than an Effect per
    // directory: a catalog may put each of 100,000 items in a directory of its own.
    const open: Array<{ readonly dir: string; readonly real: string; readonly listed: TreeIndex.Listing | undefined; next: number }> = []
    const enter = (dir: string, real: string, listed: TreeIndex.Listing | undefined) => {
      if (listed === undefined) problems.push({ file: dir, path: "", message: "cannot read directory" })
      dirs.push({ dir, real, names: listed?.names ?? [], entered: true })
      open.push({ dir, real, listed, next: 0 })
    }
    seen.add(realRoot)
    enter(jobDir, realRoot, yield* tree.list(realRoot))
    while (open.length > 0) {
      const top = open[open.length - 1]!
      if (top.listed === undefined || top.next >= top.listed.names.length) {
        open.pop()
        continue
      }
      const i = top.next++
      const name = top.listed.names[i]!
      const entry = top.listed.infoAt(i)
      // Only the job dir itself may be named unnormalized; real paths and every path made below it are normalized.
      const child = top.dir === jobDir ? path.join(top.dir, name) : TreeIndex.childOf(top.dir, name)
      let real: string
      if (entry.type === "Directory") real = TreeIndex.childOf(top.real, name)
      else if (entry.type === "SymbolicLink") {
        const target = yield* tree.resolve(TreeIndex.childOf(top.real, name))
        if (target === undefined) continue // a broken link publishes nothing
        if (target.info.type !== "Directory") continue
        if (!isInside(realRoot, target.real)) {
          const localized = yield* fs.exists(path.join(target.real, ".localized")).pipe(Effect.orElseSucceed(() => false))
          if (localized) skipped.push({ dir: child, reason: `input of the job (.localized), a symlink to ${target.real}` })
          else {
            problems.push({
              file: child,
              path: "",
              message: `is a symlink to ${target.real}, outside the job dir ${realRoot}; a job publishes only what lies inside its own directory: copy the data into the job dir or remove the link`
            })
          }
          continue
        }
        real = target.real
      } else continue
      if (seen.has(real)) {
        // Not walked again, but still a name the directory has: a link sorted before a
        // product dir would otherwise hide it (the link's name is not `<X>/<X>.dataset.json`).
        const listed = yield* tree.list(real)
        if (listed !== undefined) dirs.push({ dir: child, real, names: listed.names, entered: false })
        continue
      }
      seen.add(real)
      if (due()) yield* EventLoop.turn
      enter(child, real, yield* tree.list(real))
    }

    // A candidate inside another candidate's directory belongs to that catalog; the
    // walk is depth-first and sorted, so shallower candidates come first per branch.
    const catalogs: Array<string> = []
    if (options.stac) {
      // Under the name the walk entered: a catalog's products are found under it.
      const candidates = dirs
        .flatMap(({ dir, names, entered }) => {
          if (!entered) return []
          const name = STAC_ROOT_NAMES.find((n) => names.includes(n))
          return name ? [path.join(dir, name)] : []
        })
        .sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b))
      for (const file of candidates) {
        if (!catalogs.some((root) => isInside(path.dirname(root), path.dirname(file)))) catalogs.push(file)
      }
    }

    // A product is a real directory, found under the first of its names that matches.
    const products: Array<string> = []
    const matched = new Set<string>()
    for (const { dir, real, names } of dirs) {
      const id = path.basename(dir)
      if (!names.includes(`${id}.dataset.json`) || matched.has(real)) continue
      matched.add(real)
      const catalog = catalogs.find((root) => isInside(path.dirname(root), dir))
      if (catalog) skipped.push({ dir, reason: `part of STAC catalog ${catalog}` })
      else if (names.includes(".localized")) skipped.push({ dir, reason: "input of the job (.localized)" })
      else products.push(dir)
    }
    return { catalogs, products, skipped, problems }
  })
