/**
 * The server's configuration, read from the environment once, at start. The
 * backends come from the same `Settings` the CLI resolves (config file <
 * environment), so a worker host configured for `hysds-stac ingest` serves the
 * same backends over HTTP.
 *
 * A server that would refuse every request (no API key, no allowed root, no
 * datasets.json) does not start: it fails naming EVERY missing or malformed
 * setting at once, so a deployment is fixed in one round trip rather than one
 * restart per variable.
 */
import { Settings } from "@hysds-stac/adapters"
import { Errors } from "@hysds-stac/core"
import { Context, Either } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type * as AllowedRoots from "./AllowedRoots.ts"

export type Env = Readonly<Record<string, string | undefined>>

export interface Config {
  readonly host: string
  /** 0 asks the OS for a free port (the actual one is logged on start). */
  readonly port: number
  /** Keys given directly in HYSDS_STAC_API_KEYS. */
  readonly apiKeys: ReadonlyArray<string>
  /** HYSDS_STAC_API_KEYS_FILE: re-read whenever it changes. */
  readonly apiKeysFile?: string
  /** The directories job dirs must lie under, as configured and resolved (see AllowedRoots). */
  readonly allowedRoots: ReadonlyArray<AllowedRoots.Root>
  /** Ingests running at the same time. */
  readonly maxConcurrent: number
  /** Ingests waiting for a slot; one more is refused with 429. */
  readonly queueLength: number
  /** How long in-flight ingests may run on after SIGTERM before they are rolled back. */
  readonly graceMillis: number
  /** Days finished journal transactions are kept (the CLI's HYSDS_STAC_JOURNAL_RETENTION_DAYS). */
  readonly journalRetentionDays: number
  readonly maxBodyBytes: number
  /** Absolute path of datasets.json; re-read by every ingest, so edits apply without a restart. */
  readonly datasetsFile: string
  /** Absolute state dir: the embedded backends and the journal live here. */
  readonly stateDir: string
  readonly settings: Settings.Settings
  /** Process STAC catalogs (off with HYSDS_STAC_DISABLE, as in the CLI). */
  readonly stac: boolean
  /** Files one ingest copies at the same time (the CLI's --concurrency). */
  readonly fileConcurrency: number
  /** Finished ingests kept in memory for GET /v1/ingests. */
  readonly history: number
  /** The JSON logger's level names (JsonLogger.LEVELS). */
  readonly logLevel: "debug" | "info" | "warn" | "error"
}

/** The configuration as a service, for the layers that read it. */
export class ServerConfig extends Context.Tag("@hysds-stac/server/ServerConfig")<ServerConfig, Config>() {}

/** Every variable the server itself reads (backend variables are Settings.VARIABLES). */
export const VARIABLES: ReadonlyArray<readonly [string, string]> = [
  ["HYSDS_STAC_SERVER_HOST", "address to listen on (default 127.0.0.1)"],
  ["HYSDS_STAC_SERVER_PORT", "port (default 8090; 0 picks a free one)"],
  ["HYSDS_STAC_API_KEYS", "comma-separated API keys"],
  ["HYSDS_STAC_API_KEYS_FILE", "file of API keys, one per line (# comments); re-read when it changes"],
  ["HYSDS_STAC_ALLOWED_ROOTS", "colon-separated directories job dirs must resolve under (required)"],
  ["HYSDS_STAC_MAX_CONCURRENT", "ingests running at once (default 2)"],
  ["HYSDS_STAC_QUEUE_LENGTH", "ingests waiting for a slot before 429 (default 16)"],
  ["HYSDS_STAC_GRACE_SECONDS", "on SIGTERM, how long in-flight ingests may finish before they are rolled back (default 30)"],
  ["HYSDS_STAC_MAX_BODY_BYTES", "request body limit (default 65536)"],
  ["HYSDS_STAC_FILE_CONCURRENCY", "files one ingest copies at once (default 8)"],
  ["HYSDS_STAC_HISTORY", "finished ingests kept in memory (default 1000)"],
  ["HYSDS_STAC_JOURNAL_RETENTION_DAYS", "days finished journal transactions are kept (default 7)"],
  ["HYSDS_STAC_LOG_LEVEL", "debug, info (default), warn or error"],
  ["HYSDS_DATASETS_CFG", "datasets.json (required)"],
  ["HYSDS_STAC_HOME", "state dir (default ./.hysds-stac)"],
  ["HYSDS_STAC_CONFIG", "JSON file of backend settings, as for the CLI"],
  ["HYSDS_STAC_DISABLE", "1 to ignore STAC catalogs (classic HySDS only)"]
]

