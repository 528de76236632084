/**
 * The backend configuration: which backend serves each port, and how to reach it.
 * Sources, lowest priority first: defaults, an optional config file (a JSON object
 * of the same variable names, `--config` / `HYSDS_STAC_CONFIG`), the environment,
 * then flags. Names follow HySDS where it has them (`GRQ_ES_ENGINE`, `STAC_API_URL`,
 * `STAC_API_KEY`, `STAC_API_TIMEOUT`, `STAC_BATCH_SIZE`, ...). The settings are a
 * `Config` (`config`), read from the provider ConfigSource builds for both faces.
 *
 * With nothing configured every port uses the embedded default under the state
 * dir. A backend that is configured but incomplete fails loudly, naming the
 * setting: silently falling back to the embedded one would "publish" into a
 * local file nobody reads.
 */
import { type Errors, Location, Retry } from "@hysds-stac/core"
import type * as GrqConfig from "./grq/Config.ts"
import type * as S3Store from "./s3/S3Store.ts"
import type * as StacApiRegistry from "./stac-api/StacApiRegistry.ts"
import { Config, type ConfigError, Either, Option, Redacted } from "effect"
import * as fs from "node:fs"
import * as ConfigSource from "./ConfigSource.ts"
import * as Lease from "./journal/Lease.ts"

export type Source = ConfigSource.Source

/**
 * Each real backend's settings are its adapter's own configuration, tagged with
 * its kind, except that every secret is `Redacted`: it prints as `<redacted>`
 * and is unwrapped only when the adapter is built (Backends.ts).
 */
export type S3Credentials =
  | { readonly accessKeyId: string; readonly secretAccessKey: Redacted.Redacted<string> }
  | { readonly profile: string }
export type S3Settings = { readonly kind: "s3" } & Omit<S3Store.S3Config, "credentials"> & { readonly credentials?: S3Credentials }
export type GrqSettings = { readonly kind: "opensearch" | "elasticsearch" } & Omit<GrqConfig.GrqConfig, "password" | "apiKey"> & {
  readonly password?: Redacted.Redacted<string>
  readonly apiKey?: Redacted.Redacted<string>
}
export type StacApiSettings = { readonly kind: "stac-api" } & Omit<StacApiRegistry.StacApiConfig, "apiKey" | "bearerToken"> & {
  readonly apiKey?: Redacted.Redacted<string>
  readonly bearerToken?: Redacted.Redacted<string>
}

export interface Settings {
  readonly stateDir: string
  readonly store: { readonly kind: "local" } | S3Settings
  readonly index: { readonly kind: "embedded" } | GrqSettings
  readonly registry: { readonly kind: "embedded" } | StacApiSettings
  /**
   * How backend requests retry (core Retry): the curve, and the count when
   * HYSDS_STAC_RETRIES is set (otherwise each adapter keeps its own default:
   * 3 retries for GRQ and the STAC API, the S3 SDK's 6 attempts).
   */
  readonly retry: Retry.Delays & { readonly retries?: number }
  /** Where the journal lives and its lease rule (Backends.journalLayer). */
  readonly journal: JournalSettings
  /** How long a datasets.json `extractor` may run on one product (HYSDS_STAC_EXTRACTOR_TIMEOUT). */
  readonly extractorTimeoutMillis: number
  /** Secrets in the environment that the AWS SDK reads itself: kept only so text can be masked. */
  readonly ambient: ReadonlyArray<Redacted.Redacted<string>>
}

/**
 * The journal: the local file journal under the state dir (default), or the
 * shared one in the object store (`HYSDS_STAC_JOURNAL`): `s3://bucket/prefix`
 * in the configured store (S3 with HYSDS_STAC_STORE=s3, the local store's
 * `store/s3/<bucket>/<prefix>` otherwise), or `file:///abs/dir` (a directory
 * several machines mount).
 */
