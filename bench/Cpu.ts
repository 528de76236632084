/**
 * CPU spent during a run, for the benchmarks: this process's (user + system)
 * and the whole machine's busy time. Why both: the servers share the machine,
 * so a phase that is slower than its floor either spent more CPU here (the
 * project's own work) or kept the servers busier (more or costlier requests);
 * a machine busy for nearly all of its cores' time cannot go faster by
 * overlapping phases.
 */
import * as fs from "node:fs"
import * as os from "node:os"

/** Busy and total CPU seconds of the machine since boot (Linux /proc/stat); undefined elsewhere. */
const machine = (): { busy: number; total: number } | undefined => {
  try {
    const line = fs.readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!
    // cpu user nice system idle iowait irq softirq steal ...: in clock ticks, 100 per second on Linux.
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number)
    const total = ticks.reduce((a, b) => a + b, 0)
    return { busy: (total - ticks[3]! - ticks[4]!) / 100, total: total / 100 }
  } catch {
    return undefined
  }
}

export interface Spent {
  /** CPU seconds of this process. */
  readonly process: number
  /** Busy CPU seconds of the whole machine, all cores (undefined off Linux). */
  readonly machine: number | undefined
  /** The machine's busy share of its cores' time, 0..1. */
  readonly busyShare: number | undefined
}

/** Call before a run; the function it returns, called after, says what the run spent. */
export const during = (): (() => Spent) => {
  const cpu = process.cpuUsage()
  const before = machine()
  return () => {
    const used = process.cpuUsage(cpu)
    const after = machine()
    const busy = before && after ? after.busy - before.busy : undefined
    const total = before && after ? after.total - before.total : undefined
    return {
      process: (used.user + used.system) / 1e6,
      machine: busy,
      busyShare: busy !== undefined && total ? busy / total : undefined
    }
  }
}

/** How many cores the shares are of. */
export const cores = os.availableParallelism()