const get = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim()
  return v ? v : undefined
}

interface Problem {
  readonly field: string
  readonly message: string
}

const integer = (env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER, problems: Array<Problem>) => {
  const raw = get(env, name)
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push({ field: name, message: `${name}=${raw} is not a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}` })
    return fallback
  }
  return n
}

/** Config.boolean's spellings, as the CLI accepts them for HYSDS_STAC_DISABLE. */
const flag = (env: Env, name: string, problems: Array<Problem>): boolean => {
  const raw = get(env, name)?.toLowerCase()
  if (raw === undefined) return false
  if (["1", "true", "yes", "on", "y"].includes(raw)) return true
  if (["0", "false", "no", "off", "n"].includes(raw)) return false
  problems.push({ field: name, message: `${name}=${raw} is not a boolean (use 1 or 0)` })
  return false
}

/** Each root must exist; its real path is what job dirs are compared with. */
const roots = (raw: string | undefined, cwd: string, problems: Array<Problem>): Array<AllowedRoots.Root> => {
  if (raw === undefined) {
    problems.push({ field: "HYSDS_STAC_ALLOWED_ROOTS", message: "HYSDS_STAC_ALLOWED_ROOTS is not set: no job dir could be ingested (set it to the directories HySDS writes job outputs under, colon-separated)" })
    return []
  }
  const out: Array<AllowedRoots.Root> = []
  for (const entry of raw.split(":").map((s) => s.trim()).filter((s) => s !== "")) {
    if (!path.isAbsolute(entry)) {
      problems.push({ field: "HYSDS_STAC_ALLOWED_ROOTS", message: `allowed root ${entry} is not an absolute path` })
      continue
    }
    try {
      const real = fs.realpathSync(path.resolve(cwd, entry))
      if (!fs.statSync(real).isDirectory()) throw new Error("not a directory")
      out.push({ given: path.resolve(cwd, entry), real })
    } catch {
      problems.push({ field: "HYSDS_STAC_ALLOWED_ROOTS", message: `allowed root ${entry} is not an existing directory` })
    }
  }
  if (out.length === 0 && !problems.some((p) => p.field === "HYSDS_STAC_ALLOWED_ROOTS")) {
    problems.push({ field: "HYSDS_STAC_ALLOWED_ROOTS", message: "HYSDS_STAC_ALLOWED_ROOTS names no directory" })
  }
  return out
}

const keysOf = (raw: string | undefined): Array<string> =>
  raw === undefined ? [] : raw.split(",").map((k) => k.trim()).filter((k) => k !== "")

