/**
 * Collects garbage at once when the process has grown past a budget.
 *
 * Why: the engine collects concurrently, on helper threads, and decides when
 * by how its heap grew. On a loaded 2-core machine those threads fall behind
 * planning's garbage in some runs and not in others: dry runs of the same
 * 100,000-item plan, same build, with the engine's memory setting at 256 MiB,
 * peaked at 277 MiB in one run and 323-333 in three, the extra 50-70 MiB all
 * garbage (gone a second or two later). A full collection on the spot bounds
 * that: with this valve at the setting's size, four runs alternating with those
 * peaked at 265-268 MiB. (At a 240 MiB budget: 4-6 collections of 64-257 ms
 * each in a plan of 17-22 s.)
 *
 * After a collection the next waits until the RSS has grown `step` past what
 * was left: memory the engine keeps (live objects, or pages it has not handed
 * back yet) would otherwise make every check collect again.
 */

export interface Options {
  /** Bytes of RSS past which garbage is collected. */
  readonly budget: number
  /** Bytes the RSS must grow after a collection before the next; 16 MiB by default. */
  readonly step?: number
  readonly rss: () => number
  /** A full, synchronous collection. */
  readonly collect: () => void
}

const DEFAULT_STEP = 16 * 1024 * 1024

/** A check to call often (it reads the RSS, a few microseconds): collects when the RSS is past its threshold. */
export const make = (options: Options): (() => void) => {
  const step = options.step ?? DEFAULT_STEP
  let threshold = options.budget
  return () => {
    if (options.rss() < threshold) return
    options.collect()
    threshold = Math.max(options.budget, options.rss() + step)
  }
}