export type JournalSettings = {
  readonly lease: Lease.Settings
  readonly retentionDays: number
} & (
  | { readonly kind: "file" }
  | { readonly kind: "shared"; readonly location: string; readonly at: { readonly scheme: "s3"; readonly bucket: string; readonly key: string } | { readonly scheme: "file"; readonly path: string } }
)

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
  ["STAC_BATCH_SIZE", "items per bulk request (default 500)"],
  ["STAC_BULK_ITEMS", "auto (default: detect), on or off"],
  ["STAC_API_FLAVOR", "auto (default: probe the server), pgstac or sfeos (stac-fastapi-opensearch/-elasticsearch)"],
  ["HYSDS_STAC_RETRIES", "retries of a backend request that failed with 429, 5xx or no answer (default 3; 0 = none)"],
  ["HYSDS_STAC_RETRY_BASE_MS", "first backoff before jitter, doubling per retry (default 250)"],
  ["HYSDS_STAC_RETRY_MAX_MS", "longest single backoff, Retry-After included (default 10000)"],
  ["HYSDS_STAC_JOURNAL", "s3://bucket/prefix (in the configured store) or file:///dir: the shared journal many workers use (default: the state dir's journal/)"],
  ["HYSDS_STAC_LEASE_TTL_SECONDS", "a transaction whose lease was not renewed for this long is dead and recovered (default 120)"],
  ["HYSDS_STAC_LEASE_RENEW_SECONDS", "how often a running transaction renews its lease (default 15; at most a third of the TTL)"],
  ["HYSDS_STAC_EXTRACTOR_TIMEOUT", "seconds a datasets.json extractor may run on one product before its process group is killed (default 600)"]
]

/** Every name a config file may hold (an unknown one is an error naming it). */
export const KNOWN: ReadonlySet<string> = new Set([...VARIABLES.flatMap(([names]) => names.split(" / ")), ...ConfigSource.COMMON])

/** Reads a config file of the variables above. */
export const readFile = (file: string, known: ReadonlySet<string> = KNOWN) => ConfigSource.readFile(file, known)

const { problem, secret, text } = ConfigSource

/** An http(s) URL, trailing slashes dropped; the value (which may hold a password) is never quoted. */
const url = (name: string, value: string) => {
  try {
    const u = new URL(value)
    if (u.protocol === "http:" || u.protocol === "https:") return Either.right(value.replace(/\/+$/, ""))
  } catch {
    // reported below
  }
  return Either.left(problem(name, `${name} is not an http(s) URL`, `set ${name} to something like http://127.0.0.1:9200`))
}

const positive = (name: string, raw: Option.Option<string>, fallback: number) =>
  Option.match(raw, {
    onNone: () => Either.right(fallback),
    onSome: (raw) => {
      const n = Number(raw)
      return Number.isFinite(n) && n > 0 ? Either.right(n) : Either.left(problem(name, `${name}=${raw} is not a positive number`, `set ${name} to a number above 0`))
    }
  })

/** A whole number of at least `min`. */
const whole = (name: string, raw: Option.Option<string>, fallback: number, min: number) =>
  Option.match(raw, {
    onNone: () => Either.right(fallback),
    onSome: (raw) => {
      const n = Number(raw)
      return Number.isInteger(n) && n >= min
        ? Either.right(n)
        : Either.left(problem(name, `${name}=${raw} is not a whole number of at least ${min}`, `set ${name} to ${min} or more`))
    }
  })

const oneOf = <A extends string>(name: string, given: Option.Option<string>, choices: ReadonlyArray<A>, fallback: A): Either.Either<A, ConfigError.ConfigError> =>
  Option.match(given, {
    onNone: () => Either.right(fallback),
    onSome: (given) => {
      const raw = given.toLowerCase()
      return (choices as ReadonlyArray<string>).includes(raw)
        ? Either.right(raw as A)
        : Either.left(problem(name, `${name}=${raw} is not one of ${choices.join(", ")}`, `use one of ${choices.join(", ")}`))
    }
  })

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** The password inside an http(s) URL (`user:password@`), percent-decoded as clients send it. */
const urlPassword = (value: string): Option.Option<Redacted.Redacted<string>> => {
  try {
    const p = new URL(value).password
    return p === "" ? Option.none() : Option.some(Redacted.make(decode(p)))
  } catch {
    return Option.none()
  }
}

const optional = <K extends string, V>(key: K, value: Option.Option<V>): { [P in K]?: V } =>
  (Option.isNone(value) ? {} : { [key]: value.value }) as { [P in K]?: V }

/**
 * Every variable, read once from the provider. Secrets are `Redacted` here,
 * as they are read. A port's variables are checked only when that port is
 * configured (a stray S3_PART_SIZE_MB does not stop a local-store run).
 */
