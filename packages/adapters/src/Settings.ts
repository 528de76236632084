/**
 * The backend configuration: which backend serves each port, and how to reach it.
 * Sources, lowest priority first: defaults, an optional config file (a JSON object
 * of the same variable names, `--config` / `HYSDS_STAC_CONFIG`), the environment,
 * then flags. Names follow HySDS where it has them (`GRQ_ES_ENGINE`, `STAC_API_URL`,
 * `STAC_API_KEY`, `STAC_API_TIMEOUT`, `STAC_BATCH_SIZE`, ...).
 *
 * With nothing configured every port uses the embedded default under the state
 * dir. A backend that is configured but incomplete fails loudly, naming the
 * setting: silently falling back to the embedded one would "publish" into a
 * local file nobody reads.
 */
import { Errors } from "@hysds-stac/core"
import type * as GrqConfig from "./grq/Config.ts"
import type * as S3Store from "./s3/S3Store.ts"
import type * as StacApiRegistry from "./stac-api/StacApiRegistry.ts"
import { Either } from "effect"
import * as fs from "node:fs"

export type Source = Readonly<Record<string, string | undefined>>

/** Each real backend's settings are its adapter's own configuration, tagged with its kind. */
export type S3Settings = { readonly kind: "s3" } & S3Store.S3Config
export type GrqSettings = { readonly kind: "opensearch" | "elasticsearch" } & GrqConfig.GrqConfig
export type StacApiSettings = { readonly kind: "stac-api" } & StacApiRegistry.StacApiConfig

export interface Settings {
  readonly stateDir: string
  readonly store: { readonly kind: "local" } | S3Settings
  readonly index: { readonly kind: "embedded" } | GrqSettings
  readonly registry: { readonly kind: "embedded" } | StacApiSettings
  /** Every secret value configured, so printed messages can mask them. */
  readonly secrets: ReadonlyArray<string>
}

/** Every variable this module reads, with what it means (for `--help` and the README). */
export const VARIABLES: ReadonlyArray<readonly [string, string]> = [
  ["HYSDS_STAC_STORE", "local (default) or s3"],
  ["S3_ENDPOINT", "custom S3 endpoint, e.g. http://127.0.0.1:8333 (default: AWS)"],
  ["S3_REGION", "region (default AWS_REGION, then us-east-1)"],
  ["S3_FORCE_PATH_STYLE", "true for path-style addressing (default true when S3_ENDPOINT is set)"],
  ["S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY", "static keys (default: the AWS SDK chain: AWS_* env, profile, role)"],
  ["S3_PROFILE", "a profile of ~/.aws/credentials (default AWS_PROFILE)"],
  ["S3_PART_SIZE_MB", "multipart part size (default 16)"],
  ["GRQ_ES_ENGINE", "opensearch or elasticsearch: use that GRQ cluster instead of the embedded index"],
  ["GRQ_ES_URL", "GRQ cluster URL, e.g. http://127.0.0.1:9200"],
  ["GRQ_ES_USERNAME / GRQ_ES_PASSWORD / GRQ_ES_API_KEY", "GRQ credentials"],
  ["GRQ_REFRESH", "wait_for (default), true or false"],
  ["STAC_API_URL", "STAC API base URL: use it instead of the embedded registry"],
  ["STAC_API_KEY / STAC_API_KEY_FILE", "sent as X-Api-Key; the file is re-read when it changes"],
  ["STAC_API_TOKEN / STAC_API_TOKEN_FILE", "sent as Authorization: Bearer; same file rule"],
  ["STAC_API_TIMEOUT", "seconds per request (default 30)"],
  ["STAC_BATCH_SIZE", "items per bulk request (default 100)"],
  ["STAC_BULK_ITEMS", "auto (default: detect), on or off"]
]

const fail = (field: string, message: string, hint: string) =>
  Either.left(new Errors.ConfigError({ message, field, hint }))

