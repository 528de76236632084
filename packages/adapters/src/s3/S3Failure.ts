/**
 * S3 SDK failures as StorageErrors that say what to fix.
 *
 * The SDK's own messages name an error code ("SignatureDoesNotMatch") but not
 * which setting is wrong, and answers to HEAD requests carry no body at all
 * ("UnknownError" with a bare 403 or 404). The hint here names the bucket, the
 * endpoint and the setting to check instead.
 *
 * Secrets never reach a message, a hint or a cause: every text passes through
 * `redact`, and the SDK error itself is not kept as the cause (some servers echo
 * the canonical request, session token included, in a SignatureDoesNotMatch
 * body, and the SDK copies that body onto the error).
 */
import { Errors } from "@hysds-stac/core"
import type { S3Target } from "./S3Location.ts"

/** What was being done when the SDK failed. */
export interface Attempt {
  /** A verb phrase: "read", "write", "list", "check bucket of". */
  readonly action: string
  readonly target: S3Target
  /** What a bare 404 means: no such key (default), or no such bucket (HeadBucket). */
  readonly subject?: "object" | "bucket"
}

/** The parts of an SDK (or Node network) error we look at. */
interface SdkError {
  readonly name: string
  readonly code: string | undefined
  readonly status: number | undefined
  readonly attempts: number | undefined
  readonly message: string
  readonly region: string | undefined
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPIPE",
  "ConnectionRefused",
  "TimeoutError"
])

const field = (e: unknown, name: string): unknown => (typeof e === "object" && e !== null ? (e as Record<string, unknown>)[name] : undefined)
const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined)

export const inspect = (e: unknown): SdkError => {
  const metadata = field(e, "$metadata")
  const response = field(e, "$response")
  const headers = field(response, "headers")
  const status = field(metadata, "httpStatusCode")
  const attempts = field(metadata, "attempts")
  return {
    name: text(field(e, "name")) ?? "Error",
    code: text(field(e, "Code")) ?? text(field(e, "code")),
    status: typeof status === "number" ? status : undefined,
    attempts: typeof attempts === "number" ? attempts : undefined,
    message: text(field(e, "message")) ?? String(e),
    region: text(field(headers, "x-amz-bucket-region"))
  }
}

/** The error code that decides the hint: S3's code, else Node's, else the HTTP status a HEAD answered with. */
export const codeOf = (e: SdkError, subject: "object" | "bucket" = "object"): string => {
  if (e.code !== undefined && e.code !== "Unknown") return e.code
  if (subject === "bucket" && e.status === 404) return "NoSuchBucket"
  if (e.name !== "Unknown" && e.name !== "Error" && e.name !== "UnknownError") return e.name
  if (e.status === 404) return "NotFound"
  if (e.status === 403) return "Forbidden"
  if (e.status === 301) return "PermanentRedirect"
  return e.status !== undefined ? `HTTP${e.status}` : e.name
}

const serverName = (target: S3Target) => target.endpoint ?? "AWS S3"

const credentialsHint = (target: S3Target, problem: string) =>
  `check credentials for ${target.bucket}: ${problem} (s3-profile-name or keys in datasets.json, AWS_PROFILE, ` +
  `AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or the instance role)`

const tries = (e: SdkError) => (e.attempts !== undefined && e.attempts > 1 ? ` after ${e.attempts} attempts` : "")

