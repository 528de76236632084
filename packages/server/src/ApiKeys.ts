/**
 * The API keys the server accepts: those of HYSDS_STAC_API_KEYS plus those of
 * HYSDS_STAC_API_KEYS_FILE. The file is looked at on every use and re-read
 * when its mtime, size or inode changed, so a key is rotated by rewriting (or
 * atomically replacing) the file: no restart, no signal, and a revoked key
 * stops working on the very next request.
 *
 * A file that disappears or cannot be read contributes no key (fail closed):
 * keeping the last keys read would keep a revoked key alive.
 *
 * Comparison hashes both sides first, then compares in constant time, so
 * neither the key's content nor its length leaks through response timing.
 */
import { Context } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import * as fs from "node:fs"

export interface ApiKeysShape {
  /** Whether `candidate` is one of the current keys. */
  readonly verify: (candidate: string) => boolean
  /** The current keys (for masking them wherever text leaves the process). */
  readonly current: () => ReadonlyArray<string>
}

export class ApiKeys extends Context.Tag("@hysds-stac/server/ApiKeys")<ApiKeys, ApiKeysShape>() {}

/** One key per line; blank lines and `#` comments are ignored. */
export const parse = (text: string): Array<string> =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest()

export interface Options {
  readonly keys: ReadonlyArray<string>
  readonly file?: string
  /** Told when the file's keys are (re)loaded or lost, for the log. */
  readonly onReload?: (event: { readonly file: string; readonly keys: number; readonly error?: string }) => void
}

export const make = (options: Options): ApiKeysShape => {
  let signature = ""
  let fromFile: ReadonlyArray<string> = []
  const refresh = () => {
    const file = options.file
    if (file === undefined) return
    let next: string
    try {
      const s = fs.statSync(file)
      next = `${s.mtimeMs}:${s.size}:${s.ino}`
    } catch {
      next = "missing"
    }
    if (next === signature) return
    signature = next
    if (next === "missing") {
      fromFile = []
      options.onReload?.({ file, keys: 0, error: "the file is missing" })
      return
    }
    try {
      fromFile = parse(fs.readFileSync(file, "utf8"))
      options.onReload?.({ file, keys: fromFile.length })
    } catch (e) {
      fromFile = []
      options.onReload?.({ file, keys: 0, error: (e as { code?: string }).code ?? "unreadable" })
    }
  }
  const current = () => {
    refresh()
    return [...options.keys, ...fromFile]
  }
  return {
    current,
    verify: (candidate) => {
      if (candidate === "") return false
      const wanted = digest(candidate)
      let ok = false
      // Every key is compared (no early exit), so timing does not tell which matched.
      for (const key of current()) ok = timingSafeEqual(wanted, digest(key)) || ok
      return ok
    }
  }
}
