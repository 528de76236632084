/**
 * ObjectStore on the local disk: the embedded default, no server needed.
 *
 * URLs map to paths so that HySDS configs run as they are:
 * - `file:///abs/path` → `/abs/path`;
 * - `s3://bucket/key` and `s3://host:port/bucket/key` → `<root>/s3/<bucket>/<key>`
 *   (the endpoint is ignored: both forms name the same object).
 * Other schemes fail with a StorageError naming the URL and the ones served.
 *
 * S3 semantics are kept where a disk differs:
 * - writes are atomic: content goes to a hidden sibling (`.hysds-stac-partial-*`,
 *   never listed) and is renamed into place, so a reader or a crash never sees
 *   half a file, as with an S3 PUT;
 * - `create` is atomic and exclusive, and what it wrote is complete when it
 *   becomes visible (a hard link of a finished temp file, which fails when the
 *   name exists), so a concurrent retry reading the marker never sees it empty;
 * - S3 has no directories: removing an s3-mapped object also removes the
 *   directories it leaves empty, up to (not including) the bucket directory,
 *   so a publish and its undo leave the store as it was. For `file://` only
 *   files are removed (the directories may be the user's), except inside our
 *   own backup trees.
 * - A key that is also a prefix of other keys (`a` and `a/b`) cannot exist on
 *   a disk; writing one fails with a StorageError saying so.
 */
import { Effect, Either, Layer } from "effect"
import { constants, promises as fs, statfsSync } from "node:fs"
import { createHash, randomUUID } from "node:crypto"
import * as path from "node:path"
import type { FileHandle } from "node:fs/promises"
import { Errors, Location, ObjectStore } from "@hysds-stac/core"
import * as SourceFile from "../SourceFile.ts"

export interface Options {
  /** Where s3:// objects live (`<root>/s3/<bucket>/<key>`); usually `<stateDir>/store`. */
  readonly root: string
}

/** Directory name under which `backupUrl` keeps copies during a transaction. */
export const BACKUP_DIR = ".hysds-stac-backup"

/** Prefix of the temp files atomic writes use; never listed. */
const PARTIAL_PREFIX = ".hysds-stac-partial-"

/**
 * The temp files of writes to `target` start with this: the prefix, then a hash
 * of the target's name (the name itself may be 255 bytes, so it cannot be
 * repeated). A SIGKILL mid-write leaves such a file; `discardPartials` finds the
 * ones of a given target by it, without touching other writers' temp files.
 */
const partialStem = (target: string): string =>
  `${PARTIAL_PREFIX}${createHash("sha256").update(path.basename(target)).digest("hex").slice(0, 16)}-`

const STEM_LENGTH = partialStem("x").length

const groupByDir = (targets: ReadonlyArray<Mapped>): Map<string, Array<Mapped>> => {
  const groups = new Map<string, Array<Mapped>>()
  for (const m of targets) {
    const dir = path.dirname(m.path)
    const group = groups.get(dir)
    if (group) group.push(m)
    else groups.set(dir, [m])
  }
  return groups
}

/** A fresh temp path for a write to `target` (exported for tests that plant what a SIGKILL leaves). */
export const partialPath = (target: string): string => path.join(path.dirname(target), `${partialStem(target)}${randomUUID()}`)

const MiB = 1024 * 1024
/** Read size when copying a file into the store. */
const COPY_CHUNK = 1 * MiB
/** Free space kept in reserve by `preflight`: 1% of the filesystem, at most 64 MiB. */
const MAX_MARGIN = 64 * MiB

const SUPPORTED = "LocalStore serves file:///absolute/path and s3://bucket/key (s3:// objects are kept under <root>/s3)"

interface Mapped {
  readonly url: string
  readonly path: string
  /** For s3 URLs: bucket names a bucket and no object. */
  readonly isBucket: boolean
  /** Empty directories are pruned up to (not including) this one; none for user-owned file:// trees. */
  readonly pruneStop?: string
}

/** Location.parse decodes each segment once and refuses `.`, `..` and encoded `/`: a path never climbs. */
const parseLocation = (url: string): Either.Either<Location.Location, string> => Location.parse(url)

