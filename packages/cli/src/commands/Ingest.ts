import { Args, Command, Options } from "@effect/cli"
import { Errors, Ingest, PhaseClock } from "@hysds-stac/core"
import { Config, Effect, Option } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import * as Output from "../Output.ts"
import { Liveness } from "@hysds-stac/adapters"
import * as ProgressLine from "../ProgressLine.ts"
import * as Shared from "../Shared.ts"

const jobDir = Args.directory({ name: "job-dir", exists: "yes" }).pipe(
  Args.withDescription("The job's output directory (with _job.json, products and STAC catalogs).")
)
export const datasets = Options.file("datasets", { exists: "yes" }).pipe(
  Options.withDescription("The datasets.json that maps product directories to publish locations (env HYSDS_DATASETS_CFG)."),
  Options.withFallbackConfig(Config.string("HYSDS_DATASETS_CFG")),
  Options.optional
)
const force = Options.boolean("force").pipe(
  Options.withDescription("Publish again what is already published; the earlier publication is restored if this run fails.")
)
const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("Check everything and print the plan; publish nothing."))
const noStac = Options.boolean("no-stac").pipe(
  Options.withDescription("Ignore STAC catalogs and publish classic HySDS products only, exactly as HySDS would (env HYSDS_STAC_DISABLE=1)."),
  Options.withFallbackConfig(Config.boolean("HYSDS_STAC_DISABLE")),
  Options.withDefault(false)
)
const skipChecks = Options.boolean("skip-checks").pipe(
  Options.withDescription("Do not check GRQ and the STAC API before publishing (the same checks as `hysds-stac check`).")
)
const noRecover = Options.boolean("no-recover").pipe(
  Options.withDescription("Refuse, instead of recovering first, when an earlier ingest of the same product died unfinished.")
)
const concurrency = Options.integer("concurrency").pipe(
  Options.withDescription("Files copied at the same time."),
  Options.withDefault(8)
)
const batchSize = Options.integer("batch-size").pipe(
  Options.withDescription(
    "STAC items (with their files) and GRQ documents per batch; batches flow through storing, registering and indexing side by side."
  ),
  Options.withDefault(500)
)

export const requireDatasets = (file: Option.Option<string>, asJson: boolean) =>
  Option.match(file, {
    onSome: (f) => Effect.succeed(path.resolve(f)),
    onNone: () =>
      Output.failure(
        new Errors.ConfigError({
          message: "no datasets.json given",
          hint: "pass --datasets FILE or set HYSDS_DATASETS_CFG (examples/datasets.json is a starting point)"
        }),
        { json: asJson }
      )
  })

export const command = Command.make(
  "ingest",
  { jobDir, datasets, force, dryRun, noStac, skipChecks, noRecover, concurrency, batchSize, ...Shared.backendOptions },
  (o) =>
    Effect.gen(function* () {
      const datasetsFile = yield* requireDatasets(o.datasets, o.json)
      const tty = process.stderr.isTTY === true
      const clock = PhaseClock.make(performance.now())
      const layers = ProgressLine.layer({ tty, quiet: o.json, clock })
      const outcome = yield* Shared.withBackends(
        o,
        Ingest.run({
          jobDir: path.resolve(o.jobDir),
          datasetsFile,
          force: o.force,
          dryRun: o.dryRun,
          checks: !o.skipChecks,
          recoverEarlier: !o.noRecover,
          owner: Liveness.thisProcess(),
          stac: !o.noStac,
          concurrency: Math.max(1, o.concurrency),
          batchSize: Math.max(1, o.batchSize),
          hostname: os.hostname(),
          env: process.env
        }).pipe(Effect.provide(layers), Effect.either)
      )
      yield* ProgressLine.clear(tty)
      // For operators: where the time went, and the most memory the process held (maxRSS is in KiB).
      const performanceJson = { phases: clock.times(performance.now()), peakRssBytes: process.resourceUsage().maxRSS * 1024 }
      if (outcome._tag === "Left") {
        const f = outcome.left
        // (A journal that cannot be opened fails in withBackends, before the ingest began.)
        return yield* Output.failure(f.error, { json: o.json, rollback: f.rollback, tx: f.tx, performance: performanceJson })
      }
      if (o.json) yield* Output.json({ ok: true, ...outcome.right, performance: performanceJson })
      else yield* Effect.sync(() => console.log(Output.ingestSummary(outcome.right)))
    })
).pipe(
  Command.withDescription(
    "Publish a job's products: copy files to the store, register STAC collections and items, index GRQ documents. All of it lands or none of it does."
  )
)
