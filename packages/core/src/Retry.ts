/**
 * The one retry policy: every backend request (GRQ, STAC API) and every undo
 * and recovery step waits by the same curve, built here once.
 *
 * - Exponential from `baseMillis`, doubling, capped at `maxMillis`.
 * - "Equal jitter": half of each wait fixed, half random. Loaders started
 *   together by one HySDS fan-out must not hammer a recovering server in
 *   lockstep, and the fixed half keeps a retry from firing at once.
 * - A server's `Retry-After` is honoured (waited at least), up to the cap: a
 *   server that says how long it needs knows better than our curve, but a
 *   server saying "an hour" must not stall an ingest holding its markers.
 * - `retries` counts the tries after the first; 0 disables retrying.
 */
import { Context, Duration, Effect, Schedule } from "effect"

export interface Policy {
  /** Tries after the first one; 0 disables retrying. */
  readonly retries: number
  /** Wait before the first retry, before jitter. */
  readonly baseMillis: number
  /** No single wait is longer than this, `Retry-After` included. */
  readonly maxMillis: number
}

/** The curve alone, without the count (adapters count tries their own way, e.g. the S3 SDK's attempts). */
export type Delays = Pick<Policy, "baseMillis" | "maxMillis">

/**
 * Backend requests: a few quick tries, since a request that keeps failing is
 * better reported while the operator is still watching.
 */
export const requestDefaults: Policy = { retries: 3, baseMillis: 250, maxMillis: 10_000 }

/**
 * Undo and recovery: 8 retries from 200 ms capped at 5 s, about 20 s in all,
 * outlasting a server restart; giving up on the first error would leave data
 * behind that a retry a few seconds later removes.
 */
export const undoDefaults: Policy = { retries: 8, baseMillis: 200, maxMillis: 5_000 }

/** The wait before retry number `retry` (1-based), before `Retry-After`. */
export const delayMillis = (policy: Policy, retry: number, random: () => number = Math.random): number => {
  const exponential = Math.min(policy.maxMillis, policy.baseMillis * 2 ** Math.max(0, retry - 1))
  return Math.round(exponential / 2 + random() * (exponential / 2))
}

/** The wait once the server's `Retry-After` (milliseconds, when it sent one) is taken into account. */
export const withRetryAfter = (policy: Policy, waitMillis: number, retryAfterMillis: number | undefined): number =>
  Math.min(policy.maxMillis, retryAfterMillis === undefined ? waitMillis : Math.max(waitMillis, retryAfterMillis))

/** `Retry-After` as seconds or an HTTP date; undefined when absent or unparsable. */
export const parseRetryAfter = (value: string | undefined, now: number = Date.now()): number | undefined => {
  if (value === undefined || value.trim() === "") return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

export interface ScheduleOptions<E> {
  /** Only errors for which this holds are retried (default: all). */
  readonly while?: (error: E) => boolean
  /** How long the server asked us to wait, in milliseconds, when the error says. */
  readonly retryAfter?: (error: E) => number | undefined
}

/**
 * The policy as a Schedule for `Effect.retry`: its input is the error of the
 * try that just failed, which is how `Retry-After` and `while` see it.
 */
export const schedule = <E>(policy: Policy, options: ScheduleOptions<E> = {}): Schedule.Schedule<unknown, E> => {
  const keepGoing = options.while ?? (() => true)
  const retryAfter = options.retryAfter ?? (() => undefined)
  // identity passes the failed try's error through as output; recurs counts the retries (0-based).
  return Schedule.intersect(Schedule.identity<E>(), Schedule.recurs(policy.retries)).pipe(
    Schedule.whileInput(keepGoing),
    Schedule.addDelay(([error, n]) => Duration.millis(withRetryAfter(policy, delayMillis(policy, n + 1), retryAfter(error))))
  )
}

/** Retries `effect` by `policy`; the error of the last try is kept when all fail. */
export const retry = <A, E, R>(effect: Effect.Effect<A, E, R>, policy: Policy, options: ScheduleOptions<E> = {}) =>
  Effect.retry(effect, schedule(policy, options))

/** How undo and recovery retry; tests shorten it by providing another value. */
export class UndoPolicy extends Context.Reference<UndoPolicy>()("@hysds-stac/core/UndoPolicy", {
  defaultValue: (): Policy => undoDefaults
}) {}

/** Retries an undo, a commit cleanup or a recovery step by the current {@link UndoPolicy}. */
export const undo = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(UndoPolicy, (policy) => retry(effect, policy))
