/**
 * This process as the owner of a transaction, and whether another transaction's
 * owner is still alive. A transaction started on another host cannot be checked
 * from here, so it counts as alive: recovering it automatically could undo an
 * ingest that is still running there (`recover --tx` overrides).
 */
import * as os from "node:os"

export const owner = () => ({ host: os.hostname(), pid: process.pid })

export const isAlive = (begin: { readonly host?: string; readonly pid?: number }): boolean => {
  if (begin.host !== undefined && begin.host !== os.hostname()) return true
  if (begin.pid === undefined || begin.pid === process.pid) return false
  try {
    process.kill(begin.pid, 0)
    return true
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as { code?: string }).code === "EPERM"
  }
}
