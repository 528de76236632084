/**
 * Finding what a job dir holds: STAC catalogs first (their roots only), then
 * classic HySDS products by HySDS's rule (`<X>/<X>.dataset.json`), skipping what
 * a catalog already covers and inputs marked `.localized`.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import type { Problem } from "./Errors.ts"
import { isInside } from "./ProductFiles.ts"

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
  options: { readonly stac: boolean }
): Effect.Effect<Discovered, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dirs: Array<{ dir: string; names: ReadonlyArray<string> }> = []
    const problems: Array<Problem> = []
    const seen = new Set<string>()

    // Sorted walk that follows links like HySDS, entering each real directory once.
    const walk = (dir: string): Effect.Effect<void> =>
      Effect.gen(function* () {
        const real = yield* fs.realPath(dir).pipe(Effect.orElseSucceed(() => dir))
        if (seen.has(real)) return
        seen.add(real)
        const names = yield* fs.readDirectory(dir).pipe(
          Effect.catchAll(() => {
            problems.push({ file: dir, path: "", message: "cannot read directory" })
            return Effect.succeed([] as Array<string>)
          })
        )
        const sorted = [...names].sort()
        dirs.push({ dir, names: sorted })
        for (const name of sorted) {
          const child = path.join(dir, name)
          const info = yield* fs.stat(child).pipe(Effect.option)
          if (info._tag === "Some" && info.value.type === "Directory") yield* walk(child)
        }
      })
    yield* walk(jobDir)

    // A candidate inside another candidate's directory belongs to that catalog; the
    // walk is depth-first and sorted, so shallower candidates come first per branch.
    const catalogs: Array<string> = []
    if (options.stac) {
      const candidates = dirs
        .flatMap(({ dir, names }) => {
          const name = STAC_ROOT_NAMES.find((n) => names.includes(n))
          return name ? [path.join(dir, name)] : []
        })
        .sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b))
      for (const file of candidates) {
        if (!catalogs.some((root) => isInside(path.dirname(root), path.dirname(file)))) catalogs.push(file)
      }
    }

    const skipped: Array<{ dir: string; reason: string }> = []
    const products: Array<string> = []
    for (const { dir, names } of dirs) {
      const id = path.basename(dir)
      if (!names.includes(`${id}.dataset.json`)) continue
      const catalog = catalogs.find((root) => isInside(path.dirname(root), dir))
      if (catalog) skipped.push({ dir, reason: `part of STAC catalog ${catalog}` })
      else if (names.includes(".localized")) skipped.push({ dir, reason: "input of the job (.localized)" })
      else products.push(dir)
    }
    return { catalogs, products, skipped, problems }
  })
