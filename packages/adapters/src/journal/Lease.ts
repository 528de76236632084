/**
 * Transaction leases, the journal's one liveness rule (every journal uses it:
 * the shared one in the object store and the local file journal).
 *
 * A transaction's holder keeps a lease object, `<gen>.json` under the
 * transaction's lease prefix, and rewrites it every `renewMs`; its body names
 * the holder and the TTL it promised. A lease whose object was not rewritten
 * for longer than its TTL (plus one second, the resolution of S3's
 * LastModified), or that its holder released, is expired: its transaction is
 * dead, whatever machine ran it. (In S3 a reader's clock is the server's, to
 * the second, so it may see the lease expire up to a second later still:
 * S3Blobs.) Taking over a dead transaction is a
 * create-only write of the NEXT generation's key, so of several recoverers
 * exactly one wins; the winner then holds (and renews) that generation.
 *
 * The holder's side of the rule: it counts its lease from the moment it SENT
 * its last successful renewal, and once that is older than the TTL it has
 * lost the lease, whether or not anyone took it over; `check` then fails, and
 * the journal refuses the holder's appends (no step starts after that). A
 * renewal answered only after that moment does not win the lease back (it may
 * have landed after a takeover), nor does one sent after it (a stalled event
 * loop wakes its renewal and its next append in either order). A
 * reader sees the renewal's time as the store recorded it, no earlier than it
 * was sent, so the holder always gives up no later than a reader may take
 * over (clocks of the machines agreeing to well within the TTL, as NTP keeps
 * them).
 */
import { Errors } from "@hysds-stac/core"
import { Duration, Effect, Schedule, type Scope } from "effect"
import type { Blobs } from "./Blobs.ts"

export interface Settings {
  /** A lease not renewed for this long is expired. */
  readonly ttlMs: number
  /** How often a holder renews it. */
  readonly renewMs: number
}

/** Two minutes: a lost machine's transactions are recovered this long after it died; renewals every 15 s. */
export const defaults: Settings = { ttlMs: 120_000, renewMs: 15_000 }

export interface Holder {
  /** Unique to one journal instance (process). */
  readonly id: string
  readonly host: string
  readonly pid: number
}

interface Body {
  readonly holder: Holder
  readonly ttlMs: number
  readonly released?: boolean
}

/** LastModified has one-second resolution: a renewal may look up to a second older than it is. */
const RESOLUTION_MS = 1000

export interface Options {
  readonly blobs: Blobs
  /** The prefix of a transaction's lease keys (ends with "/"). */
  readonly prefixOf: (tx: string) => string
  readonly settings: Settings
  readonly holder: Holder
  /** A holder known dead at once (the file journal: a process of this host that is gone). */
  readonly provenDead?: (holder: Holder) => boolean
  /** A transaction that has no lease at all: whether its holder is alive (the file journal's rule for pre-lease transactions). */
  readonly unleased: (tx: string) => Effect.Effect<boolean, Errors.InternalError>
}

export interface Leases {
  readonly lease: (tx: string, mode: "begin" | "takeover" | "force") => Effect.Effect<boolean, Errors.InternalError, Scope.Scope>
  readonly live: (tx: string) => Effect.Effect<boolean, Errors.InternalError>
  /** The generation of `tx`'s lease this process holds, if it holds one. */
  readonly generation: (tx: string) => number | undefined
  /** Fails when this process holds `tx`'s lease but may have lost it (not renewed within the TTL). */
  readonly check: (tx: string) => Effect.Effect<void, Errors.InternalError>
}

const GEN = /^(\d{6})\.json$/