/** Reads and checks the configuration; `cwd` resolves relative paths (the CLI's rule). */
export const fromEnv = (env: Env, cwd: string = process.cwd()): Either.Either<Config, Errors.ConfigError> => {
  const problems: Array<Problem> = []
  const apiKeys = keysOf(get(env, "HYSDS_STAC_API_KEYS"))
  const apiKeysFile = get(env, "HYSDS_STAC_API_KEYS_FILE")
  if (apiKeysFile !== undefined && !fs.existsSync(path.resolve(cwd, apiKeysFile))) {
    problems.push({ field: "HYSDS_STAC_API_KEYS_FILE", message: `HYSDS_STAC_API_KEYS_FILE ${apiKeysFile} does not exist` })
  }
  if (apiKeys.length === 0 && apiKeysFile === undefined) {
    problems.push({ field: "HYSDS_STAC_API_KEYS", message: "no API key: set HYSDS_STAC_API_KEYS (comma-separated) or HYSDS_STAC_API_KEYS_FILE (one key per line)" })
  }
  const datasets = get(env, "HYSDS_DATASETS_CFG")
  if (datasets === undefined) {
    problems.push({ field: "HYSDS_DATASETS_CFG", message: "HYSDS_DATASETS_CFG is not set: the server needs a datasets.json (examples/datasets.json is a starting point)" })
  } else if (!fs.existsSync(path.resolve(cwd, datasets))) {
    problems.push({ field: "HYSDS_DATASETS_CFG", message: `HYSDS_DATASETS_CFG ${datasets} does not exist` })
  }
  const allowedRoots = roots(get(env, "HYSDS_STAC_ALLOWED_ROOTS"), cwd, problems)
  const level = (get(env, "HYSDS_STAC_LOG_LEVEL") ?? "info").toLowerCase()
  // The names the log lines carry, one vocabulary: `warning` is refused rather than aliased.
  const logLevels = ["debug", "info", "warn", "error"] as const
  if (!(logLevels as ReadonlyArray<string>).includes(level)) {
    problems.push({ field: "HYSDS_STAC_LOG_LEVEL", message: `HYSDS_STAC_LOG_LEVEL=${level} is not one of ${logLevels.join(", ")}` })
  }
  const partial = {
    host: get(env, "HYSDS_STAC_SERVER_HOST") ?? "127.0.0.1",
    port: integer(env, "HYSDS_STAC_SERVER_PORT", 8090, 0, 65535, problems),
    maxConcurrent: integer(env, "HYSDS_STAC_MAX_CONCURRENT", 2, 1, 1024, problems),
    queueLength: integer(env, "HYSDS_STAC_QUEUE_LENGTH", 16, 0, 100_000, problems),
    graceMillis: integer(env, "HYSDS_STAC_GRACE_SECONDS", 30, 0, 86_400, problems) * 1000,
    maxBodyBytes: integer(env, "HYSDS_STAC_MAX_BODY_BYTES", 65_536, 64, 64 * 1024 * 1024, problems),
    fileConcurrency: integer(env, "HYSDS_STAC_FILE_CONCURRENCY", 8, 1, 1024, problems),
    history: integer(env, "HYSDS_STAC_HISTORY", 1000, 1, 1_000_000, problems),
    journalRetentionDays: integer(env, "HYSDS_STAC_JOURNAL_RETENTION_DAYS", 7, 0, 36_500, problems),
    stac: !flag(env, "HYSDS_STAC_DISABLE", problems)
  }
  const stateDir = path.resolve(cwd, get(env, "HYSDS_STAC_HOME") ?? ".hysds-stac")
  const configFile = get(env, "HYSDS_STAC_CONFIG")
  const file = configFile === undefined ? Either.right(undefined) : Settings.readFile(path.resolve(cwd, configFile))
  const settings = Either.flatMap(file, (f) => Settings.resolve({ env, stateDir, ...(f ? { file: f } : {}) }))
  if (Either.isLeft(settings)) {
    problems.push({ field: settings.left.field ?? "HYSDS_STAC_CONFIG", message: settings.left.message + (settings.left.hint ? ` (${settings.left.hint})` : "") })
  }
  if (problems.length > 0 || Either.isLeft(settings)) {
    return Either.left(
      new Errors.ConfigError({
        message: `the server cannot start:\n${problems.map((p) => `  - ${p.message}`).join("\n")}`,
        field: problems[0]!.field,
        hint: "see packages/server/README.md for every variable"
      })
    )
  }
  return Either.right({
    ...partial,
    apiKeys,
    ...(apiKeysFile !== undefined ? { apiKeysFile: path.resolve(cwd, apiKeysFile) } : {}),
    allowedRoots,
    datasetsFile: path.resolve(cwd, datasets!),
    stateDir,
    settings: settings.right,
    logLevel: level as Config["logLevel"]
  })
}
