/**
 * Peak resident memory of a run, for the benchmarks. A sampler on a timer
 * misses what planning holds: its walk runs between two ticks. The process's
 * maxRSS does not miss it, but covers the whole process; when it rose during a
 * run, that run set it.
 */

/** The most resident memory the process has held so far, in bytes (maxRSS is in KiB). */
export const maxRss = (): number => process.resourceUsage().maxRSS * 1024

/** Call before a run; the function it returns, called after, turns the run's sampled peak into its true one. */
export const during = (): ((sampled: number) => number) => {
  const before = maxRss()
  return (sampled) => {
    const after = maxRss()
    return after > before ? Math.max(sampled, after) : sampled
  }
}

/**
 * The engine's memory settings this process was started with (`BUN_JSC_*`,
 * e.g. `BUN_JSC_forceRAMSize`), for a benchmark's header: they change the peak
 * RSS more than most code changes do, so a figure must say which it ran under.
 */
export const engineSettings = (): string => {
  const set = Object.entries(process.env).filter(([k]) => k.startsWith("BUN_JSC_"))
  return set.length === 0 ? "engine defaults" : set.map(([k, v]) => `${k}=${v}`).join(" ")
}
