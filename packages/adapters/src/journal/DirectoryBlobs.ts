/**
 * Blobs in a directory: the local store's form of the shared journal (and a
 * file system several machines mount). A key's segments are directories, its
 * last one a file. `create` is an exclusive create (O_EXCL), which a local
 * file system and NFSv3+ perform atomically; `put` writes a temp file and
 * renames it over the key, so a reader sees the old or the new body, never a
 * torn one. Every write is fsynced (the file and its directory) before it
 * returns: the journal's "durable before the step starts". An object's age is
 * its mtime against this machine's clock.
 */
import { Errors } from "@hysds-stac/core"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { type Blobs, checkKey } from "./Blobs.ts"

export type { Blobs }

const TEMP = ".tmp-"

const fsyncPath = (p: string) => {
  const fd = fs.openSync(p, "r")
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

export const make = (root: string): Blobs => {
  const fail = (message: string) => (cause: unknown) =>
    cause instanceof Errors.InternalError ? cause : new Errors.InternalError({ message: `${message} (journal in ${root})`, cause })
  const fileOf = (key: string) => {
    const bad = checkKey(key)
    if (bad !== undefined) throw new Errors.InternalError({ message: bad })
    return path.join(root, ...key.split("/"))
  }
  const writeSynced = (file: string, body: string, flag: "wx" | "w") => {
    const fd = fs.openSync(file, flag)
    try {
      fs.writeSync(fd, body)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  }

  const create: Blobs["create"] = (key, body) =>
    Effect.try({
      try: () => {
        const file = fileOf(key)
        fs.mkdirSync(path.dirname(file), { recursive: true })
        try {
          writeSynced(file, body, "wx")
        } catch (e) {
          if ((e as { code?: string }).code === "EEXIST") return false
          throw e
        }
        fsyncPath(path.dirname(file))
        return true
      },
      catch: fail(`cannot create ${key}`)
    })

  const put: Blobs["put"] = (key, body) =>
    Effect.try({
      try: () => {
        const file = fileOf(key)
        fs.mkdirSync(path.dirname(file), { recursive: true })
        const temp = path.join(path.dirname(file), `${TEMP}${randomUUID()}`)
        writeSynced(temp, body, "wx")
        fs.renameSync(temp, file)
        fsyncPath(path.dirname(file))
      },
      catch: fail(`cannot write ${key}`)
    })

  const get: Blobs["get"] = (key) =>
    Effect.try({
      try: () => {
        const file = fileOf(key)
        try {
          const body = fs.readFileSync(file, "utf8")
          return { body, ageMs: Math.max(0, Date.now() - fs.statSync(file).mtimeMs) }
        } catch (e) {
          if ((e as { code?: string }).code === "ENOENT") return undefined
          throw e
        }
      },
      catch: fail(`cannot read ${key}`)
    })

  const list: Blobs["list"] = (prefix) =>
    Effect.try({
      try: () => {
        // Walk from the deepest directory the prefix names whole.
        const cut = prefix.lastIndexOf("/")
        const base = cut < 0 ? "" : prefix.slice(0, cut)
        const start = base === "" ? root : fileOf(base)
        const out: Array<string> = []
        const walk = (dir: string, rel: string) => {
          let entries: Array<fs.Dirent>
          try {
            entries = fs.readdirSync(dir, { withFileTypes: true })
          } catch (e) {
            if ((e as { code?: string }).code === "ENOENT" || (e as { code?: string }).code === "ENOTDIR") return
            throw e
          }
          for (const entry of entries) {
            if (entry.name.startsWith(TEMP)) continue
            const key = rel === "" ? entry.name : `${rel}/${entry.name}`
            if (!key.startsWith(prefix) && !prefix.startsWith(`${key}/`)) continue
            if (entry.isDirectory()) walk(path.join(dir, entry.name), key)
            else out.push(key)
          }
        }
        walk(start, base)
        return out.sort()
      },
      catch: fail(`cannot list ${prefix}`)
    })

  const remove: Blobs["remove"] = (keys) =>
    Effect.try({
      try: () => {
        const dirs = new Set<string>()
        for (const key of keys) {
          const file = fileOf(key)
          fs.rmSync(file, { force: true })
          dirs.add(path.dirname(file))
        }
        // Directories left empty go too, deepest first, never the root.
        for (const dir of [...dirs].sort((a, b) => b.length - a.length)) {
          for (let d = dir; d.startsWith(root + path.sep); d = path.dirname(d)) {
            try {
              fs.rmdirSync(d)
            } catch {
              break
            }
          }
        }
      },
      catch: fail(`cannot remove ${keys.length} key(s)`)
    })

  return { where: root, create, put, get, list, remove }
}
