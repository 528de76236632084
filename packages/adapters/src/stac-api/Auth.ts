/**
 * Credentials for the STAC API, and keeping them out of everything we print.
 *
 * Three sources, any combination:
 * - an API key sent as `X-Api-Key` (what HySDS's STAC branch sends for
 *   `STAC_API_KEY`), given inline or in a file;
 * - a bearer token sent as `Authorization: Bearer`, inline or in a file;
 * - `user:password@` in the base URL, sent as `Authorization: Basic`.
 *   The userinfo is taken out of the URL before any request is built: fetch
 *   implementations disagree on whether they honour it (browsers refuse such
 *   URLs), and a URL with a password in it ends up in error messages, spans
 *   and logs. A bearer token wins over URL credentials, as both would need the
 *   one `Authorization` header.
 *
 * Key files are re-read whenever their mtime (or size) changes, checked on
 * every request with a `stat`: secrets managers rotate keys by rewriting the
 * file, and a long-running server (or a retry loop) must pick the new key up
 * without a restart. Re-reading on every request would also work but costs a
 * read per call; `stat` is cheap.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import { Errors, Redact } from "@hysds-stac/core"

export interface Credentials {
  readonly apiKey?: string
  readonly apiKeyFile?: string
  readonly bearerToken?: string
  readonly bearerTokenFile?: string
}

/** The base URL without userinfo, and the userinfo as Basic credentials. */
export interface BaseUrl {
  /** Always ends with `/`, so relative paths resolve under it. */
  readonly href: string
  readonly url: URL
  /** For messages: the URL with `***@` where credentials were. */
  readonly display: string
  readonly basic?: { readonly user: string; readonly password: string }
}

/**
 * Splits credentials off the configured URL. Fails (without quoting the URL,
 * which may hold a password) when it does not parse.
 */
export const parseBaseUrl = (raw: string): Effect.Effect<BaseUrl, Errors.CatalogApiError> =>
  Effect.suspend(() => {
    let url: URL
    try {
      url = new URL(raw.trim())
    } catch {
      return Effect.fail(
        new Errors.CatalogApiError({
          message: `STAC_API_URL is not a valid URL: ${Redact.redact(raw)}`,
          hint: "set STAC_API_URL to the STAC API's base URL, e.g. https://stac.example.com/api/"
        })
      )
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return Effect.fail(
        new Errors.CatalogApiError({
          message: `STAC_API_URL must be an http(s) URL, not ${url.protocol}`,
          hint: "set STAC_API_URL to the STAC API's base URL, e.g. https://stac.example.com/api/"
        })
      )
    }
    const user = decodeURIComponent(url.username)
    const password = decodeURIComponent(url.password)
    const hadCredentials = url.username !== "" || url.password !== ""
    url.username = ""
    url.password = ""
    url.hash = ""
    if (!url.pathname.endsWith("/")) url.pathname = `${url.pathname}/`
    const href = url.href
    const display = hadCredentials ? href.replace("://", "://***@") : href
    return Effect.succeed({
      href,
      url: new URL(href),
      display,
      ...(hadCredentials ? { basic: { user, password } } : {})
    })
  })

/** A secret given inline or in a file; the file is re-read when it changes. */
interface SecretSource {
  /** The current value (trimmed); fails naming the file (never its content). */
  readonly read: Effect.Effect<string | undefined, Errors.CatalogApiError>
  /** Every value seen so far, for redaction (an old key is still a key). */
  readonly known: () => ReadonlyArray<string>
}

const secretSource = (name: string, inline: string | undefined, file: string | undefined): SecretSource => {
  const seen = new Set<string>()
  if (inline !== undefined && inline !== "") seen.add(inline)
  let cache: { readonly stamp: string; readonly value: string } | undefined
  const read: SecretSource["read"] =
    file === undefined
      ? Effect.succeed(inline === "" ? undefined : inline)
      : Effect.try({
          try: () => {
            const stat = fs.statSync(file)
            // mtime alone can miss two writes within the filesystem's timestamp
            // granularity; size catches most of those.
            const stamp = `${stat.mtimeMs}:${stat.size}:${stat.ino}`
            if (cache?.stamp !== stamp) {
              const value = fs.readFileSync(file, "utf8").trim()
              if (value !== "") seen.add(value)
              cache = { stamp, value }
            }
            return cache.value === "" ? undefined : cache.value
          },
          catch: (cause) =>
            new Errors.CatalogApiError({
              message: `cannot read ${name} file ${file}: ${cause instanceof Error && "code" in cause ? String(cause.code) : "unreadable"}`,
              hint: `check that ${file} exists and is readable by this process`
            })
        })
  return { read, known: () => [...seen] }
}

export interface Auth {
  /** Headers for one request, from the current contents of the key files. */
  readonly headers: Effect.Effect<Readonly<Record<string, string>>, Errors.CatalogApiError>
  /** Every secret value known so far: configured, read from files, in the URL. */
  readonly secrets: () => ReadonlyArray<string>
  /** `Redact.redact` with our secrets. */
  readonly redact: (text: string) => string
  /** What to tell a user whose request was refused with 401/403. */
  readonly hint: string
}

export const make = (base: BaseUrl, credentials: Credentials): Auth => {
  const apiKey = secretSource("STAC_API_KEY", credentials.apiKey, credentials.apiKeyFile)
  const bearer = secretSource("bearer token", credentials.bearerToken, credentials.bearerTokenFile)
  const basic =
    base.basic === undefined
      ? undefined
      : Buffer.from(`${base.basic.user}:${base.basic.password}`, "utf8").toString("base64")
  const fixed = [base.basic?.password ?? "", basic ?? ""].filter((s) => s !== "")
  const secrets = () => [...fixed, ...apiKey.known(), ...bearer.known()]
  const headers = Effect.gen(function* () {
    const out: Record<string, string> = {}
    const key = yield* apiKey.read
    if (key !== undefined) out["x-api-key"] = key
    const token = yield* bearer.read
    if (token !== undefined) out["authorization"] = `Bearer ${token}`
    else if (basic !== undefined) out["authorization"] = `Basic ${basic}`
    return out
  })
  const configured = [
    credentials.apiKeyFile !== undefined ? "STAC_API_KEY_FILE" : credentials.apiKey !== undefined ? "STAC_API_KEY" : undefined,
    credentials.bearerTokenFile !== undefined || credentials.bearerToken !== undefined ? "the bearer token" : undefined,
    base.basic !== undefined ? "the credentials in STAC_API_URL" : undefined
  ].filter((s): s is string => s !== undefined)
  const hint =
    configured.length === 0
      ? "the server wants credentials: check STAC_API_KEY (sent as X-Api-Key) or set a bearer token"
      : `check STAC_API_KEY: the server refused ${configured.join(" and ")}`
  return { headers, secrets, redact: (text) => Redact.redact(text, secrets()), hint }
}