/** Reads a config file: a JSON object whose keys are the variables above. */
export const readFile = (file: string): Either.Either<Source, Errors.ConfigError> => {
  let text: string
  try {
    text = fs.readFileSync(file, "utf8")
  } catch {
    return Either.left(new Errors.ConfigError({ message: `cannot read config file ${file}`, file, hint: "check --config / HYSDS_STAC_CONFIG" }))
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return Either.left(
      new Errors.ConfigError({ message: `config file ${file} is not valid JSON: ${(e as Error).message}`, file, hint: "it must be one JSON object of settings" })
    )
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return Either.left(new Errors.ConfigError({ message: `config file ${file} must be a JSON object`, file, hint: 'e.g. {"GRQ_ES_ENGINE": "opensearch"}' }))
  }
  const known = new Set(VARIABLES.flatMap(([names]) => names.split(" / ")).concat(["HYSDS_STAC_HOME", "HYSDS_DATASETS_CFG", "HYSDS_STAC_DISABLE", "HYSDS_STAC_JOURNAL_RETENTION_DAYS"]))
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(json)) {
    if (!known.has(k)) {
      return Either.left(new Errors.ConfigError({ message: `config file ${file}: unknown setting ${k}`, file, field: k, hint: "see the README's configuration table" }))
    }
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      return Either.left(new Errors.ConfigError({ message: `config file ${file}: ${k} must be a string, number or boolean`, file, field: k }))
    }
    out[k] = String(v)
  }
  return Either.right(out)
}

const get = (source: Source, name: string): string | undefined => {
  const v = source[name]?.trim()
  return v ? v : undefined
}

const url = (name: string, value: string) => {
  try {
    const u = new URL(value)
    if (u.protocol === "http:" || u.protocol === "https:") return Either.right(value.replace(/\/+$/, ""))
  } catch {
    // reported below
  }
  return fail(name, `${name} is not an http(s) URL`, `set ${name} to something like http://127.0.0.1:9200`)
}

const positive = (source: Source, name: string, fallback: number) => {
  const raw = get(source, name)
  if (raw === undefined) return Either.right(fallback)
  const n = Number(raw)
  return Number.isFinite(n) && n > 0 ? Either.right(n) : fail(name, `${name}=${raw} is not a positive number`, `set ${name} to a number above 0`)
}

const oneOf = <A extends string>(source: Source, name: string, choices: ReadonlyArray<A>, fallback: A) => {
  const raw = get(source, name)?.toLowerCase()
  if (raw === undefined) return Either.right(fallback)
  return (choices as ReadonlyArray<string>).includes(raw)
    ? Either.right(raw as A)
    : fail(name, `${name}=${raw} is not one of ${choices.join(", ")}`, `use one of ${choices.join(", ")}`)
}

const s3 = (source: Source) =>
  Either.gen(function* () {
    const endpoint = get(source, "S3_ENDPOINT")
    if (endpoint !== undefined) yield* url("S3_ENDPOINT", endpoint)
    const keyId = get(source, "S3_ACCESS_KEY_ID")
    const secret = get(source, "S3_SECRET_ACCESS_KEY")
    if ((keyId === undefined) !== (secret === undefined)) {
      return yield* fail("S3_ACCESS_KEY_ID", "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together; only one is set", "set both, or neither to use the AWS SDK chain")
    }
    const profile = get(source, "S3_PROFILE")
    const pathStyle = yield* oneOf(source, "S3_FORCE_PATH_STYLE", ["true", "false"], endpoint ? "true" : "false")
    const partMb = yield* positive(source, "S3_PART_SIZE_MB", 16)
    if (partMb < 5) return yield* fail("S3_PART_SIZE_MB", `S3_PART_SIZE_MB=${partMb} is below S3's 5 MiB minimum part size`, "use 5 or more")
    const settings: S3Settings = {
      kind: "s3",
      region: get(source, "S3_REGION") ?? get(source, "AWS_REGION") ?? "us-east-1",
      forcePathStyle: pathStyle === "true",
      partSizeBytes: Math.round(partMb * 1024 * 1024),
      ...(endpoint ? { endpoint } : {}),
      ...(keyId && secret ? { credentials: { accessKeyId: keyId, secretAccessKey: secret } } : profile ? { credentials: { profile } } : {})
    }
    return settings
  })

