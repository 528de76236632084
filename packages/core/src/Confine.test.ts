import { describe, expect, test } from "bun:test"
import * as Confine from "./Confine.ts"
import type { EntryInfo } from "./JobTree.ts"

describe("Confine.changesSince: a planned file's stat now against what planning recorded", () => {
  const planned = { size: 4, dev: 7, ino: 100, mtimeMs: Date.UTC(2026, 11, 1) }
  const now = (changes: Partial<EntryInfo> = {}): EntryInfo => ({ type: "File", ...planned, ...changes })

  test("the same file: nothing", () => {
    expect(Confine.changesSince(now(), planned)).toEqual([])
  })

  test("each difference, in words a user can check against the file", () => {
    expect(Confine.changesSince(now({ size: 5, ino: 101, dev: 8, mtimeMs: Date.UTC(2026, 11, 2) }), planned)).toEqual([
      "size 4 → 5 bytes",
      "inode 100 → 101",
      "device 7 → 8",
      "modified at 2026-12-02T00:00:00.000Z, planned at 2026-12-01T00:00:00.000Z"
    ])
  })

  test("no longer a regular file says only that", () => {
    expect(Confine.changesSince(now({ type: "Directory", size: 4096 }), planned)).toEqual(["it is no longer a regular file"])
  })

  test("what planning did not record is not compared", () => {
    expect(Confine.changesSince(now({ ino: 5, mtimeMs: 1 }), { size: 4 })).toEqual([])
  })
})