const variables = Config.all({
  store: text("HYSDS_STAC_STORE"),
  s3Endpoint: text("S3_ENDPOINT"),
  s3KeyId: text("S3_ACCESS_KEY_ID"),
  s3SecretKey: secret("S3_SECRET_ACCESS_KEY"),
  s3Profile: text("S3_PROFILE"),
  s3Region: text("S3_REGION"),
  awsRegion: text("AWS_REGION"),
  s3PathStyle: text("S3_FORCE_PATH_STYLE"),
  s3PartMb: text("S3_PART_SIZE_MB"),
  grqEngine: text("GRQ_ES_ENGINE"),
  grqUrl: text("GRQ_ES_URL"),
  grqRefresh: text("GRQ_REFRESH"),
  grqUsername: text("GRQ_ES_USERNAME"),
  grqPassword: secret("GRQ_ES_PASSWORD"),
  grqApiKey: secret("GRQ_ES_API_KEY"),
  stacUrl: text("STAC_API_URL"),
  stacTimeout: text("STAC_API_TIMEOUT"),
  stacBatchSize: text("STAC_BATCH_SIZE"),
  stacBulkItems: text("STAC_BULK_ITEMS"),
  stacFlavor: text("STAC_API_FLAVOR"),
  stacApiKey: secret("STAC_API_KEY"),
  stacApiKeyFile: text("STAC_API_KEY_FILE"),
  stacToken: secret("STAC_API_TOKEN"),
  stacTokenFile: text("STAC_API_TOKEN_FILE"),
  retries: text("HYSDS_STAC_RETRIES"),
  retryBaseMs: text("HYSDS_STAC_RETRY_BASE_MS"),
  retryMaxMs: text("HYSDS_STAC_RETRY_MAX_MS"),
  journal: text("HYSDS_STAC_JOURNAL"),
  leaseTtl: text("HYSDS_STAC_LEASE_TTL_SECONDS"),
  leaseRenew: text("HYSDS_STAC_LEASE_RENEW_SECONDS"),
  retentionDays: text("HYSDS_STAC_JOURNAL_RETENTION_DAYS"),
  extractorTimeout: text("HYSDS_STAC_EXTRACTOR_TIMEOUT"),
  // The AWS SDK reads these itself; they are read here only so text can be masked.
  ambient: Config.all([secret("AWS_SECRET_ACCESS_KEY"), secret("AWS_SESSION_TOKEN"), secret("S3_ACCESS_KEY_ID")])
})
type Variables = Config.Config.Success<typeof variables>

const s3 = (v: Variables) =>
  Either.gen(function* () {
    const endpoint = Option.getOrUndefined(v.s3Endpoint)
    if (endpoint !== undefined) yield* url("S3_ENDPOINT", endpoint)
    if (Option.isSome(v.s3KeyId) !== Option.isSome(v.s3SecretKey)) {
      return yield* Either.left(problem("S3_ACCESS_KEY_ID", "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together; only one is set", "set both, or neither to use the AWS SDK chain"))
    }
    const pathStyle = yield* oneOf("S3_FORCE_PATH_STYLE", v.s3PathStyle, ["true", "false"], endpoint ? "true" : "false")
    const partMb = yield* positive("S3_PART_SIZE_MB", v.s3PartMb, 16)
    if (partMb < 5) return yield* Either.left(problem("S3_PART_SIZE_MB", `S3_PART_SIZE_MB=${partMb} is below S3's 5 MiB minimum part size`, "use 5 or more"))
    const settings: S3Settings = {
      kind: "s3",
      region: Option.getOrElse(Option.orElse(v.s3Region, () => v.awsRegion), () => "us-east-1"),
      forcePathStyle: pathStyle === "true",
      partSizeBytes: Math.round(partMb * 1024 * 1024),
      ...(endpoint ? { endpoint } : {}),
      ...(Option.isSome(v.s3KeyId) && Option.isSome(v.s3SecretKey)
        ? { credentials: { accessKeyId: v.s3KeyId.value, secretAccessKey: v.s3SecretKey.value } }
        : Option.isSome(v.s3Profile)
          ? { credentials: { profile: v.s3Profile.value } }
          : {})
    }
    return settings
  })

const grq = (v: Variables) =>
  Either.gen(function* () {
    const kind = yield* oneOf("GRQ_ES_ENGINE", v.grqEngine, ["opensearch", "elasticsearch"], "elasticsearch")
    if (Option.isNone(v.grqUrl)) {
      return yield* Either.left(
        problem("GRQ_ES_URL", `GRQ_ES_ENGINE=${Option.getOrElse(v.grqEngine, () => kind)} is set but GRQ_ES_URL is not`, "set GRQ_ES_URL to the GRQ cluster, e.g. http://127.0.0.1:9200")
      )
    }
    const settings: GrqSettings = {
      kind,
      url: yield* url("GRQ_ES_URL", v.grqUrl.value),
      refresh: yield* oneOf("GRQ_REFRESH", v.grqRefresh, ["wait_for", "true", "false"], "wait_for"),
      ...optional("username", v.grqUsername),
      ...optional("password", v.grqPassword),
      ...optional("apiKey", v.grqApiKey)
    }
    return settings
  })

