/**
 * Keeping secrets out of what we print. Errors from backends often quote the
 * URL or headers they were given; a key in a job log is a leaked key. Every
 * message that leaves the process (stderr, --json, HTTP responses, logs) goes
 * through `redact` with the secrets known from the configuration.
 */

const MASK = "***"

/** `scheme://user:password@host` → `scheme://user:***@host`. */
const userInfo = /([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+):([^@/\s]+)@/gi

/** `Authorization: Bearer x`, `X-Api-Key: x`, `apiKey=x`, `password": "x"`, and similar. */
const namedSecrets =
  /((?:authorization|x-api-key|api[-_]?key|secret(?:[-_]?access)?[-_]?key|password|token|session[-_]?token)["']?\s*[:=]\s*["']?(?:bearer\s+|basic\s+|apikey\s+)?)([^"',\s}&]+)/gi

export const redact = (text: string, secrets: ReadonlyArray<string> = []): string => {
  let out = text.replace(userInfo, `$1:${MASK}@`).replace(namedSecrets, `$1${MASK}`)
  // Longest first, so a secret that contains another is masked whole.
  for (const s of [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join(MASK)
  }
  return out
}

/** Redacts every string inside a JSON-like value (for --json output and HTTP bodies). */
export const redactDeep = (value: unknown, secrets: ReadonlyArray<string> = []): unknown => {
  if (typeof value === "string") return redact(value, secrets)
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets))
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, secrets)]))
  }
  return value
}
