/**
 * The server's configuration, read once, at start, as a `Config` from the same
 * layered provider as the CLI's (adapters' ConfigSource: defaults < config file
 * `HYSDS_STAC_CONFIG` < environment). The backends come from the same
 * `Settings.config`, so a worker host configured for `hysds-stac ingest` serves
 * the same backends over HTTP; the file may hold the server's variables too.
 *
 * A server that would refuse every request (no API key, no allowed root, no
 * datasets.json) does not start: it fails naming EVERY missing or malformed
 * setting at once, so a deployment is fixed in one round trip rather than one
 * restart per variable.
 */
import { ConfigSource, Settings } from "@hysds-stac/adapters"
import { Errors } from "@hysds-stac/core"
import { Config as Config_, ConfigError, type ConfigProvider, Context, Either, Option, Redacted } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type * as AllowedRoots from "./AllowedRoots.ts"

export type Env = Readonly<Record<string, string | undefined>>

export interface Config {
  readonly host: string
  /** 0 asks the OS for a free port (the actual one is logged on start). */
  readonly port: number
  /** Keys given directly in HYSDS_STAC_API_KEYS, Redacted as read. */
  readonly apiKeys: ReadonlyArray<Redacted.Redacted<string>>
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

interface Problem {
  readonly field: string
  readonly message: string
}

const integer = (raw: Option.Option<string>, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER, problems: Array<Problem>) => {
  if (Option.isNone(raw)) return fallback
  const n = Number(raw.value)
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push({ field: name, message: `${name}=${raw.value} is not a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}` })
    return fallback
  }
  return n
}

