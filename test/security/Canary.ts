/**
 * Support for the hostile-input suite: a canary tree outside every job dir and
 * publish location, whose checksums must be the same after an attack as before.
 * Attacks aim their symlinks and `../` names at it, so a hole shows up as a
 * changed, added or removed canary file rather than as a guess about paths.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { hashTree } from "../support/State.ts"

export interface Canary {
  /** The canary directory (absolute). */
  readonly dir: string
  /** A file in it an attack tries to read, overwrite or publish. */
  readonly victim: string
  /** Checksums of the whole canary tree as it is now. */
  readonly hashes: () => ReadonlyArray<readonly [string, string]>
}

/** Creates `<root>/canary` with a few files, `victim.txt` among them. */
export const makeCanary = (root: string): Canary => {
  const dir = path.join(root, "canary")
  mkdirSync(path.join(dir, "nested"), { recursive: true })
  const victim = path.join(dir, "victim.txt")
  writeFileSync(victim, "canary: must never be read, changed or published\n")
  writeFileSync(path.join(dir, "keys.txt"), "secret-key-of-someone-else\n")
  writeFileSync(path.join(dir, "nested", "data.bin"), new Uint8Array(4096).fill(7))
  return { dir, victim, hashes: () => hashTree(dir) }
}
