/**
 * Locations no configured store can publish to (issue 10.3): `validate
 * --datasets` names every one, matched by a product or not, and planning an
 * ingest refuses a product's, before anything is claimed. WebDAV and HTTP
 * locations (which HySDS's osaka speaks) have no store here.
 */
import { BunContext } from "@effect/platform-bun"
import { describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as DatasetConfig from "./DatasetConfig.ts"
import * as JobInfo from "./JobInfo.ts"
import * as Plan from "./Plan.ts"
import * as Validate from "./Validate.ts"

/** Planning a job reads every file: generous on a loaded machine. */
const T = 30_000
const EXAMPLES = path.resolve(import.meta.dir, "..", "..", "..", "examples")

const mixedJob = (): string => {
  const dir = path.join(fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "validate-"))), "mixed-job")
  fs.cpSync(path.join(EXAMPLES, "mixed-job"), dir, { recursive: true })
  return dir
}

/** The example datasets.json with the AOI entry's publish at `aoi` and extra entries (matching nothing) at `others`. */
const datasetsWith = (aoi: string, others: ReadonlyArray<string>): DatasetConfig.DatasetsConfig => {
  const config = JSON.parse(fs.readFileSync(path.join(EXAMPLES, "datasets.json"), "utf8")) as { datasets: Array<Record<string, any>> }
  config.datasets.find((e) => e.ipath === "hysds::data/area_of_interest")!.publish.location = aoi
  others.forEach((location, i) =>
    config.datasets.push({ ipath: `hysds::data/other${i}`, level: "l0", type: "other", match_pattern: `/(?P<id>NOTHING_${i}_.+)$`, publish: { location, urls: [] } })
  )
  return Either.getOrThrow(DatasetConfig.parse(JSON.stringify(config), "datasets.json", {}))
}

const run = <A, E>(effect: Effect.Effect<A, E, any>) => Effect.runPromise(Effect.either(effect).pipe(Effect.provide(BunContext.layer)) as Effect.Effect<Either.Either<A, E>>)

describe("locations whose scheme no configured store publishes to", () => {
  test("validate --datasets names every one, with the entry and the field, matched by a product or not", async () => {
    const datasets = datasetsWith("davs://dav.example.com/repo/{id}", ["dav://dav.example.com/x/{id}", "http://example.com/x/{id}", "file:///data/{id}"])
    const outcome = await run(Validate.validate(mixedJob(), datasets, ["s3"]))
    if (Either.isRight(outcome)) throw new Error("validated")
    const problems = (outcome.left as { problems: ReadonlyArray<{ file: string; path: string; message: string }> }).problems
    const fromConfig = problems.filter((p) => p.file === "datasets.json")
    expect(fromConfig.map((p) => p.path)).toEqual([
      "$.datasets[1].publish.location",
      "$.datasets[4].publish.location",
      "$.datasets[5].publish.location",
      "$.datasets[6].publish.location"
    ])
    expect(fromConfig.map((p) => p.message.match(/publishes to (\w+):\/\//)?.[1])).toEqual(["davs", "dav", "http", "file"])
    expect(fromConfig[0]!.message).toContain("the configured one serves s3://")
    // The AOI product itself is reported by planning too.
    expect(problems.some((p) => p.file.endsWith("AOI_volcano_etna") && p.message.includes("davs://"))).toBe(true)
  }, T)

  test("an embedded store serves file:// and s3://: only the others are named", async () => {
    const datasets = datasetsWith("s3://bucket/{id}", ["file:///data/{id}", "davs://dav.example.com/x/{id}"])
    const outcome = await run(Validate.validate(mixedJob(), datasets, ["file", "s3"]))
    if (Either.isRight(outcome)) throw new Error("validated")
    const problems = (outcome.left as { problems: ReadonlyArray<{ path: string }> }).problems
    expect(problems.map((p) => p.path)).toEqual(["$.datasets[5].publish.location"])
  }, T)

  test("all served: valid", async () => {
    const outcome = await run(Validate.validate(mixedJob(), datasetsWith("s3://bucket/{id}", ["s3://other/{id}"]), ["s3"]))
    expect(Either.isRight(outcome)).toBe(true)
  }, T)

  test("planning refuses a product's location the store does not serve, so an ingest fails before claiming", async () => {
    const dir = mixedJob()
    const outcome = await run(
      Effect.gen(function* () {
        const job = yield* JobInfo.read(dir)
        return yield* Plan.make({ jobDir: dir, job, datasets: datasetsWith("file:///data/{id}", []), stac: true, hostname: "test", now: new Date(), schemes: ["s3"] })
      })
    )
    if (Either.isRight(outcome)) throw new Error("planned")
    const problems = (outcome.left as { problems: ReadonlyArray<{ file: string; message: string }> }).problems
    expect(problems).toHaveLength(1)
    expect(problems[0]!.file).toBe(path.join(dir, "AOI_volcano_etna"))
    expect(problems[0]!.message).toContain("no configured object store publishes to file://")
  }, T)
})