/** Config.boolean's spellings, as the CLI accepts them for HYSDS_STAC_DISABLE. */
const flag = (given: Option.Option<string>, name: string, problems: Array<Problem>): boolean => {
  if (Option.isNone(given)) return false
  const raw = given.value.toLowerCase()
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

/** Each key Redacted as it is read: a key prints as `<redacted>` wherever the config goes. */
const keysOf = (raw: Option.Option<Redacted.Redacted<string>>): Array<Redacted.Redacted<string>> =>
  Option.match(raw, {
    onNone: () => [],
    onSome: (r) => Redacted.value(r).split(",").map((k) => k.trim()).filter((k) => k !== "").map(Redacted.make)
  })

const { text, secret, problem } = ConfigSource

/** The server's own variables (the backends' are Settings.config), each read once from the provider. */
const variables = Config_.all({
  apiKeys: secret("HYSDS_STAC_API_KEYS"),
  apiKeysFile: text("HYSDS_STAC_API_KEYS_FILE"),
  datasets: text("HYSDS_DATASETS_CFG"),
  allowedRoots: text("HYSDS_STAC_ALLOWED_ROOTS"),
  logLevel: text("HYSDS_STAC_LOG_LEVEL"),
  host: text("HYSDS_STAC_SERVER_HOST"),
  port: text("HYSDS_STAC_SERVER_PORT"),
  maxConcurrent: text("HYSDS_STAC_MAX_CONCURRENT"),
  queueLength: text("HYSDS_STAC_QUEUE_LENGTH"),
  grace: text("HYSDS_STAC_GRACE_SECONDS"),
  maxBodyBytes: text("HYSDS_STAC_MAX_BODY_BYTES"),
  fileConcurrency: text("HYSDS_STAC_FILE_CONCURRENCY"),
  history: text("HYSDS_STAC_HISTORY"),
  journalRetentionDays: text("HYSDS_STAC_JOURNAL_RETENTION_DAYS"),
  disable: text("HYSDS_STAC_DISABLE"),
  home: text("HYSDS_STAC_HOME")
})

/** The server's settings, every problem collected (as one Effect ConfigError of them all). */
const own = (cwd: string) =>
  variables.pipe(
    Config_.mapOrFail((v) => {
      const problems: Array<Problem> = []
      const apiKeys = keysOf(v.apiKeys)
      const apiKeysFile = Option.getOrUndefined(v.apiKeysFile)
      if (apiKeysFile !== undefined && !fs.existsSync(path.resolve(cwd, apiKeysFile))) {
        problems.push({ field: "HYSDS_STAC_API_KEYS_FILE", message: `HYSDS_STAC_API_KEYS_FILE ${apiKeysFile} does not exist` })
      }
      if (apiKeys.length === 0 && apiKeysFile === undefined) {
        problems.push({ field: "HYSDS_STAC_API_KEYS", message: "no API key: set HYSDS_STAC_API_KEYS (comma-separated) or HYSDS_STAC_API_KEYS_FILE (one key per line)" })
      }
      const datasets = Option.getOrUndefined(v.datasets)
      if (datasets === undefined) {
        problems.push({ field: "HYSDS_DATASETS_CFG", message: "HYSDS_DATASETS_CFG is not set: the server needs a datasets.json (examples/datasets.json is a starting point)" })
      } else if (!fs.existsSync(path.resolve(cwd, datasets))) {
        problems.push({ field: "HYSDS_DATASETS_CFG", message: `HYSDS_DATASETS_CFG ${datasets} does not exist` })
      }
      const allowedRoots = roots(Option.getOrUndefined(v.allowedRoots), cwd, problems)
      const level = Option.getOrElse(v.logLevel, () => "info").toLowerCase()
      // The names the log lines carry, one vocabulary: `warning` is refused rather than aliased.
      const logLevels = ["debug", "info", "warn", "error"] as const
      if (!(logLevels as ReadonlyArray<string>).includes(level)) {
        problems.push({ field: "HYSDS_STAC_LOG_LEVEL", message: `HYSDS_STAC_LOG_LEVEL=${level} is not one of ${logLevels.join(", ")}` })
      }
      const partial = {
        host: Option.getOrElse(v.host, () => "127.0.0.1"),
        port: integer(v.port, "HYSDS_STAC_SERVER_PORT", 8090, 0, 65535, problems),
        maxConcurrent: integer(v.maxConcurrent, "HYSDS_STAC_MAX_CONCURRENT", 2, 1, 1024, problems),
        queueLength: integer(v.queueLength, "HYSDS_STAC_QUEUE_LENGTH", 16, 0, 100_000, problems),
        graceMillis: integer(v.grace, "HYSDS_STAC_GRACE_SECONDS", 30, 0, 86_400, problems) * 1000,
        maxBodyBytes: integer(v.maxBodyBytes, "HYSDS_STAC_MAX_BODY_BYTES", 65_536, 64, 64 * 1024 * 1024, problems),
        fileConcurrency: integer(v.fileConcurrency, "HYSDS_STAC_FILE_CONCURRENCY", 8, 1, 1024, problems),
        history: integer(v.history, "HYSDS_STAC_HISTORY", 1000, 1, 1_000_000, problems),
        journalRetentionDays: integer(v.journalRetentionDays, "HYSDS_STAC_JOURNAL_RETENTION_DAYS", 7, 0, 36_500, problems),
        stac: !flag(v.disable, "HYSDS_STAC_DISABLE", problems)
      }
      if (problems.length > 0) {
        return Either.left(problems.map((p) => problem(p.field, p.message)).reduce((a, b) => ConfigError.And(a, b)))
      }
      return Either.right({
        ...partial,
        apiKeys,
        ...(apiKeysFile !== undefined ? { apiKeysFile: path.resolve(cwd, apiKeysFile) } : {}),
        allowedRoots,
        datasetsFile: path.resolve(cwd, datasets!),
        stateDir: path.resolve(cwd, Option.getOrElse(v.home, () => ".hysds-stac")),
        logLevel: level as Config["logLevel"]
      })
    })
  )

/**
 * The whole configuration as a `Config`: the server's own settings and the
 * backends' (`Settings.config`), problems of both collected. `cwd` resolves
 * relative paths (the CLI's rule).
 */
export const config = (cwd: string): Config_.Config<Config> =>
  Config_.all([own(cwd), Settings.config("")]).pipe(Config_.map(([server, settings]) => ({ ...server, settings: { ...settings, stateDir: server.stateDir } })))

/** Every name a server config file may hold: the backends', the shared ones and the server's own. */
export const KNOWN: ReadonlySet<string> = new Set([...Settings.KNOWN, ...VARIABLES.map(([name]) => name).filter((n) => n !== "HYSDS_STAC_CONFIG")])

/** Effect's ConfigError as the one refusal to start, naming every problem. */
const refusal = (problems: ReadonlyArray<Errors.ConfigError>): Errors.ConfigError =>
  new Errors.ConfigError({
    message: `the server cannot start:\n${problems.map((p) => `  - ${p.message}${p.hint ? ` (${p.hint})` : ""}`).join("\n")}`,
    field: problems[0]?.field ?? "HYSDS_STAC_CONFIG",
    hint: "see packages/server/README.md for every variable"
  })

/** The provider the server reads: `env` over its config file (`HYSDS_STAC_CONFIG`), as the CLI's. */
export const provider = (env: Env, cwd: string = process.cwd()): Either.Either<ConfigProvider.ConfigProvider, Errors.ConfigError> =>
  Either.mapLeft(ConfigSource.make({ env, known: KNOWN, cwd }), (e) => refusal([e]))

/** Reads and checks the configuration from `provider`. */
export const load = (from: ConfigProvider.ConfigProvider, cwd: string = process.cwd()): Either.Either<Config, Errors.ConfigError> =>
  Either.mapLeft(ConfigSource.load(from, config(cwd)), (e) => refusal(ConfigSource.toConfigErrors(e)))

/** Reads and checks the configuration from `env` and its config file; `cwd` resolves relative paths (the CLI's rule). */
export const fromEnv = (env: Env, cwd: string = process.cwd()): Either.Either<Config, Errors.ConfigError> =>
  Either.flatMap(provider(env, cwd), (p) => load(p, cwd))