const stacApi = (v: Variables, raw: string) =>
  Either.gen(function* () {
    const settings: StacApiSettings = {
      kind: "stac-api",
      url: yield* url("STAC_API_URL", raw),
      timeoutMs: Math.round((yield* positive("STAC_API_TIMEOUT", v.stacTimeout, 30)) * 1000),
      batchSize: Math.round(yield* positive("STAC_BATCH_SIZE", v.stacBatchSize, 500)),
      bulkItems: yield* oneOf("STAC_BULK_ITEMS", v.stacBulkItems, ["auto", "on", "off"], "auto"),
      flavor: yield* oneOf("STAC_API_FLAVOR", v.stacFlavor, ["auto", "pgstac", "sfeos"], "auto"),
      ...optional("apiKey", v.stacApiKey),
      ...optional("apiKeyFile", v.stacApiKeyFile),
      ...optional("bearerToken", v.stacToken),
      ...optional("bearerTokenFile", v.stacTokenFile)
    }
    return settings
  })

const journal = (v: Variables) =>
  Either.gen(function* () {
    const ttl = yield* positive("HYSDS_STAC_LEASE_TTL_SECONDS", v.leaseTtl, Lease.defaults.ttlMs / 1000)
    const renew = yield* positive("HYSDS_STAC_LEASE_RENEW_SECONDS", v.leaseRenew, Math.min(Lease.defaults.renewMs / 1000, ttl / 3))
    if (renew * 3 > ttl) {
      return yield* Either.left(
        problem(
          "HYSDS_STAC_LEASE_RENEW_SECONDS",
          `HYSDS_STAC_LEASE_RENEW_SECONDS=${renew} is more than a third of HYSDS_STAC_LEASE_TTL_SECONDS=${ttl}`,
          "renew at least three times per TTL, so one slow renewal does not lose the lease"
        )
      )
    }
    const common = {
      lease: { ttlMs: Math.round(ttl * 1000), renewMs: Math.round(renew * 1000) },
      retentionDays: yield* whole("HYSDS_STAC_JOURNAL_RETENTION_DAYS", v.retentionDays, 7, 0)
    }
    if (Option.isNone(v.journal)) return { kind: "file" as const, ...common }
    const raw = v.journal.value
    const bad = problem("HYSDS_STAC_JOURNAL", `HYSDS_STAC_JOURNAL=${raw} is not s3://bucket/prefix or file:///absolute/dir`, "e.g. HYSDS_STAC_JOURNAL=s3://my-bucket/hysds-stac/journal")
    const parsed = Location.parse(raw)
    if (Either.isLeft(parsed)) return yield* Either.left(bad)
    const at = parsed.right
    if (at.scheme === "file" && !at.path.startsWith("/")) return yield* Either.left(bad)
    if (at.scheme === "s3" && at.endpoint !== undefined) {
      return yield* Either.left(problem("HYSDS_STAC_JOURNAL", `HYSDS_STAC_JOURNAL=${raw} names a host`, "name only the bucket and prefix; the server is S3_ENDPOINT's"))
    }
    const settings: JournalSettings = {
      kind: "shared",
      location: raw,
      at: at.scheme === "s3" ? { scheme: "s3", bucket: at.bucket, key: at.key } : { scheme: "file", path: at.path },
      ...common
    }
    return settings
  })