/** What to do about `code`, for the bucket and server of `attempt`. */
export const hintFor = (code: string, e: SdkError, attempt: Attempt): string => {
  const { target, action } = attempt
  if (CONNECTION_CODES.has(code) || CONNECTION_CODES.has(e.name)) {
    return `could not reach ${serverName(target)}${tries(e)}: is S3_ENDPOINT right and the server up?`
  }
  switch (code) {
    case "NoSuchBucket":
      return `create bucket ${target.bucket} on ${serverName(target)}, or fix the location in datasets.json`
    case "NoSuchKey":
    case "NotFound":
      return `nothing is stored at key "${target.key}" of bucket ${target.bucket}`
    case "AccessDenied":
    case "Forbidden":
    case "AllAccessDisabled":
      return credentialsHint(target, `they are not allowed to ${action} it`)
    case "InvalidAccessKeyId":
      return credentialsHint(target, `${serverName(target)} does not know the access key id`)
    case "SignatureDoesNotMatch":
      return credentialsHint(target, "the secret key does not match the access key id")
    case "ExpiredToken":
    case "InvalidToken":
    case "TokenRefreshRequired":
      return credentialsHint(target, "the session token expired or is not valid; refresh it")
    case "CredentialsProviderError":
      return credentialsHint(target, "none were found")
    case "PermanentRedirect":
    case "AuthorizationHeaderMalformed":
    case "IllegalLocationConstraintException":
      return `bucket ${target.bucket} is in another region${e.region ? ` (${e.region})` : ""}: set AWS_REGION to it`
    case "SlowDown":
    case "ServiceUnavailable":
    case "Throttling":
      return `${serverName(target)} kept throttling${tries(e)}: publish with less parallelism, or later`
    case "EntityTooLarge":
      return "the object is larger than the server accepts in one request"
    case "RequestTimeout":
    case "RequestTimeTooSkewed":
      return code === "RequestTimeout"
        ? `${serverName(target)} timed out${tries(e)}: check the network`
        : "this machine's clock is off: sync it (NTP), S3 refuses signatures more than 15 minutes off"
  }
  if (e.status !== undefined && e.status >= 500) {
    return `${serverName(target)} failed${tries(e)}: retry later, or read the server's logs`
  }
  return `${serverName(target)} refused the request (${code})`
}

/**
 * Replaces every secret in `s` by `***`. Longest first, so a secret that
 * contains another is not left half visible. Secrets under 8 characters are
 * left alone: replacing every "s" would garble the text, and no real S3
 * secret is that short (AWS's are 40 characters).
 */
export const redactWith = (secrets: Iterable<string>) => {
  const sorted = [...secrets].filter((s) => s.length >= 8).sort((a, b) => b.length - a.length)
  return (s: string): string => sorted.reduce((acc, secret) => acc.replaceAll(secret, "***"), s)
}

/** The SDK's error as a StorageError for `attempt`, with every secret removed. */
export const toStorageError = (cause: unknown, attempt: Attempt, redact: (s: string) => string): Errors.StorageError => {
  if (cause instanceof Errors.StorageError) return cause
  const e = inspect(cause)
  const code = codeOf(e, attempt.subject)
  const detail = e.message && e.message !== "UnknownError" && e.message !== code ? `: ${e.message}` : ""
  const status = e.status !== undefined ? ` (HTTP ${e.status})` : ""
  const message = redact(`could not ${attempt.action} ${attempt.target.url}: ${code}${status}${detail}`)
  const clean = Object.assign(new Error(message), {
    name: code,
    ...(e.status !== undefined ? { httpStatusCode: e.status } : {}),
    ...(e.attempts !== undefined ? { attempts: e.attempts } : {})
  })
  return new Errors.StorageError({
    message,
    url: attempt.target.url,
    // Undo code tells "already gone" from a failure by it (a claim's undo copies back a
    // publish context it may never have set aside), as it does on the local store.
    ...((code === "NoSuchKey" || code === "NotFound") && attempt.subject !== "bucket" ? { missing: true } : {}),
    hint: redact(hintFor(code, e, attempt)),
    cause: clean
  })
}

/** True when S3 answered that nothing is at the key (GetObject's NoSuchKey, HeadObject's bare 404). */
export const isNotFound = (cause: unknown): boolean => {
  const code = codeOf(inspect(cause))
  return code === "NoSuchKey" || code === "NotFound"
}

/** True when a conditional write lost: something already exists (412), or a concurrent conditional write won (409). */
export const isConditionLost = (cause: unknown): boolean => {
  const e = inspect(cause)
  const code = codeOf(e)
  return code === "PreconditionFailed" || code === "ConditionalRequestConflict" || e.status === 412
}

/** How many times the SDK sent the request that failed (1 when unknown). */
export const attemptsOf = (cause: unknown): number => inspect(cause).attempts ?? 1
