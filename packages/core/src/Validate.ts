/**
 * `validate`: every problem of a catalog or a job dir, without publishing. With a
 * datasets.json it runs the full ingest planning (templates, matching, all
 * checks); without one it checks what needs no configuration: catalogs, paths
 * and the classic products' JSON files.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Either, Predicate } from "effect"
import * as Confine from "./Confine.ts"
import type * as DatasetConfig from "./DatasetConfig.ts"
import * as Location from "./Location.ts"
import * as Discovery from "./Discovery.ts"
import { type ConfigError, type Problem, ValidationError } from "./Errors.ts"
import * as JobInfo from "./JobInfo.ts"
import * as JsonFile from "./JsonFile.ts"
import * as Plan from "./Plan.ts"
import * as ProductFiles from "./ProductFiles.ts"
import * as Stac from "./Stac.ts"
import * as StacTree from "./StacTree.ts"
import type { Warning } from "./Warning.ts"

export interface Validated {
  readonly catalogs: number
  readonly items: number
  readonly products: number
  /** What would not stop an ingest: migrated STAC documents, unchecked extensions. */
  readonly warnings: ReadonlyArray<Warning>
}

const fail = (target: string, problems: ReadonlyArray<Problem>) =>
  new ValidationError({
    message: `${target} is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"})`,
    problems,
    hint: "fix the files named above"
  })

const classicProblems = (dir: string) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const id = path.basename(dir)
    const problems: Array<Problem> = []
    const file = path.join(dir, `${id}.dataset.json`)
    const json = yield* JsonFile.read(file).pipe(Effect.either)
    if (Either.isLeft(json)) problems.push(json.left)
    else if (!Predicate.isRecord(json.right) || typeof json.right.version !== "string") {
      problems.push({ file, path: "$.version", message: "required field missing: version (a non-empty string)" })
    }
    if (Either.isRight(json) && Predicate.isRecord(json.right)) {
      for (const i of Stac.geometryIssues(json.right.location, ["location"])) problems.push({ file, path: i.path, message: i.message })
    }
    problems.push(...(yield* ProductFiles.list(dir)).problems)
    return problems
  })

/**
 * Every publish and browse location of `datasets` (matched by a product of this
 * job or not) whose scheme no configured store publishes to: `dav://`,
 * `davs://`, `http://`... and, with an S3 store, `file://`. A location whose
 * scheme is itself a template is left to planning.
 */
export const unpublishableLocations = (datasets: DatasetConfig.DatasetsConfig, schemes: ReadonlyArray<string>): Array<Problem> =>
  datasets.entries.flatMap(({ entry, index, name }) =>
    (["publish", "browse"] as const).flatMap((section) => {
      const location = entry[section]?.location
      const why = location === undefined ? undefined : Location.unservedScheme(location, schemes)
      return why === undefined
        ? []
        : [{ file: datasets.file, path: `$.datasets[${index}].${section}.location`, message: `${name}: ${JSON.stringify(location)}: ${why}; such an entry's products would be refused` }]
    })
  )

export const validate = (
  target: string,
  datasets?: DatasetConfig.DatasetsConfig,
  /** The configured object store's schemes (ObjectStore `schemes`): with `datasets`, every location is checked against them. */
  schemes?: ReadonlyArray<string>,
  /** What an entry's `extractor` expands `$VAR`s from, as in an ingest. */
  env?: Readonly<Record<string, string | undefined>>
): Effect.Effect<Validated, ValidationError | ConfigError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const info = yield* fs.stat(target).pipe(
      Effect.mapError(() => fail(target, [{ file: target, path: "", message: "no such file or directory" }]))
    )
    if (info.type === "File") {
      const tree = yield* StacTree.readTree(target)
      return { catalogs: 1, items: tree.items.length, products: 0, warnings: tree.warnings }
    }
    if (datasets) {
      // As an ingest plans it: from the job dir's real path.
      const unpublishable = schemes === undefined ? [] : unpublishableLocations(datasets, schemes)
      const jobDir = yield* Confine.realJobDir(target)
      const job = yield* JobInfo.read(jobDir)
      const plan = yield* Plan.make({
        jobDir,
        job,
        datasets,
        stac: true,
        hostname: "validate",
        now: new Date(),
        ...(schemes !== undefined ? { schemes } : {}),
        ...(env ? { env } : {})
      }).pipe(
        // Reported with the job's own problems, all together.
        Effect.catchTag("ValidationError", (e) => Effect.fail(unpublishable.length === 0 ? e : fail(target, [...unpublishable, ...e.problems])))
      )
      if (unpublishable.length > 0) return yield* Effect.fail(fail(target, unpublishable))
      return {
        catalogs: plan.products.filter((p) => p.kind === "stac").length,
        items: plan.totals.items,
        products: plan.totals.products,
        warnings: plan.warnings
      }
    }
    const found = yield* Discovery.discover(target, { stac: true })
    const problems: Array<Problem> = [...found.problems]
    let items = 0
    const warnings: Array<Warning> = []
    for (const root of found.catalogs) {
      const tree = yield* StacTree.readTree(root).pipe(Effect.either)
      if (Either.isLeft(tree)) problems.push(...tree.left.problems)
      else {
        items += tree.right.items.length
        warnings.push(...tree.right.warnings)
      }
    }
    for (const dir of found.products) problems.push(...(yield* classicProblems(dir)))
    if (problems.length > 0) return yield* Effect.fail(fail(target, problems))
    return { catalogs: found.catalogs.length, items, products: found.catalogs.length + found.products.length, warnings }
  })
