import { describe, expect, test } from "bun:test"
import type { DirEntry } from "./JobTree.ts"
import { TreeEntries } from "./TreeEntries.ts"

const file = (name: string, size: number, extra: { ino?: number; mtimeMs?: number } = {}): DirEntry => ({ name, info: { type: "File", size, dev: 7, ...extra } })
const dir = (name: string): DirEntry => ({ name, info: { type: "Directory", size: 4096, dev: 7, ino: 1, mtimeMs: 5 } })

describe("TreeEntries", () => {
  test("a directory's entries come back sorted, each found by name with the stat it was given", () => {
    const entries = new TreeEntries()
    const root = entries.addDir()
    const queued: Array<[string, number]> = []
    const listed = [file("b.json", 10, { ino: 3, mtimeMs: 1700000000123 }), dir("a"), file("Z", 0), { name: "link", info: { type: "SymbolicLink", size: 0, dev: 7 } } satisfies DirEntry]
    entries.fill(root, listed, (name, child) => queued.push([name, child]))
    expect(entries.namesOf(root).names).toEqual(["Z", "a", "b.json", "link"])
    expect(queued).toEqual([["a", 1]])
    for (const e of listed) expect(entries.info(entries.find(root, e.name))).toEqual(e.info)
    // No ino or mtime in the stat: none made up in the answer.
    expect(Object.keys(entries.info(entries.find(root, "Z")))).toEqual(["type", "size", "dev"])
    expect(entries.find(root, "missing")).toBe(-1)
    expect(entries.child(entries.find(root, "a"))).toBe(1)
    expect(entries.child(entries.find(root, "b.json"))).toBe(-1)
    expect(entries.isListed(1)).toBe(false)
    entries.unreadable(1)
    expect(entries.isUnreadable(1)).toBe(true)
  })

  test("many directories and entries: every answer holds after the arrays grew and were trimmed", () => {
    const entries = new TreeEntries()
    const top = entries.addDir()
    const n = 3000
    const dirs = new Map<string, number>()
    entries.fill(top, Array.from({ length: n }, (_, i) => dir(`d${i}`)), (name, child) => dirs.set(name, child))
    for (const [name, d] of dirs) entries.fill(d, [file(`f${name.slice(1)}`, Number(name.slice(1)), { ino: Number(name.slice(1)) })], () => {})
    entries.trim()
    expect(entries.size).toBe(2 * n)
    for (let i = 0; i < n; i += 97) {
      const d = entries.child(entries.find(top, `d${i}`))
      expect(entries.info(entries.find(d, `f${i}`))).toEqual({ type: "File", size: i, dev: 7, ino: i })
    }
  })
})
