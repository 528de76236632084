/**
 * Opening a job's file for publishing, for every ObjectStore adapter. Planning
 * recorded the file's identity (size, inode, device, mtime) from the stat of
 * its real path; between planning and copying the job (untrusted code) could
 * swap the file for a symlink to anything on the machine, or rewrite it. So the
 * path is opened ONCE, without following a final symlink (O_NOFOLLOW), the
 * descriptor is fstat'ed and compared with the plan, and the bytes published
 * are read from that descriptor only, never from the path again. A swapped
 * directory higher up is followed by open, but then lands on another inode and
 * is refused the same way.
 */
import { closeSync, constants, fstatSync, openSync, promises as fs, readSync } from "node:fs"
import type { FileHandle } from "node:fs/promises"
import { Confine, Errors, type ObjectStore } from "@hysds-stac/core"
import * as NodeJobTree from "./local/NodeJobTree.ts"

const errno = (e: unknown): string | undefined => {
  const code = (e as { readonly code?: unknown } | null)?.code
  return typeof code === "string" ? code : undefined
}

const changed = (file: string, url: string, detail: string, cause?: unknown) =>
  new Errors.StorageError({
    message: `cannot publish ${file} to ${url}: ${file} changed after planning (${detail}); nothing of it was published`,
    url,
    hint: "something changed the job dir while it was being ingested; ingest again once the job's outputs are final",
    ...(cause !== undefined ? { cause } : {})
  })

/** The identity of `file` as planning records it (for tests and tools; the core takes it from its own stat). */
export const identityOf = async (file: string): Promise<ObjectStore.FileIdentity> =>
  Confine.identityOfEntry(NodeJobTree.infoOf(await fs.stat(file)))

/**
 * Opens `file` no-follow and checks it is still the planned file; the caller
 * reads from the returned handle only and closes it. Fails with a StorageError
 * naming the file and what changed.
 */
export const openChecked = async (file: string, url: string, expected: ObjectStore.FileIdentity): Promise<FileHandle> => {
  let handle: FileHandle
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (e) {
    throw openFailure(file, url, e)
  }
  try {
    const diff = Confine.changesSince(NodeJobTree.infoOf(await handle.stat()), expected)
    if (diff.length > 0) throw changed(file, url, diff.join(", "))
    return handle
  } catch (e) {
    await handle.close().catch(() => undefined)
    throw e
  }
}

const openFailure = (file: string, url: string, e: unknown): Errors.StorageError => {
  const code = errno(e)
  if (code === "ELOOP" || code === "EMLINK") return changed(file, url, "it is now a symbolic link", e)
  if (code === "ENOENT" || code === "ENOTDIR") return changed(file, url, "it is gone", e)
  return new Errors.StorageError({
    message: `cannot publish ${file} to ${url}: ${file} cannot be opened (${code ?? String(e)})`,
    url,
    hint: "check the file's permissions",
    cause: e
  })
}

/**
 * All of a small file's bytes, checked as `openChecked` checks it, read at
 * once and synchronously. Why: for the thousands of small files of a large
 * catalog, an open, a stat, two reads and a close each through the thread pool
 * cost more CPU than the request that sends them; a synchronous read of a
 * small file takes microseconds. Opened non-blocking, so a fifo swapped in
 * cannot hold the event loop (the check refuses it). Exactly `size` bytes, or
 * the error a file rewritten in place gives: one byte more is asked for, so
 * growth is seen too.
 */
export const readChecked = (file: string, url: string, expected: ObjectStore.FileIdentity): Buffer => {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (e) {
    throw openFailure(file, url, e)
  }
  try {
    const diff = Confine.changesSince(NodeJobTree.infoOf(fstatSync(fd)), expected)
    if (diff.length > 0) throw changed(file, url, diff.join(", "))
    const size = expected.size
    const buffer = Buffer.allocUnsafe(size + 1)
    let seen = 0
    for (;;) {
      const bytesRead = readSync(fd, buffer, seen, buffer.length - seen, seen)
      if (bytesRead === 0) break
      seen += bytesRead
      if (seen > size) throw sizeChanged(file, url, seen, size)
    }
    if (seen !== size) throw sizeChanged(file, url, seen, size)
    return buffer.subarray(0, size)
  } finally {
    closeSync(fd)
  }
}

/** The error for a descriptor that gave other than `expected` bytes while being read (rewritten in place). */
export const sizeChanged = (file: string, url: string, seen: number, expected: number) =>
  changed(file, url, `${seen} bytes read, ${expected} planned`)