export const make = (options: Options): Leases => {
  const { blobs, settings, holder } = options
  const held = new Map<string, { gen: number; renewedAt: number; lost: boolean }>()
  const keyOf = (tx: string, gen: number) => `${options.prefixOf(tx)}${String(gen).padStart(6, "0")}.json`

  /** The newest generation's lease of `tx`, or undefined when it never had one. */
  const latest = (tx: string) =>
    Effect.gen(function* () {
      const gens = (yield* blobs.list(options.prefixOf(tx)))
        .map((k) => GEN.exec(k.slice(options.prefixOf(tx).length))?.[1])
        .filter((g): g is string => g !== undefined)
        .map(Number)
      if (gens.length === 0) return undefined
      const gen = Math.max(...gens)
      const blob = yield* blobs.get(keyOf(tx, gen))
      if (blob === undefined) return { gen, expired: true }
      let body: Body
      try {
        body = JSON.parse(blob.body) as Body
      } catch {
        return { gen, expired: true }
      }
      const ttl = typeof body.ttlMs === "number" && body.ttlMs > 0 ? body.ttlMs : settings.ttlMs
      const expired = body.released === true || blob.ageMs > ttl + RESOLUTION_MS || (options.provenDead?.(body.holder) ?? false)
      return { gen, expired }
    })

  const live: Leases["live"] = (tx) =>
    Effect.gen(function* () {
      const mine = held.get(tx)
      if (mine !== undefined) return !mine.lost
      const l = yield* latest(tx)
      return l === undefined ? yield* options.unleased(tx) : !l.expired
    })

  const body = (released = false): string => JSON.stringify({ holder, ttlMs: settings.ttlMs, ...(released ? { released } : {}) } satisfies Body)

  const renew = (tx: string, gen: number) =>
    Effect.gen(function* () {
      const entry = held.get(tx)
      if (entry === undefined || entry.lost) return
      const lose = Effect.suspend(() => {
        entry.lost = true
        return Effect.logError(`journal: the lease of ${tx} could not be renewed within ${settings.ttlMs} ms; this process stops acting on it`)
      })
      const sentAt = Date.now()
      // Late already (an event loop stalled past the TTL): a reader may have taken over meanwhile, and a
      // renewal now would not give the lease back; it would only make this holder believe it still has it.
      if (sentAt - entry.renewedAt >= settings.ttlMs) return yield* lose
      const put = yield* Effect.either(blobs.put(keyOf(tx, gen), body()))
      // A renewal counts only if the store had it before the lease could expire: one answered later may
      // have landed after a reader saw the old one expired and took over.
      if (Date.now() - entry.renewedAt >= settings.ttlMs) return yield* lose
      if (put._tag === "Right") entry.renewedAt = sentAt
      else yield* Effect.logWarning(`journal: renewing the lease of ${tx} failed: ${put.left.message}`)
    })

  const acquire = (tx: string, mode: "begin" | "takeover" | "force") =>
    Effect.gen(function* () {
      if (held.has(tx)) return undefined
      let gen = 1
      if (mode !== "begin") {
        const l = yield* latest(tx)
        if (mode === "takeover") {
          if (l === undefined ? yield* options.unleased(tx) : !l.expired) return undefined
        }
        gen = (l?.gen ?? 0) + 1
      }
      const sentAt = Date.now()
      if (!(yield* blobs.create(keyOf(tx, gen), body()))) return undefined
      held.set(tx, { gen, renewedAt: sentAt, lost: false })
      return gen
    })

  const release = (tx: string, gen: number) =>
    Effect.gen(function* () {
      held.delete(tx)
      // A transaction compacted away meanwhile keeps no lease: do not bring one back.
      if ((yield* blobs.get(keyOf(tx, gen))) === undefined) return
      yield* blobs.put(keyOf(tx, gen), body(true))
    }).pipe(Effect.catchAll((e) => Effect.logWarning(`journal: releasing the lease of ${tx} failed (it expires by itself): ${e.message}`)))

  const lease: Leases["lease"] = (tx, mode) =>
    Effect.gen(function* () {
      const gen = yield* Effect.acquireRelease(acquire(tx, mode), (gen) => (gen === undefined ? Effect.void : release(tx, gen)))
      if (gen === undefined) return false
      yield* Effect.forkScoped(Effect.repeat(Effect.delay(renew(tx, gen), Duration.millis(settings.renewMs)), Schedule.forever))
      return true
    })

  const check: Leases["check"] = (tx) =>
    Effect.suspend(() => {
      const entry = held.get(tx)
      if (entry === undefined) return Effect.void
      if (!entry.lost && Date.now() - entry.renewedAt < settings.ttlMs) return Effect.void
      entry.lost = true
      return Effect.fail(
        new Errors.InternalError({
          message: `transaction ${tx}: this process lost its lease (not renewed within ${settings.ttlMs} ms), so another worker may be recovering it; nothing more is done here`
        })
      )
    })

  return { lease, live, check, generation: (tx) => held.get(tx)?.gen }
}
