/**
 * When a STAC API request is worth another try; how long to wait is core's
 * shared `Retry` policy.
 *
 * Only failures that say nothing about the request itself are retried: 429
 * (rate limited), 5xx, a refused or dropped connection, and our own timeout.
 * A 4xx other than 429 is an answer about the request (bad body, conflict,
 * missing, forbidden) and would be the same answer again, so it never is.
 */

/** HTTP statuses worth another attempt. */
export const isRetryableStatus = (status: number): boolean => status === 429 || (status >= 500 && status <= 599)

/**
 * Whether an attempt that ended this way may have been applied by the server
 * even though we saw no success. A retried write that then meets 409 may be
 * meeting itself. 429 and 503 are refusals before any work.
 */
export const mayHaveApplied = (outcome: { readonly status: number } | "timeout" | "transport"): boolean =>
  typeof outcome === "string" || (outcome.status >= 500 && outcome.status !== 503)
