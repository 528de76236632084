/**
 * Support for the end-to-end tests of the `hysds-stac` CLI:
 * - sandboxes: a fresh temp dir per test, with copies of the examples and a
 *   state dir of its own, removed afterwards;
 * - running the CLI as users do (the compiled executable, or
 *   `bun packages/cli/src/bin.ts ...`; see CLI) from the repository root,
 *   capturing stdout, stderr and the exit code;
 * - snapshots of a state dir: every object under `store/` with its sha256, every
 *   GRQ record, every STAC collection and the items of each. Snapshots cover
 *   data only: the embedded index keeps the field mappings a rolled-back
 *   document introduced (as Elasticsearch does), and those are not compared.
 */
import { Embedded } from "@hysds-stac/adapters"
import { GrqIndex, StacRegistry } from "@hysds-stac/core"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"

/** The repository root: the CLI always runs from here. */
export const ROOT = path.resolve(import.meta.dir, "..", "..")
export const EXAMPLES = path.join(ROOT, "examples")
export const DATASETS = path.join(EXAMPLES, "datasets.json")
export const BIN = "packages/cli/src/bin.ts"

/**
 * The command that starts the CLI: the compiled executable job workers run
 * (scripts/build-cli.sh) when the test script built it for this run and names it
 * in HYSDS_STAC_CLI, else the source through bun. Why: a start from source costs
 * 1.8-2.0 s of CPU (every module transpiled), the executable 0.45 s, and the
 * suite starts the CLI hundreds of times (the crash matrices twice per boundary).
 */
export const CLI: ReadonlyArray<string> = process.env.HYSDS_STAC_CLI ? [process.env.HYSDS_STAC_CLI] : ["bun", path.join(ROOT, BIN)]

/** Exit codes of packages/cli/src/ExitCode.ts, restated: a test must notice if they change. */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 3,
  validation: 4,
  conflict: 5,
  storage: 6,
  index: 7,
  catalogApi: 8,
  interrupted: 130
} as const

/**
 * A generous per-test timeout: each CLI run starts a process, and some tests run
 * several. It only guards against a hang; on a loaded 2-core machine one CLI run
 * was seen to take over 25 s.
 */
export const TIMEOUT = 180_000

// ---------------------------------------------------------------------------
// Files

export const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex")

/**
 * Every file below `root` (hidden ones included, symlinks to files followed),
 * as sorted `[relative path, sha256]` pairs; empty when `root` does not exist.
 */
export const hashTree = (root: string): Array<readonly [string, string]> => {
  const out: Array<readonly [string, string]> = []
  const walk = (dir: string, rel: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      const r = rel === "" ? entry.name : `${rel}/${entry.name}`
      const info = entry.isSymbolicLink() ? statSync(full, { throwIfNoEntry: false }) : lstatSync(full)
      if (info?.isDirectory() && !entry.isSymbolicLink()) walk(full, r)
      else if (info?.isFile()) out.push([r, sha256(readFileSync(full))])
      else out.push([r, `<${entry.isSymbolicLink() ? "symlink" : "special"}>`])
    }
  }
  if (existsSync(root)) walk(root, "")
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

/** Every directory below `root` (relative paths, sorted). */
export const dirTree = (root: string): Array<string> => {
  const out: Array<string> = []
  const walk = (dir: string, rel: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const r = rel === "" ? entry.name : `${rel}/${entry.name}`
      out.push(r)
      walk(path.join(dir, entry.name), r)
    }
  }
  if (existsSync(root)) walk(root, "")
  return out.sort()
}

/**
 * Directories below a bucket that hold nothing. The store keeps S3 semantics
 * (no directories of their own), so a publish and its undo must not leave any;
 * bucket directories (`store/s3/<bucket>`) themselves may stay.
 */
export const emptyDirsBelowBuckets = (stateDir: string): Array<string> => {
  const store = storeDir(stateDir)
  return dirTree(store).filter((d) => d.split("/").length > 2 && readdirSync(path.join(store, d)).length === 0)
}

export const readJson = (file: string): unknown => JSON.parse(readFileSync(file, "utf8"))

/** The journal files of a state dir, open and finished (`journal/finished/`), as paths relative to `journal/`. */
export const journalFiles = (stateDir: string): Array<string> => {
  const dir = path.join(stateDir, "journal")
  return existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".jsonl")) : []
}

/** Every record of every transaction of a state dir, as stored (the checksum stripped; blank lines skipped). */
export const journalRecords = (stateDir: string): Array<{ _tag: string; step?: number; action?: { _tag: string; product?: string } }> =>
  journalFiles(stateDir).flatMap((f) =>
    readFileSync(path.join(stateDir, "journal", f), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l.slice(9)))
  )

// ---------------------------------------------------------------------------
// Sandboxes

