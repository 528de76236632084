/**
 * How hysds-stac reaches a GRQ cluster, and how it keeps the cluster's
 * credentials out of everything it prints.
 *
 * GRQ URLs in HySDS configs often carry `user:password@`; error messages,
 * hints and logs all mention the URL, so every one of them goes through
 * {@link Connection.redact}, which knows the exact secrets of this connection
 * (not just the URL pattern): a client error that echoes a header, or a URL
 * reformatted by a client, is caught as well.
 */
import { Either } from "effect"
import { Errors, Retry } from "@hysds-stac/core"

export type Refresh = "wait_for" | "true" | "false"

export interface GrqConfig {
  /** The cluster, e.g. `https://user:pass@grq.example:9200`; credentials in it are used, never printed. */
  readonly url: string
  /** Basic auth; wins over credentials in the URL. */
  readonly username?: string
  readonly password?: string
  /** An Elasticsearch API key (the base64 `id:key` form), sent as `Authorization: ApiKey ...`. */
  readonly apiKey?: string
  /**
   * When writes become visible to `find` and `list`. `wait_for` (the default) is
   * what the publish workflow needs: it looks a product up right after writing
   * it. `true` forces a refresh (costly on busy clusters), `false` returns at
   * once and readers may miss the write for up to the refresh interval.
   */
  readonly refresh: Refresh
  /** Largest bulk request body in bytes before it is split (default 5 MiB; a lone larger document is sent alone). */
  readonly bulkMaxBytes?: number
  /** Most operations in one bulk request (default 500). */
  readonly bulkMaxDocs?: number
  /** Per request (default 30 s). */
  readonly requestTimeoutMs?: number
  /** Retries of a request failing with 429, a 5xx or a connection error, with jittered exponential backoff (default 3). */
  readonly maxRetries?: number
  /** The backoff curve (default core Retry.requestDefaults'). */
  readonly retryDelays?: Retry.Delays
}

export const defaults = {
  refresh: "wait_for" as Refresh,
  bulkMaxBytes: 5 * 1024 * 1024,
  bulkMaxDocs: 500,
  requestTimeoutMs: 30_000,
  maxRetries: 3
} as const

/** A config with every default filled in, and the parts of the URL split out. */
export interface Connection {
  /** The URL without credentials: what the client connects to. */
  readonly node: string
  /** The URL as printed: `http://user:***@host:9200` when it had credentials. */
  readonly display: string
  readonly auth?: { readonly username: string; readonly password: string }
  readonly apiKey?: string
  readonly refresh: Refresh
  readonly bulkMaxBytes: number
  readonly bulkMaxDocs: number
  readonly requestTimeoutMs: number
  readonly maxRetries: number
  readonly retryDelays: Retry.Delays
  /** Removes this connection's secrets (and any `user:pass@` or auth header) from a text. */
  readonly redact: (text: string) => string
}

const CREDENTIALS_IN_URL = /(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:]*)(?::[^/@\s]*)?@/gi
const AUTH_HEADER = /\b(authorization["']?\s*[:=]\s*["']?)(basic|bearer|apikey)\s+[^\s"',}]+/gi

/** Redacts URL credentials and auth headers in `text`, then every literal in `secrets`. */
export const redactWith =
  (secrets: ReadonlyArray<string>) =>
  (text: string): string => {
    let out = text
      .replace(CREDENTIALS_IN_URL, (_, scheme: string, user: string) => `${scheme}${user ? `${user}:` : ""}***@`)
      .replace(AUTH_HEADER, (_, prefix: string, scheme: string) => `${prefix}${scheme} ***`)
    // Longest first, so a secret containing another is removed whole.
    for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
      if (secret.length >= 3) out = out.split(secret).join("***")
    }
    return out
  }

const positive = (name: string, value: number | undefined, fallback: number, min: number): Either.Either<number, Errors.ConfigError> =>
  value === undefined
    ? Either.right(fallback)
    : Number.isInteger(value) && value >= min
      ? Either.right(value)
      : Either.left(new Errors.ConfigError({ message: `GRQ ${name} must be a whole number >= ${min}, not ${value}`, field: name }))

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** Checks and completes a config; fails (without echoing secrets) when the URL or a limit is unusable. */
export const resolve = (config: GrqConfig): Either.Either<Connection, Errors.ConfigError> =>
  Either.gen(function* () {
    let parsed: URL
    try {
      parsed = new URL(config.url)
    } catch {
      return yield* Either.left(
        new Errors.ConfigError({
          message: `GRQ URL is not a URL: ${redactWith([])(config.url)}`,
          field: "GRQ_ES_URL",
          hint: "use e.g. http://127.0.0.1:9200 or https://user:password@grq.example:9200"
        })
      )
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      return yield* Either.left(
        new Errors.ConfigError({ message: `GRQ URL must be http or https, not ${parsed.protocol}`, field: "GRQ_ES_URL" })
      )
    }
    const urlUser = decode(parsed.username)
    const urlPassword = decode(parsed.password)
    const username = config.username ?? (urlUser || undefined)
    const password = config.password ?? (config.username === undefined ? urlPassword : "")
    const secrets = [config.password, config.apiKey, urlPassword, parsed.password].filter(
      (s): s is string => s !== undefined && s !== ""
    )
    if (username !== undefined) secrets.push(Buffer.from(`${username}:${password}`).toString("base64"))
    const redact = redactWith(secrets)
    if (config.apiKey !== undefined && config.username !== undefined) {
      return yield* Either.left(
        new Errors.ConfigError({ message: "GRQ: give either a username and password or an API key, not both", field: "apiKey" })
      )
    }
    const displayUrl = new URL(parsed.href)
    if (displayUrl.password) displayUrl.password = "***"
    parsed.username = ""
    parsed.password = ""
    const node = parsed.href.replace(/\/$/, "")
    return {
      node,
      display: redact(displayUrl.href.replace(/\/$/, "")),
      ...(username !== undefined && config.apiKey === undefined ? { auth: { username, password } } : {}),
      ...(config.apiKey !== undefined ? { apiKey: config.apiKey } : {}),
      refresh: config.refresh,
      bulkMaxBytes: yield* positive("bulkMaxBytes", config.bulkMaxBytes, defaults.bulkMaxBytes, 1),
      bulkMaxDocs: yield* positive("bulkMaxDocs", config.bulkMaxDocs, defaults.bulkMaxDocs, 1),
      requestTimeoutMs: yield* positive("requestTimeoutMs", config.requestTimeoutMs, defaults.requestTimeoutMs, 1),
      maxRetries: yield* positive("maxRetries", config.maxRetries, defaults.maxRetries, 0),
      retryDelays: config.retryDelays ?? Retry.requestDefaults,
      redact
    }
  })