/** Maps a URL to its path on disk. */
export const mapUrl = (root: string, url: string): Either.Either<Mapped, Errors.StorageError> => {
  const parsed = parseLocation(url)
  if (Either.isLeft(parsed)) {
    return Either.left(new Errors.StorageError({ message: parsed.left, url, hint: SUPPORTED }))
  }
  const location = parsed.right
  if (location.scheme === "file") {
    const p = path.resolve(location.path)
    const segments = p.split(path.sep)
    const backupAt = segments.indexOf(BACKUP_DIR)
    return Either.right({
      url,
      path: p,
      isBucket: false,
      ...(backupAt > 0 ? { pruneStop: segments.slice(0, backupAt + 1).join(path.sep) } : {})
    })
  }
  const keySegments = location.key === "" ? [] : location.key.split("/")
  const bad = [location.bucket, ...keySegments].find((s) => s === "" || s === "." || s === "..")
  if (bad !== undefined) {
    return Either.left(
      new Errors.StorageError({
        message: `"${url}" cannot be kept on a local disk: its key has an empty, "." or ".." segment`,
        url,
        hint: "use keys without '//', '/./' or '/../' with the embedded store"
      })
    )
  }
  const bucketDir = path.join(path.resolve(root), "s3", location.bucket)
  return Either.right({
    url,
    path: path.join(bucketDir, ...keySegments),
    isBucket: keySegments.length === 0,
    pruneStop: bucketDir
  })
}

/** A `/`-separated key or path as URL path segments, each encoded (Location's one representation). */
const encodePath = (p: string): string => p.split("/").map(Location.encodeSegment).join("/")

/**
 * Where `url` is kept while transaction `tx` may roll back.
 * - `s3://[host:port/]bucket/key` → `s3://[host:port/]bucket/.hysds-stac-backup/<tx>/key`:
 *   same bucket, so the copy is server-side and covered by the same credentials.
 * - `file:///first/rest` → `file:///first/.hysds-stac-backup/<tx>/rest`: the first
 *   path segment plays the bucket's part. It is usually the mount (`/data`,
 *   `/mnt/...`), so the copy stays on the same filesystem, and the backup tree
 *   stays out of the product directories that `list` walks.
 */
/** `host:port/bucket` or `bucket`: the bucket encoded as a segment, the authority kept as it is. */
const encodeHead = (head: string): string => {
  const slash = head.indexOf("/")
  return slash < 0 ? Location.encodeSegment(head) : `${head.slice(0, slash)}/${Location.encodeSegment(head.slice(slash + 1))}`
}

export const backupUrl = (url: string, tx: string): string => {
  const parsed = parseLocation(url)
  if (Either.isLeft(parsed)) return `${url}${BACKUP_DIR}-${tx}` // unusable anyway: using it fails with the parse error
  const location = parsed.right
  if (location.scheme === "s3") {
    const head = location.endpoint === undefined ? location.bucket : `${location.endpoint}/${location.bucket}`
    return Location.join(`s3://${encodeHead(head)}/${BACKUP_DIR}/${Location.encodeSegment(tx)}`, encodePath(location.key))
  }
  const [first, ...rest] = location.path.split("/").filter((s) => s !== "")
  if (first === undefined || rest.length === 0) {
    return Location.join(`file:///${BACKUP_DIR}/${Location.encodeSegment(tx)}`, encodePath(first ?? ""))
  }
  return Location.join(`file:///${Location.encodeSegment(first)}/${BACKUP_DIR}/${Location.encodeSegment(tx)}`, encodePath(rest.join("/")))
}

const errno = (e: unknown): string | undefined => {
  const code = (e as { readonly code?: unknown } | null)?.code
  return typeof code === "string" ? code : undefined
}

const hintFor = (code: string | undefined, file: string): string => {
  switch (code) {
    case "ENOSPC":
      return `the disk holding ${file} is full: free space or publish elsewhere`
    case "EDQUOT":
      return `the disk quota for ${file} is exhausted`
    case "EACCES":
    case "EPERM":
      return `no permission for ${file}: check its owner and mode, or the directories above it`
    case "EROFS":
      return `${file} is on a read-only filesystem`
    case "ENOTDIR":
    case "EISDIR":
    case "EEXIST":
      return `on a local disk a key cannot also be the prefix of other keys (a file ${file} and a directory of the same name)`
    case "ENAMETOOLONG":
      return "the key is too long for the local filesystem"
    case "EMFILE":
    case "ENFILE":
      return "too many open files: publish with less parallelism or raise the open-file limit"
    default:
      return `the object is kept at ${file} on the local disk`
  }
}

/** An I/O failure as a StorageError, saying what was being done, where, and what to do. */
const ioError = (action: string, mapped: Mapped, cause: unknown): Errors.StorageError => {
  const code = errno(cause)
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new Errors.StorageError({
    message: `could not ${action} ${mapped.url}: ${code === undefined || detail.startsWith(code) ? detail : `${code} ${detail}`}`,
    url: mapped.url,
    hint: hintFor(code, mapped.path),
    cause
  })
}