export interface Sandbox {
  /** The temp dir holding everything of this test. */
  readonly root: string
  /** A state dir of its own (not created until something writes to it). */
  readonly stateDir: string
  /** A path inside the sandbox. */
  readonly path: (...segments: Array<string>) => string
  /** Copies `examples/<name>` into the sandbox (as `as`, default `name`); returns the copy's path. */
  readonly copyExample: (name: string, as?: string) => string
  readonly cleanup: () => void
}

/**
 * Copies an example job to `dest`. A `_datasets.json` at the job's top level is
 * what an earlier ingest wrote into the example (git-ignored), never an input:
 * it is left out so every test starts from the job as the job wrote it.
 */
export const copyExample = (name: string, dest: string): string => {
  const source = path.join(EXAMPLES, name)
  if (!existsSync(source)) throw new Error(`no example ${name} in ${EXAMPLES}`)
  const generated = path.join(source, "_datasets.json")
  cpSync(source, dest, { recursive: true, verbatimSymlinks: true, filter: (src) => src !== generated })
  return dest
}

export const sandbox = (label = "e2e"): Sandbox => {
  const root = mkdtempSync(path.join(tmpdir(), `hysds-stac-${label}-`))
  return {
    root,
    stateDir: path.join(root, "state"),
    path: (...segments) => path.join(root, ...segments),
    copyExample: (name, as = name) => copyExample(name, path.join(root, as)),
    cleanup: () => rmSync(root, { recursive: true, force: true })
  }
}

export const ensureDir = (dir: string): string => {
  mkdirSync(dir, { recursive: true })
  return dir
}

// ---------------------------------------------------------------------------
// Running the CLI

/**
 * Settings the CLI (or a datasets.json template) reads from the environment.
 * They are removed from the environment the tests inherit, so a developer's
 * shell cannot change what a test publishes or where.
 */
const SCRUBBED_PREFIXES = ["HYSDS_", "GRQ_", "STAC_", "S3_"]
const SCRUBBED = ["DATASET_S3_ENDPOINT", "DATASET_BUCKET", "BROWSE_BUCKET"]
const scrubbed = (name: string) => SCRUBBED.includes(name) || SCRUBBED_PREFIXES.some((p) => name.startsWith(p))

export type Env = Readonly<Record<string, string | undefined>>

export const cliEnv = (extra: Env = {}): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !scrubbed(k)) env[k] = v
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

export interface CliResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

export interface CliOptions {
  readonly env?: Env
  /** Killed (and the test failed) when it runs longer than this. */
  readonly timeoutMs?: number
}

/** Starts the CLI as a user would; the caller owns the process. */
export const spawnCli = (args: ReadonlyArray<string>, options: CliOptions = {}) =>
  Bun.spawn([...CLI, ...args], {
    cwd: ROOT,
    env: cliEnv(options.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })

/** Runs the CLI to completion. */
export const cli = async (args: ReadonlyArray<string>, options: CliOptions = {}): Promise<CliResult> => {
  const proc = spawnCli(args, options)
  const limit = options.timeoutMs ?? 120_000
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    proc.kill("SIGKILL")
  }, limit)
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited
  ])
  clearTimeout(timer)
  if (timedOut) throw new Error(`hysds-stac ${args.join(" ")} ran longer than ${limit} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`)
  return { exitCode, stdout, stderr }
}

