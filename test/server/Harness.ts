/**
 * Support for the tests of the HTTP ingest service: the real server process
 * (`bun packages/server/src/bin.ts`, as `bun run serve` runs it) on a port the
 * OS picks, driven over HTTP with fetch. Each server gets a sandbox of its own
 * (state dir, allowed root, a copy of datasets.json); the examples are always
 * copied into it, never used in place.
 */
import type { Subprocess } from "bun"
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { type Sandbox, cliEnv, collect, copyExample, DATASETS, ROOT, sandbox } from "../support/State.ts"

export const BIN = "packages/server/src/bin.ts"
export const KEY = "test-api-key-0123456789"

/** Per-test timeout: server start, ingests and shutdowns all take a while on a loaded machine. */
export const TIMEOUT = 120_000

export type Json = Record<string, any>

export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** The body parsed, or undefined when it is not JSON. */
  readonly json: Json | undefined
}

export interface Server {
  readonly url: string
  readonly proc: Subprocess<"ignore", "pipe", "pipe">
  readonly sb: Sandbox
  /** The allowed root, where tests put their jobs. */
  readonly jobs: string
  readonly stateDir: string
  readonly datasets: string
  /** stdout so far, one parsed JSON object per line (the structured log). */
  readonly logs: () => Array<Json>
  readonly stdout: () => string
  readonly stderr: () => string
  readonly request: (method: string, route: string, options?: RequestOptions) => Promise<Reply>
  /** Sends `signal` and waits for the process to end; returns its exit code. */
  readonly stop: (signal?: "SIGTERM" | "SIGINT" | "SIGKILL") => Promise<number | null>
  readonly exited: Promise<number>
}

/** A response as tests look at it: status, headers, the text, and the JSON when it is JSON. */
export const readReply = async (res: Response): Promise<Reply> => {
  const text = await res.text()
  let json: Json | undefined
  try {
    json = JSON.parse(text) as Json
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, text, json }
}

export interface RequestOptions {
  readonly body?: unknown
  /** API key sent as X-Api-Key; `null` sends none. Default KEY. */
  readonly key?: string | null
  readonly headers?: Record<string, string>
  /** A raw body, sent as is (with the headers given). */
  readonly raw?: string
}

export interface ServerOptions {
  readonly label?: string
  readonly env?: Record<string, string | undefined>
  /** Reuse a sandbox (e.g. to restart on the same state dir). */
  readonly sb?: Sandbox
}

const parseLines = (text: string): Array<Json> =>
  text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Json]
      } catch {
        return []
      }
    })