const notFound = (mapped: Mapped, what = "no object at"): Errors.StorageError =>
  new Errors.StorageError({
    message: `${what} ${mapped.url}`,
    url: mapped.url,
    missing: true,
    hint: `looked for ${mapped.path} on the local disk`
  })

const humanBytes = (n: number): string => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
  let v = n
  let i = 0
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]} (${n} bytes)`
}

/** Removes the directories `file` leaves empty, up to (not including) `stop`. */
const prune = async (file: string, stop: string): Promise<void> => {
  let dir = path.dirname(file)
  while (dir !== stop && dir.startsWith(stop + path.sep)) {
    try {
      await fs.rmdir(dir)
    } catch {
      return // not empty (or already gone, or raced by a writer): stop here
    }
    dir = path.dirname(dir)
  }
}

/**
 * Writes through a temp sibling renamed into place. A concurrent `remove` may
 * prune the parent directory between our mkdir and our write (ENOENT), hence
 * the few retries.
 */
const writeAtomically = async (target: Mapped, write: (temp: string) => Promise<void>): Promise<void> => {
  try {
    await writeWithRetries(target.path, write)
  } catch (e) {
    // A failed write to an s3-mapped key must not leave the directories it created.
    if (target.pruneStop !== undefined) await prune(target.path, target.pruneStop)
    throw e
  }
}

const writeWithRetries = async (target: string, write: (temp: string) => Promise<void>): Promise<void> => {
  for (let attempt = 1; ; attempt++) {
    const temp = partialPath(target)
    try {
      await fs.mkdir(path.dirname(target), { recursive: true })
      await write(temp)
      await fs.rename(temp, target)
      return
    } catch (e) {
      await fs.rm(temp, { force: true }).catch(() => undefined)
      if (errno(e) !== "ENOENT" || attempt >= 3) throw e
    }
  }
}

/** Hard links are the atomic "create if absent with this content"; some filesystems lack them. */
const LINK_UNSUPPORTED = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"])

const createExclusive = async (target: string, bytes: Uint8Array): Promise<boolean> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await createOnce(target, bytes)
    } catch (e) {
      // As in writeAtomically: a concurrent remove may prune the directory we just made.
      if (errno(e) !== "ENOENT" || attempt >= 3) throw e
    }
  }
}

const createOnce = async (target: string, bytes: Uint8Array): Promise<boolean> => {
  await fs.mkdir(path.dirname(target), { recursive: true })
  const temp = partialPath(target)
  try {
    await fs.writeFile(temp, bytes, { flag: "wx" })
    await fs.link(temp, target)
    return true
  } catch (e) {
    const code = errno(e)
    if (code === "EEXIST") {
      const existing = await fs.lstat(target).catch(() => undefined)
      if (existing?.isDirectory()) throw e // a key/prefix collision, not an existing object
      return false
    }
    if (code === undefined || !LINK_UNSUPPORTED.has(code)) throw e
    // No hard links here: exclusive open. Atomic too, but a reader may see the content being written.
    try {
      await fs.writeFile(target, bytes, { flag: "wx" })
      return true
    } catch (e2) {
      if (errno(e2) === "EEXIST") return false
      throw e2
    }
  } finally {
    await fs.rm(temp, { force: true }).catch(() => undefined)
  }
}

/**
 * Copies exactly `size` bytes of an open source to a new file `temp`. Reads are
 * positioned, so a retry of the write starts from byte 0 of the same descriptor.
 * The size the caller planned with (preflight, progress, the GRQ doc) must be
 * what gets published; an S3 PUT with that Content-Length would fail too.
 */
const copyFromHandle = async (source: FileHandle, temp: string, file: string, url: string, size: number): Promise<void> => {
  const out = await fs.open(temp, "wx")
  try {
    const buffer = Buffer.allocUnsafe(Math.min(Math.max(size, 1), COPY_CHUNK))
    let copied = 0
    for (;;) {
      const { bytesRead } = await source.read(buffer, 0, buffer.length, copied)
      if (bytesRead === 0) break
      await out.write(buffer, 0, bytesRead)
      copied += bytesRead
      if (copied > size) break
    }
    if (copied !== size) throw SourceFile.sizeChanged(file, url, copied, size)
  } finally {
    await out.close()
  }
}

const walk = async (dir: string, rel: string, out: Array<{ readonly rel: string; readonly size: number }>) => {
  let entries
  try {
    entries = await fs.readdir(dir, { withFileTypes: true })
  } catch (e) {
    const code = errno(e)
    if (code === "ENOENT" || code === "ENOTDIR") return
    throw e
  }
  for (const entry of entries) {
    if (entry.name.startsWith(PARTIAL_PREFIX)) continue
    const full = path.join(dir, entry.name)
    const r = rel === "" ? entry.name : `${rel}/${entry.name}`
    if (entry.isDirectory()) {
      await walk(full, r, out)
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      // Symlinks to files count as objects; symlinks to directories are not followed (no cycles).
      const stat = await fs.stat(full).catch(() => undefined)
      if (stat?.isFile()) out.push({ rel: r, size: stat.size })
    }
  }
}

export const make = (options: Options): ObjectStore.ObjectStoreShape => {
  const root = path.resolve(options.root)

  const map = (url: string) => mapUrl(root, url)
  /** Maps a URL that must name an object (not a bucket, not `/`). */
  const mapObject = (url: string): Either.Either<Mapped, Errors.StorageError> =>
    Either.flatMap(map(url), (m) =>
      m.isBucket || m.path === path.parse(m.path).root
        ? Either.left(
            new Errors.StorageError({
              message: `"${url}" names a bucket or a root, not an object`,
              url,
              hint: "give a key after the bucket"
            })
          )
        : Either.right(m)
    )

  /**
   * Runs a file operation to its end even when the fiber is interrupted: a copy
   * still running after its effect was interrupted could land after the rollback
   * removed its target, leaving an orphan. Interruption waits for it instead (the
   * ObjectStore contract: an interrupted operation has settled when it returns).
   */
  const io = <A>(action: string, mapped: Mapped, body: () => Promise<A>): Effect.Effect<A, Errors.StorageError> =>
    Effect.uninterruptible(
      Effect.tryPromise({
        try: body,
        catch: (e) => (e instanceof Errors.StorageError ? e : ioError(action, mapped, e))
      })
    )

  const preflight: ObjectStore.ObjectStoreShape["preflight"] = (location, bytes) =>
    Effect.gen(function* () {
      const mapped = yield* map(location)
      if (!Number.isFinite(bytes) || bytes < 0) {
        return yield* new Errors.StorageError({
          message: `preflight of ${location}: ${bytes} is not a byte count`,
          url: location
        })
      }
      yield* io("check free space at", mapped, async () => {
        // The nearest existing ancestor: nothing below it exists yet, and it is on
        // the filesystem the new directories will be created in.
        let probe = mapped.path
        for (;;) {
          try {
            await fs.stat(probe)
            break
          } catch (e) {
            const parent = path.dirname(probe)
            if (parent === probe || (errno(e) !== "ENOENT" && errno(e) !== "ENOTDIR")) throw e
            probe = parent
          }
        }
        try {
          await fs.access(probe, constants.W_OK)
        } catch (e) {
          throw new Errors.StorageError({
            message: `cannot publish to ${location}: ${probe} is not writable`,
            url: location,
            hint: hintFor(errno(e), probe),
            cause: e
          })
        }
        const stats = statfsSync(probe)
        const free = Number(stats.bavail) * Number(stats.bsize)
        const total = Number(stats.blocks) * Number(stats.bsize)
        const margin = Math.min(MAX_MARGIN, Math.ceil(total * 0.01))
        if (bytes + margin > free) {
          throw new Errors.StorageError({
            message:
              `not enough free space for ${location}: ${humanBytes(bytes)} needed plus a ${humanBytes(margin)} ` +
              `safety margin, but only ${humanBytes(free)} free on the filesystem holding ${probe}`,
            url: location,
            hint: "free space there, or publish to another location (datasets.json publish.location, or the state dir for s3:// in embedded mode)"
          })
        }
      })
    })

  const list: ObjectStore.ObjectStoreShape["list"] = (prefix) =>
    Effect.gen(function* () {
      const mapped = yield* map(prefix)
      const found: Array<{ readonly rel: string; readonly size: number }> = []
      yield* io("list", mapped, () => walk(mapped.path, "", found))
      const base = prefix.replace(/\/+$/, "")
      return found
        .map(({ rel, size }) => ({ url: `${base}/${encodePath(rel)}`, size }))
        .sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0))
    })

  const putFile: ObjectStore.ObjectStoreShape["putFile"] = (url, file, expected) =>
    Effect.gen(function* () {
      const mapped = yield* mapObject(url)
      yield* io("write", mapped, async () => {
        // Opened once, no-follow, checked against the plan: the bytes copied are the
        // descriptor's, so a path swapped for a link after planning publishes nothing.
        const source = await SourceFile.openChecked(file, url, expected)
        try {
          await writeAtomically(mapped, (temp) => copyFromHandle(source, temp, file, url, expected.size))
        } finally {
          await source.close().catch(() => undefined)
        }
      })
    })

  const putBytes: ObjectStore.ObjectStoreShape["putBytes"] = (url, bytes) =>
    Effect.gen(function* () {
      const mapped = yield* mapObject(url)
      yield* io("write", mapped, () => writeAtomically(mapped, (temp) => fs.writeFile(temp, bytes)))
    })

  const create: ObjectStore.ObjectStoreShape["create"] = (url, bytes) =>
    Effect.gen(function* () {
      const mapped = yield* mapObject(url)
      return yield* io("create", mapped, () => createExclusive(mapped.path, bytes))
    })

  const read: ObjectStore.ObjectStoreShape["read"] = (url) =>
    Effect.gen(function* () {
      const mapped = yield* mapObject(url)
      return yield* io("read", mapped, async () => {
        try {
          return new Uint8Array(await fs.readFile(mapped.path))
        } catch (e) {
          const code = errno(e)
          if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") throw notFound(mapped)
          throw e
        }
      })
    })

  const copy: ObjectStore.ObjectStoreShape["copy"] = (from, to) =>
    Effect.gen(function* () {
      const source = yield* mapObject(from)
      const target = yield* mapObject(to)
      yield* io(`copy ${from} to`, target, async () => {
        const stat = await fs.stat(source.path).catch(() => undefined)
        if (!stat?.isFile()) throw notFound(source, "cannot copy: no object at")
        await writeAtomically(target, (temp) => fs.copyFile(source.path, temp))
      })
    })

  /**
   * Unlinks the temp files of writes to `targets` (what a SIGKILL mid-write
   * leaves), then prunes as `remove` does. One directory read per directory, not
   * per target: an undo removes thousands of objects of one product directory.
   */
  const discard = (targets: ReadonlyArray<Mapped>) =>
    Effect.forEach(
      groupByDir(targets),
      ([dir, group]) =>
        io("remove partial writes of", group[0]!, async () => {
          const stems = new Set(group.map((m) => partialStem(m.path)))
          const names = await fs.readdir(dir).catch(() => [] as Array<string>)
          for (const name of names) {
            if (stems.has(name.slice(0, STEM_LENGTH))) {
              await fs.rm(path.join(dir, name), { force: true })
            }
          }
          for (const m of group) if (m.pruneStop !== undefined) await prune(m.path, m.pruneStop)
        }),
      { discard: true }
    )

  const discardPartials: ObjectStore.ObjectStoreShape["discardPartials"] = (urls) =>
    Effect.gen(function* () {
      const mapped: Array<Mapped> = []
      for (const url of urls) mapped.push(yield* mapObject(url))
      yield* discard(mapped)
    })

  const remove: ObjectStore.ObjectStoreShape["remove"] = (urls) =>
    Effect.gen(function* () {
      const mapped: Array<Mapped> = []
      for (const url of urls) mapped.push(yield* mapObject(url))
      for (const m of mapped) {
        yield* io("remove", m, async () => {
          try {
            await fs.unlink(m.path)
          } catch (e) {
            // Gone already, or a directory (which is no object): nothing to remove.
            const code = errno(e)
            if (code !== "ENOENT" && code !== "ENOTDIR" && code !== "EISDIR" && !(code === "EPERM" && (await isDir(m.path)))) {
              throw e
            }
          }
        })
      }
      // An upload cut off by a SIGKILL left a temp file next to its target: those go too.
      yield* discard(mapped)
    })

  // Local files need no credentials; the entry's S3 credentials matter only to a real S3.
  const authorize: ObjectStore.ObjectStoreShape["authorize"] = () => Effect.void

  const probe: ObjectStore.ObjectStoreShape["probe"] = (location) => {
    const url = Location.join(location, `.hysds-stac-probe-${crypto.randomUUID()}`)
    return putBytes(url, new TextEncoder().encode("probe"), "text/plain").pipe(Effect.zipRight(remove([url])))
  }

  return { schemes: SCHEMES, authorize, probe, preflight, list, putFile, putBytes, create, read, copy, remove, discardPartials, backupUrl }
}

const isDir = (p: string) =>
  fs.stat(p).then(
    (s) => s.isDirectory(),
    () => false
  )

/** The ObjectStore served from the local disk; s3:// objects under `root/s3`. */
/** What this store publishes to: `file://` paths, and `s3://` URLs mapped under its root. */
export const SCHEMES: ReadonlyArray<string> = ["file", "s3"]

export const layer = (options: Options): Layer.Layer<ObjectStore.ObjectStore> =>
  Layer.sync(ObjectStore.ObjectStore, () => make(options))
