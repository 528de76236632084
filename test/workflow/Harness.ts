/**
 * In-process harness for workflow tests: the real embedded adapters, wrapped so a
 * test can make the N-th call of a port method fail (or hang, to interrupt it),
 * and an in-memory journal to read back what the run recorded.
 */
import { BunContext } from "@effect/platform-bun"
import { Embedded, NodeJobTree } from "@hysds-stac/adapters"
import { Errors, GrqIndex, Ingest, Journal, ObjectStore, Progress, Retry, StacRegistry } from "@hysds-stac/core"
import { Context, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export const repo = path.resolve(import.meta.dir, "..", "..")
export const examples = path.join(repo, "examples")

export type Port = "store" | "index" | "registry"

export interface Fault {
  readonly port: Port
  readonly method: string
  /** 1-based call number that misbehaves; every call when absent. */
  readonly nth?: number
  /** Hang forever instead of failing (the test then interrupts the run). */
  readonly hang?: boolean
}

const injected = (port: Port, method: string, n: number) => {
  const message = `injected failure: ${port}.${method} call ${n}`
  if (port === "store") return new Errors.StorageError({ message })
  if (port === "index") return new Errors.IndexError({ message })
  return new Errors.CatalogApiError({ message })
}

/** Calls seen per `port.method`, and a signal set when a hanging call is reached. */
export interface Probe {
  readonly calls: Map<string, number>
  hung: boolean
}

const wrap = <S extends object>(service: S, port: Port, faults: ReadonlyArray<Fault>, probe: Probe): S =>
  new Proxy(service, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (typeof value !== "function") return value
      const method = String(key)
      return (...args: Array<unknown>) => {
        const name = `${port}.${method}`
        const n = (probe.calls.get(name) ?? 0) + 1
        probe.calls.set(name, n)
        const fault = faults.find((f) => f.port === port && f.method === method && (f.nth === undefined || f.nth === n))
        if (!fault) return value.apply(target, args)
        if (fault.hang) return Effect.sync(() => (probe.hung = true)).pipe(Effect.zipRight(Effect.never))
        return Effect.fail(injected(port, method, n))
      }
    }
  })

export const tempDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `hysds-stac-${prefix}-`))

/** A copy of an example job in a temp dir. */
export const copyJob = (name: string): string => {
  const dir = path.join(tempDir("job"), name)
  fs.cpSync(path.join(examples, name), dir, { recursive: true })
  fs.rmSync(path.join(dir, "_datasets.json"), { force: true })
  return dir
}

export const backends = (stateDir: string, faults: ReadonlyArray<Fault>, probe: Probe) =>
  Layer.effectContext(
    Effect.gen(function* () {
      const store = yield* ObjectStore.ObjectStore
      const index = yield* GrqIndex.GrqIndex
      const registry = yield* StacRegistry.StacRegistry
      return Context.make(ObjectStore.ObjectStore, wrap(store, "store", faults, probe)).pipe(
        Context.add(GrqIndex.GrqIndex, wrap(index, "index", faults, probe)),
        Context.add(StacRegistry.StacRegistry, wrap(registry, "registry", faults, probe))
      )
    })
  ).pipe(Layer.provide(Embedded.layer({ stateDir })))

export interface Run {
  readonly journal: Array<Journal.JournalRecord>
  readonly probe: Probe
}

export const options = (jobDir: string, overrides: Partial<Ingest.IngestOptions> = {}): Ingest.IngestOptions => ({
  jobDir,
  datasetsFile: path.join(examples, "datasets.json"),
  force: false,
  dryRun: false,
  stac: true,
  concurrency: 4,
  batchSize: 500,
  hostname: "test-host",
  env: {},
  ...overrides
})

/** The ingest as an Effect with every layer provided, plus what the run recorded. */
export const ingest = (
  stateDir: string,
  opts: Ingest.IngestOptions,
  faults: ReadonlyArray<Fault> = [],
  /** Progress events; a test may act on one (change the job dir once it is planned, say). */
  progress: Layer.Layer<Progress.Progress> = Progress.Progress.none
): { readonly effect: Effect.Effect<Ingest.IngestResult, Ingest.IngestFailed | Errors.StorageError>; readonly run: Run } => {
  const run: Run = { journal: [], probe: { calls: new Map(), hung: false } }
  const effect = Ingest.run(opts).pipe(
    Effect.provide(
      Layer.mergeAll(
        backends(stateDir, faults, run.probe),
        Journal.memory(run.journal),
        progress,
        BunContext.layer,
        NodeJobTree.layer,
        // Undo retries kept short: a fault here never heals, so waiting for it is only slower.
        Layer.succeed(Retry.UndoPolicy, { retries: 3, baseMillis: 5, maxMillis: 20 })
      )
    )
  )
  return { effect, run }
}

export interface Snapshot {
  readonly files: ReadonlyArray<readonly [string, string]>
  readonly documents: ReadonlyArray<unknown>
  readonly collections: ReadonlyArray<unknown>
  readonly items: ReadonlyArray<unknown>
}

const hashFiles = (root: string): Array<readonly [string, string]> => {
  if (!fs.existsSync(root)) return []
  return (fs.readdirSync(root, { recursive: true, encoding: "utf8" }) as Array<string>)
    .filter((f) => fs.statSync(path.join(root, f)).isFile())
    .sort()
    .map((f) => [f, new Bun.CryptoHasher("sha256").update(fs.readFileSync(path.join(root, f))).digest("hex")] as const)
}

/** The data of a state dir: stored objects with their hashes, documents, collections, items. */
export const snapshot = (stateDir: string): Promise<Snapshot> =>
  Effect.gen(function* () {
    const index = yield* GrqIndex.GrqIndex
    const registry = yield* StacRegistry.StacRegistry
    const collections = yield* registry.listCollections()
    const items = []
    for (const c of collections) items.push(...(yield* registry.listItems(String(c.id))))
    return { files: hashFiles(path.join(stateDir, "store")), documents: yield* index.list({}), collections, items }
  }).pipe(Effect.provide(Embedded.layer({ stateDir })), Effect.runPromise)

/** Step numbers in the order the rollback undid them. */
export const undoneSteps = (journal: ReadonlyArray<Journal.JournalRecord>) =>
  journal.flatMap((r) => (r._tag === "Undone" ? [r.step] : []))