const grq = (source: Source, engine: string | undefined) =>
  Either.gen(function* () {
    const kind = yield* oneOf(source, "GRQ_ES_ENGINE", ["opensearch", "elasticsearch"], "elasticsearch")
    const raw = get(source, "GRQ_ES_URL")
    if (raw === undefined) {
      return yield* fail("GRQ_ES_URL", `GRQ_ES_ENGINE=${engine ?? kind} is set but GRQ_ES_URL is not`, "set GRQ_ES_URL to the GRQ cluster, e.g. http://127.0.0.1:9200")
    }
    const settings: GrqSettings = {
      kind,
      url: yield* url("GRQ_ES_URL", raw),
      refresh: yield* oneOf(source, "GRQ_REFRESH", ["wait_for", "true", "false"], "wait_for"),
      ...optional("username", get(source, "GRQ_ES_USERNAME")),
      ...optional("password", get(source, "GRQ_ES_PASSWORD")),
      ...optional("apiKey", get(source, "GRQ_ES_API_KEY"))
    }
    return settings
  })

const stacApi = (source: Source, raw: string) =>
  Either.gen(function* () {
    const settings: StacApiSettings = {
      kind: "stac-api",
      url: yield* url("STAC_API_URL", raw),
      timeoutMs: Math.round((yield* positive(source, "STAC_API_TIMEOUT", 30)) * 1000),
      batchSize: Math.round(yield* positive(source, "STAC_BATCH_SIZE", 100)),
      bulkItems: yield* oneOf(source, "STAC_BULK_ITEMS", ["auto", "on", "off"], "auto"),
      ...optional("apiKey", get(source, "STAC_API_KEY")),
      ...optional("apiKeyFile", get(source, "STAC_API_KEY_FILE")),
      ...optional("bearerToken", get(source, "STAC_API_TOKEN")),
      ...optional("bearerTokenFile", get(source, "STAC_API_TOKEN_FILE"))
    }
    return settings
  })

const optional = <K extends string>(key: K, value: string | undefined): { [P in K]?: string } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: string }

/** Secret values to mask wherever they could be printed (files' contents included). */
const secretsOf = (source: Source): Array<string> => {
  const direct = ["S3_SECRET_ACCESS_KEY", "S3_ACCESS_KEY_ID", "GRQ_ES_PASSWORD", "GRQ_ES_API_KEY", "STAC_API_KEY", "STAC_API_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
    .map((n) => get(source, n))
    .filter((v): v is string => v !== undefined)
  const files = ["STAC_API_KEY_FILE", "STAC_API_TOKEN_FILE"].flatMap((n) => {
    const f = get(source, n)
    if (f === undefined) return []
    try {
      return [fs.readFileSync(f, "utf8").trim()]
    } catch {
      return []
    }
  })
  return [...direct, ...files]
}

/** The settings from `file` (optional) overlaid by `env`; `stateDir` comes from the flag/env already resolved. */
export const resolve = (options: {
  readonly env: Source
  readonly file?: Source
  readonly stateDir: string
}): Either.Either<Settings, Errors.ConfigError> =>
  Either.gen(function* () {
    const source: Source = { ...options.file, ...options.env }
    const storeKind = yield* oneOf(source, "HYSDS_STAC_STORE", ["local", "s3"], "local")
    const engine = get(source, "GRQ_ES_ENGINE")
    const grqUrl = get(source, "GRQ_ES_URL")
    const stacUrl = get(source, "STAC_API_URL")
    return {
      stateDir: options.stateDir,
      store: storeKind === "s3" ? yield* s3(source) : { kind: "local" as const },
      index: engine !== undefined || grqUrl !== undefined ? yield* grq(source, engine) : { kind: "embedded" as const },
      registry: stacUrl !== undefined ? yield* stacApi(source, stacUrl) : { kind: "embedded" as const },
      secrets: secretsOf(source)
    }
  })

/** One line per port saying which backend serves it (for `check` and logs; no secrets). */
export const describe = (s: Settings): ReadonlyArray<readonly [string, string]> => [
  ["store", s.store.kind === "local" ? `embedded local store under ${s.stateDir}/store` : `S3${s.store.endpoint ? ` at ${s.store.endpoint}` : " (AWS)"}`],
  ["index", s.index.kind === "embedded" ? `embedded GRQ index in ${s.stateDir}/hysds-stac.sqlite` : `GRQ on ${s.index.kind} at ${s.index.url}`],
  ["registry", s.registry.kind === "embedded" ? `embedded STAC registry in ${s.stateDir}/hysds-stac.sqlite` : `STAC API at ${s.registry.url}`]
]
