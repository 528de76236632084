/**
 * Whether the process that started a transaction is still alive, by host and
 * pid: the rule before leases (Lease.ts), kept for the transactions a
 * hysds-stac from before leases left in a local file journal, which have no
 * lease. A live transaction must never be "recovered" (rolled back under its
 * feet). The file journal also uses `processExists` to tell at once that a
 * lease holder of this host is gone.
 *
 * - Another host counts as alive: it cannot be checked from here, and guessing
 *   wrong would undo an ingest still running there (`recover --tx` overrides).
 * - A pid of this host is alive if the process exists.
 * - This process's own pid: a CLI runs one ingest per process, so a transaction
 *   with its pid is a leftover of an earlier process that had the same pid, and
 *   is dead. A server runs several at once and passes `runningHere`, so its own
 *   transactions count as alive exactly while it runs them.
 */

/** Who started a transaction, as its Begin record says. */
export interface Owner {
  readonly tx: string
  readonly host?: string
  readonly pid?: number
}
import * as os from "node:os"

/** This process, as recorded in the transactions it starts. */
export const thisProcess = () => ({ host: os.hostname(), pid: process.pid })

/** Whether a process of this host with `pid` exists. */
export const processExists = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as { code?: string }).code === "EPERM"
  }
}

export const isAlive =
  (runningHere: (tx: string) => boolean = () => false) =>
  (owner: Owner): boolean => {
    if (owner.host !== undefined && owner.host !== os.hostname()) return true
    if (owner.pid === undefined) return false
    if (owner.pid === process.pid) return runningHere(owner.tx)
    return processExists(owner.pid)
  }
