import { describe, expect, test } from "bun:test"
import { execFileSync } from "node:child_process"
import { mkdtempSync, symlinkSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as SourceFile from "./SourceFile.ts"

/** A small file is published from one read of its checked descriptor: exactly the planned bytes, or an error naming what changed. */
describe("readChecked", () => {
  const dir = () => mkdtempSync(join(tmpdir(), "hysds-stac-sourcefile-"))
  const file = (content: string) => {
    const path = join(dir(), "data.bin")
    writeFileSync(path, content)
    return path
  }
  const URL = "s3://bucket/data.bin"
  const read = (path: string, expected: Awaited<ReturnType<typeof SourceFile.identityOf>>) => SourceFile.readChecked(path, URL, expected)

  test("gives exactly the planned bytes", async () => {
    const path = file("planned bytes")
    expect(read(path, await SourceFile.identityOf(path)).toString()).toBe("planned bytes")
    const empty = file("")
    expect(read(empty, await SourceFile.identityOf(empty)).length).toBe(0)
  })

  test("refuses a file that grew or shrank since it was planned", async () => {
    const grown = file("planned bytes and more")
    const grownAsPlanned = { ...(await SourceFile.identityOf(grown)), size: 13 }
    expect(() => read(grown, grownAsPlanned)).toThrow("changed after planning (size 13 → 22 bytes)")
    const shrunk = file("planned")
    const shrunkAsPlanned = { ...(await SourceFile.identityOf(shrunk)), size: 13 }
    expect(() => read(shrunk, shrunkAsPlanned)).toThrow("changed after planning (size 13 → 7 bytes)")
  })

  test("refuses a file rewritten (another mtime) or replaced (another inode)", async () => {
    const path = file("planned bytes")
    const planned = await SourceFile.identityOf(path)
    utimesSync(path, new Date(2001, 1, 1), new Date(2001, 1, 1))
    expect(() => read(path, planned)).toThrow("changed after planning")
    const other = file("planned bytes")
    expect(() => read(other, planned)).toThrow("changed after planning")
  })

  test("does not follow a symlink swapped in, and says it is gone when it is", async () => {
    const path = file("planned bytes")
    const planned = await SourceFile.identityOf(path)
    const link = join(dir(), "link.bin")
    symlinkSync(path, link)
    expect(() => read(link, planned)).toThrow("it is now a symbolic link")
    expect(() => read(join(dir(), "missing.bin"), planned)).toThrow("it is gone")
  })

  test("a fifo swapped in is refused at once, not waited on", async () => {
    const planned = await SourceFile.identityOf(file("planned bytes"))
    const fifo = join(dir(), "fifo.bin")
    execFileSync("mkfifo", [fifo])
    // Opened blocking, this read would wait for a writer forever (and hold the event loop).
    expect(() => read(fifo, planned)).toThrow("changed after planning")
  })
})
