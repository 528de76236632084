/**
 * When to try a STAC API request again, and how long to wait first.
 *
 * Only failures that say nothing about the request itself are retried: 429
 * (rate limited), 5xx, a refused or dropped connection, and our own timeout.
 * A 4xx other than 429 is an answer about the request (bad body, conflict,
 * missing, forbidden) and would be the same answer again, so it never is.
 *
 * Waits grow exponentially with "equal jitter" (half fixed, half random):
 * loaders started together by one HySDS job fan-out must not hammer a
 * recovering server in lockstep, and the fixed half keeps a retry from firing
 * immediately. A `Retry-After` from the server is honoured up to the cap.
 */
import { Duration } from "effect"

export interface Policy {
  /** Retries after the first attempt; 0 disables retrying. */
  readonly maxRetries: number
  /** Wait before the first retry, before jitter. */
  readonly baseDelayMs: number
  /** No single wait is longer than this (Retry-After included). */
  readonly maxDelayMs: number
}

export const defaults: Policy = { maxRetries: 3, baseDelayMs: 250, maxDelayMs: 10_000 }

/** HTTP statuses worth another attempt. */
export const isRetryableStatus = (status: number): boolean => status === 429 || (status >= 500 && status <= 599)

/**
 * Whether an attempt that ended this way may have been applied by the server
 * even though we saw no success. A retried write that then meets 409 may be
 * meeting itself. 429 and 503 are refusals before any work.
 */
export const mayHaveApplied = (outcome: { readonly status: number } | "timeout" | "transport"): boolean =>
  typeof outcome === "string" || (outcome.status >= 500 && outcome.status !== 503)

/** Seconds or an HTTP date, as `Retry-After` allows; undefined when absent or unparsable. */
export const parseRetryAfter = (value: string | undefined, now: number = Date.now()): number | undefined => {
  if (value === undefined || value.trim() === "") return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** The wait before retry number `retry` (1-based). */
export const delay = (
  policy: Policy,
  retry: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random
): Duration.Duration => {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1))
  const jittered = exponential / 2 + random() * (exponential / 2)
  const wait = retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs)
  return Duration.millis(Math.round(Math.min(policy.maxDelayMs, wait)))
}
