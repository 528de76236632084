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