/** Starts the server and waits for its "listening" log line. */
export const startServer = async (options: ServerOptions = {}): Promise<Server> => {
  const sb = options.sb ?? sandbox(options.label ?? "server")
  const jobs = path.join(sb.root, "jobs")
  mkdirSync(jobs, { recursive: true })
  const datasets = path.join(sb.root, "datasets.json")
  copyFileSync(DATASETS, datasets)
  const env = cliEnv({
    HYSDS_STAC_SERVER_PORT: "0",
    HYSDS_STAC_HOME: sb.stateDir,
    HYSDS_DATASETS_CFG: datasets,
    HYSDS_STAC_ALLOWED_ROOTS: jobs,
    HYSDS_STAC_API_KEYS: KEY,
    ...options.env
  })
  const proc = Bun.spawn(["bun", BIN], { cwd: ROOT, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" })
  const out = collect(proc.stdout)
  const err = collect(proc.stderr)
  let exitCode: number | undefined
  const exited = proc.exited.then((code) => {
    exitCode = code
    return code
  })
  const started = Date.now()
  let url: string | undefined
  while (url === undefined) {
    const listening = parseLines(out.text).find((l) => l.message === "listening")
    if (listening) url = String(listening.url)
    else if (exitCode !== undefined) throw new Error(`the server exited with ${exitCode} before listening\nstdout:\n${out.text}\nstderr:\n${err.text}`)
    // A deadline on the "listening" line: a loaded machine took over 30 s to start the server from source.
    else if (Date.now() - started > 180_000) {
      proc.kill("SIGKILL")
      throw new Error(`the server did not listen within 180 s\nstdout:\n${out.text}\nstderr:\n${err.text}`)
    } else await Bun.sleep(20)
  }
  const base = url
  const request: Server["request"] = async (method, route, o = {}) => {
    const headers: Record<string, string> = { ...o.headers }
    const key = o.key === undefined ? KEY : o.key
    if (key !== null) headers["x-api-key"] = key
    let body: string | undefined = o.raw
    if (o.body !== undefined) {
      body = JSON.stringify(o.body)
      headers["content-type"] ??= "application/json"
    }
    return readReply(await fetch(base + route, { method, headers, ...(body !== undefined ? { body } : {}) }))
  }
  return {
    url: base,
    proc,
    sb,
    jobs,
    stateDir: sb.stateDir,
    datasets,
    logs: () => parseLines(out.text),
    stdout: () => out.text,
    stderr: () => err.text,
    request,
    exited,
    stop: async (signal = "SIGTERM") => {
      if (exitCode === undefined) proc.kill(signal)
      const timer = setTimeout(() => proc.kill("SIGKILL"), 90_000)
      const code = await exited
      clearTimeout(timer)
      return code
    }
  }
}

/** What a failed expectation about the server should show: its log. */
export const describeServer = (s: Server): string => `--- server stdout\n${s.stdout()}\n--- server stderr\n${s.stderr()}`

/** Copies examples/<name> into the server's allowed root as `as`; returns its path. */
export const job = (s: Server, name: string, as: string = name): string => copyExample(name, path.join(s.jobs, as))

/**
 * A job of one classic product `AOI_big_<tag>` with `files` small files: slow to
 * publish and to roll back (per-file cost dominates), so a test can act while
 * it runs. It matches the area_of_interest entry of examples/datasets.json.
 */
export const bigJob = (s: Server, tag: string, files: number, size = 1024): string => {
  const dir = path.join(s.jobs, `big-${tag}`)
  const id = `AOI_big_${tag}`
  const product = path.join(dir, id)
  mkdirSync(product, { recursive: true })
  const template = path.join(ROOT, "examples", "mixed-job", "AOI_volcano_etna", "AOI_volcano_etna.dataset.json")
  const dataset = JSON.parse(readFileSync(template, "utf8")) as Json
  writeFileSync(path.join(product, `${id}.dataset.json`), JSON.stringify({ ...dataset, label: `big ${tag}` }, null, 2))
  const chunk = new Uint8Array(size)
  for (let i = 0; i < files; i++) {
    chunk.fill(i % 251)
    writeFileSync(path.join(product, `part_${String(i).padStart(5, "0")}.bin`), chunk)
  }
  return dir
}

/** Where the store puts AOI_big_<tag>'s files. */
export const bigStoreDir = (s: Server, tag: string) =>
  path.join(s.stateDir, "store", "s3", "hysds-products", "products", "area_of_interest", "v1.0", `AOI_big_${tag}`)

/** True once some file of AOI_big_<tag> is in the store: that ingest is publishing. */
export const publishing = (s: Server, tag: string): boolean => {
  try {
    return readdirSync(bigStoreDir(s, tag)).some((n) => n.startsWith("part_"))
  } catch {
    return false
  }
}

export const waitFor = async (what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
  const started = Date.now()
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await Bun.sleep(10)
  }
}

const FINAL = new Set(["succeeded", "failed", "rolled_back"])

/** Polls GET /v1/ingests/{id} until the ingest has ended; returns its final status. */
export const awaitIngest = async (s: Server, id: string, timeoutMs = 90_000): Promise<Json> => {
  let last: Reply | undefined
  await waitFor(
    `ingest ${id} to end`,
    async () => {
      last = await s.request("GET", `/v1/ingests/${id}`)
      return last.status === 200 && FINAL.has(String(last.json?.state))
    },
    timeoutMs
  )
  return last!.json!
}

/** `name{labels} value` lines of a Prometheus text body, as a map from series to value. */
export const parseMetrics = (text: string): Map<string, number> => {
  const out = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue
    const space = line.lastIndexOf(" ")
    out.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return out
}

export const scrape = async (s: Server): Promise<Map<string, number>> => {
  const r = await s.request("GET", "/metrics")
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.text}`)
  return parseMetrics(r.text)
}

export { ROOT }
