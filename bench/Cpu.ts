/**
 * CPU spent during a run, for the benchmarks: this process's (user + system)
 * and the whole machine's busy time. Why both: the servers share the machine,
 * so a phase that is slower than its floor either spent more CPU here (the
 * project's own work) or kept the servers busier (more or costlier requests);
 * a machine busy for nearly all of its cores' time cannot go faster by
 * overlapping phases. With `--services`, each test server's own CPU too
 * (servers()), which says which of them a phase kept busier than its floor.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

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

/**
 * CPU seconds of each test service started by test/services/services.sh (its
 * `<name>.pid` files in `runDir`): the process and all its descendants, each
 * with the time of the children it has reaped, so a PostgreSQL backend that
 * ends between two readings still counts (in the postmaster's). Linux only;
 * empty elsewhere or when nothing runs.
 */
export const servers = (runDir: string): Record<string, number> => {
  const children = new Map<number, Array<number>>()
  const cpu = new Map<number, number>()
  let names: Array<string>
  try {
    names = fs.readdirSync(runDir).filter((f) => f.endsWith(".pid"))
    for (const entry of fs.readdirSync("/proc")) {
      const pid = Number(entry)
      if (!Number.isInteger(pid)) continue
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
        // After the command name (which may hold spaces and parentheses): state, ppid, ... utime (14th), stime, cutime, cstime.
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
        const ppid = Number(f[1])
        const siblings = children.get(ppid)
        if (siblings) siblings.push(pid)
        else children.set(ppid, [pid])
        cpu.set(pid, (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100)
      } catch {
        // Gone since listed.
      }
    }
  } catch {
    return {}
  }
  const tree = (pid: number): number => (cpu.get(pid) ?? 0) + (children.get(pid) ?? []).reduce((n, c) => n + tree(c), 0)
  const out: Record<string, number> = {}
  for (const file of names) {
    const pid = Number(fs.readFileSync(path.join(runDir, file), "utf8").trim())
    if (cpu.has(pid)) out[file.slice(0, -4)] = tree(pid)
  }
  return out
}

/** What each server spent since `before` (a reading of servers()); one not running then counts 0. */
export const serversSince = (runDir: string, before: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(servers(runDir)).map(([name, s]) => [name, s - (before[name] ?? s)]))

/** `s3 23.9 s, postgres 12.4 s, ...`, busiest first. */
export const describeServers = (spent: Record<string, number>): string =>
  Object.entries(spent)
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${s.toFixed(1)} s`)
    .join(", ")