/** The backend settings; `stateDir` comes from the flag / HYSDS_STAC_HOME, already resolved. */
export const config = (stateDir: string): Config.Config<Settings> =>
  variables.pipe(
    Config.mapOrFail((v) =>
      Either.gen(function* () {
        const storeKind = yield* oneOf("HYSDS_STAC_STORE", v.store, ["local", "s3"], "local")
        const retries = Option.isSome(v.retries) ? yield* whole("HYSDS_STAC_RETRIES", v.retries, 0, 0) : undefined
        const retry: Settings["retry"] = {
          ...(retries !== undefined ? { retries } : {}),
          baseMillis: yield* whole("HYSDS_STAC_RETRY_BASE_MS", v.retryBaseMs, Retry.requestDefaults.baseMillis, 1),
          maxMillis: yield* whole("HYSDS_STAC_RETRY_MAX_MS", v.retryMaxMs, Retry.requestDefaults.maxMillis, 1)
        }
        if (retry.maxMillis < retry.baseMillis) {
          return yield* Either.left(
            problem("HYSDS_STAC_RETRY_MAX_MS", `HYSDS_STAC_RETRY_MAX_MS=${retry.maxMillis} is below HYSDS_STAC_RETRY_BASE_MS=${retry.baseMillis}`, "the longest backoff cannot be shorter than the first")
          )
        }
        const settings: Settings = {
          retry,
          extractorTimeoutMillis: Math.round((yield* positive("HYSDS_STAC_EXTRACTOR_TIMEOUT", v.extractorTimeout, 600)) * 1000),
          stateDir,
          store: storeKind === "s3" ? yield* s3(v) : { kind: "local" as const },
          index: Option.isSome(v.grqEngine) || Option.isSome(v.grqUrl) ? yield* grq(v) : { kind: "embedded" as const },
          registry: Option.isSome(v.stacUrl) ? yield* stacApi(v, v.stacUrl.value) : { kind: "embedded" as const },
          journal: yield* journal(v),
          ambient: v.ambient.flatMap(Option.toArray)
        }
        return settings
      })
    )
  )

/**
 * Every secret of `settings`, as Redacted: the configured keys, passwords and
 * tokens, passwords inside URLs, and what the key files hold right now. For the
 * text-level masking of what backends send back (`Redact.redact`).
 */
export const secrets = (s: Settings): ReadonlyArray<Redacted.Redacted<string>> => {
  const out: Array<Redacted.Redacted<string>> = [...s.ambient]
  if (s.store.kind === "s3" && s.store.credentials !== undefined && "secretAccessKey" in s.store.credentials) out.push(s.store.credentials.secretAccessKey)
  if (s.index.kind !== "embedded") {
    for (const v of [s.index.password, s.index.apiKey]) if (v !== undefined) out.push(v)
    out.push(...Option.toArray(urlPassword(s.index.url)))
  }
  if (s.registry.kind === "stac-api") {
    for (const v of [s.registry.apiKey, s.registry.bearerToken]) if (v !== undefined) out.push(v)
    out.push(...Option.toArray(urlPassword(s.registry.url)))
    for (const f of [s.registry.apiKeyFile, s.registry.bearerTokenFile]) {
      if (f === undefined) continue
      try {
        const v = fs.readFileSync(f, "utf8").trim()
        if (v !== "") out.push(Redacted.make(v))
      } catch {
        // the adapter reports an unreadable key file when it needs it
      }
    }
  }
  return out
}

/** The secrets' values, for `Redact.redact`: the one place they are unwrapped for masking. */
export const secretValues = (s: Settings): ReadonlyArray<string> => secrets(s).map(Redacted.value)

/** The settings from `file` (optional) overlaid by `env` (for scripts and tests; the faces read `config` from their provider). */
export const resolve = (options: {
  readonly env: Source
  readonly file?: Source
  readonly stateDir: string
}): Either.Either<Settings, Errors.ConfigError> =>
  Either.mapLeft(ConfigSource.load(ConfigSource.layered(options.env, options.file), config(options.stateDir)), ConfigSource.toConfigError)

/** A URL as printed: `user:***@` where it had a password. */
const display = (value: string): string => {
  try {
    const u = new URL(value)
    if (u.password === "") return value
    u.password = "***"
    return u.href.replace(/\/+$/, "")
  } catch {
    return value
  }
}

/** One line per port saying which backend serves it (for `check` and logs; no secrets). */
export const describe = (s: Settings): ReadonlyArray<readonly [string, string]> => [
  ["store", s.store.kind === "local" ? `embedded local store under ${s.stateDir}/store` : `S3${s.store.endpoint ? ` at ${s.store.endpoint}` : " (AWS)"}`],
  ["index", s.index.kind === "embedded" ? `embedded GRQ index in ${s.stateDir}/hysds-stac.sqlite` : `GRQ on ${s.index.kind} at ${display(s.index.url)}`],
  ["registry", s.registry.kind === "embedded" ? `embedded STAC registry in ${s.stateDir}/hysds-stac.sqlite` : `STAC API at ${display(s.registry.url)}`],
  [
    "journal",
    s.journal.kind === "file"
      ? `local file journal in ${s.stateDir}/journal`
      : `shared journal at ${s.journal.location}${s.journal.at.scheme === "s3" && s.store.kind === "local" ? ` (in the local store under ${s.stateDir}/store)` : ""}`
  ]
]