/** What a failed expectation on a run should show: the whole run. */
export const describeRun = (r: CliResult): string => `exit ${r.exitCode}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

/** `hysds-stac ingest <jobDir> --datasets <datasets> --state-dir <stateDir> ...extra`. */
export const ingest = (
  jobDir: string,
  stateDir: string,
  extra: ReadonlyArray<string> = [],
  options: CliOptions & { readonly datasets?: string } = {}
) => cli(["ingest", jobDir, "--datasets", options.datasets ?? DATASETS, "--state-dir", stateDir, ...extra], options)

/** stdout of a `--json` run, parsed; fails with the whole run when it is not one JSON value. */
export const parseJson = <A = any>(r: CliResult): A => {
  try {
    return JSON.parse(r.stdout) as A
  } catch (e) {
    throw new Error(`stdout is not JSON (${e instanceof Error ? e.message : String(e)})\n${describeRun(r)}`)
  }
}

/** Removes ANSI escapes (help text is colored even when not on a terminal). */
export const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")

// ---------------------------------------------------------------------------
// State snapshots

export type Json = Record<string, unknown>

export interface Snapshot {
  /** `[path relative to <stateDir>/store, sha256]`, sorted by path. */
  readonly files: ReadonlyArray<readonly [string, string]>
  /** Every GRQ record (under the alias `grq`), sorted by index then id. */
  readonly documents: ReadonlyArray<GrqIndex.GrqRecord>
  /** Every STAC collection, sorted by id. */
  readonly collections: ReadonlyArray<Json>
  /** The items of every collection, by collection id, each list sorted by item id. */
  readonly items: Readonly<Record<string, ReadonlyArray<Json>>>
}

export const storeDir = (stateDir: string): string => Embedded.storeDir(stateDir)

const byId = (a: Json, b: Json) => (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0)

/**
 * Reads the state dir through the embedded adapters (as the CLI's own layer does).
 * A state dir that does not exist is empty, and is not created by looking.
 */
export const snapshot = async (stateDir: string): Promise<Snapshot> => {
  const files = hashTree(storeDir(stateDir))
  if (!existsSync(Embedded.databaseFile(stateDir))) return { files, documents: [], collections: [], items: {} }
  const data = await Effect.runPromise(
    Effect.gen(function* () {
      const index = yield* GrqIndex.GrqIndex
      const registry = yield* StacRegistry.StacRegistry
      const documents = [...(yield* index.list({}))].sort((a, b) =>
        a.index !== b.index ? (a.index < b.index ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
      )
      const collections = [...(yield* registry.listCollections())].sort(byId) as Array<Json>
      const items: Record<string, ReadonlyArray<Json>> = {}
      for (const c of collections) items[String(c.id)] = [...(yield* registry.listItems(String(c.id)))].sort(byId) as Array<Json>
      return { documents, collections, items }
    }).pipe(Effect.provide(Embedded.layer({ stateDir })))
  )
  return { files, ...data }
}

/** True when nothing at all is published: no object, document, collection or item. */
export const isEmpty = (s: Snapshot): boolean =>
  s.files.length === 0 && s.documents.length === 0 && s.collections.length === 0 && Object.keys(s.items).length === 0

/** A compact view for failure messages and `toEqual` against "empty". */
export const summary = (s: Snapshot) => ({
  files: s.files.map(([p]) => p),
  documents: s.documents.map((d) => `${d.index}/${d.id}`),
  collections: s.collections.map((c) => String(c.id)),
  items: Object.fromEntries(Object.entries(s.items).map(([c, list]) => [c, list.map((i) => String(i.id))]))
})

export const EMPTY_SUMMARY = { files: [], documents: [], collections: [], items: {} }

/** The snapshot without `@timestamp` (set anew by each ingest), for comparing a forced re-ingest. */
export const withoutIngestTime = (s: Snapshot): Snapshot => ({
  ...s,
  documents: s.documents.map((d) => {
    const { ["@timestamp"]: _, ...doc } = d.doc
    return { ...d, doc }
  })
})

/**
 * Store paths (relative to store/) of things an ingest must never leave behind
 * once it ended. HySDS's `_publish.context.json` is not one: it stays at each
 * publish location after a success (see `publishContexts`).
 */
export const leftovers = (s: Snapshot): Array<string> =>
  s.files
    .map(([p]) => p)
    .filter((p) => p.split("/").some((seg) => seg === ".hysds-stac-claim.json" || seg === ".hysds-stac-backup" || seg.startsWith(".hysds-stac-partial-")))

/** Store paths of the publish contexts (`_publish.context.json`): one per publish location after a success, none after a rollback. */
export const publishContexts = (s: Snapshot): Array<string> => s.files.map(([p]) => p).filter((p) => p.split("/").at(-1) === "_publish.context.json")

// ---------------------------------------------------------------------------
// Rollback reports

/** Step numbers of the `  undone  step N: ...` lines of the final rollback report. */
export const reportedUndoneSteps = (stderr: string): Array<number> =>
  [...stderr.matchAll(/^ {2}undone {2}step (\d+): /gm)].map((m) => Number(m[1]))

/** Step numbers of the `  undone: step N, ...` lines printed while rolling back. */
export const progressUndoneSteps = (stderr: string): Array<number> =>
  [...stderr.matchAll(/^ {2}undone: step (\d+), /gm)].map((m) => Number(m[1]))

export const strictlyDecreasing = (list: ReadonlyArray<number>): boolean => list.every((n, i) => i === 0 || n < list[i - 1]!)

// ---------------------------------------------------------------------------
// Watching a running CLI

/** Collects a process's output as it comes, so a test can react to a line before the process ends. */
export const collect = (stream: ReadableStream<Uint8Array>) => {
  let text = ""
  const decoder = new TextDecoder()
  const done = (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true })
    text += decoder.decode()
  })()
  return {
    get text() {
      return text
    },
    done
  }
}

/**
 * Writes GRQ records straight into a state dir's embedded index, for setting up
 * situations the CLI does not create by itself (e.g. one id in two indexes, as a
 * GRQ holding several versions of a product has).
 */
export const seedDocuments = (stateDir: string, records: ReadonlyArray<GrqIndex.GrqRecord>): Promise<void> =>
  Effect.runPromise(
    Effect.flatMap(GrqIndex.GrqIndex, (index) => index.bulkIndex(records)).pipe(Effect.provide(Embedded.layer({ stateDir })))
  )
