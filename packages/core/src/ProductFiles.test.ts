import { BunContext } from "@effect/platform-bun"
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as ProductFiles from "./ProductFiles.ts"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "pf-"))
const run = (dir: string) => Effect.runPromise(ProductFiles.list(dir).pipe(Effect.provide(BunContext.layer)))

describe("ProductFiles.list", () => {
  test("lists nested files sorted with sizes", async () => {
    const d = tmp()
    fs.mkdirSync(path.join(d, "b"))
    fs.writeFileSync(path.join(d, "b", "x.tif"), "12345")
    fs.writeFileSync(path.join(d, "a.json"), "{}")
    const r = await run(d)
    expect(r.problems).toEqual([])
    expect(r.files.map((f) => [f.relPath, f.size])).toEqual([["a.json", 2], ["b/x.tif", 5]])
  })
  test("a directory named with a trailing '/' or a '.' segment lists normalized paths", async () => {
    const d = fs.realpathSync(tmp())
    fs.mkdirSync(path.join(d, "b"))
    fs.writeFileSync(path.join(d, "b", "x.tif"), "12345")
    fs.writeFileSync(path.join(d, "a.json"), "{}")
    for (const named of [`${d}/`, `${d}/.`]) {
      const r = await run(named)
      expect(r.problems).toEqual([])
      expect(r.files.map((f) => [f.relPath, f.absPath])).toEqual([["a.json", path.join(d, "a.json")], ["b/x.tif", path.join(d, "b", "x.tif")]])
    }
  })
  test("rejects a symlink escaping the directory but follows one inside", async () => {
    const d = tmp()
    const outside = tmp()
    fs.writeFileSync(path.join(outside, "secret"), "s")
    fs.writeFileSync(path.join(d, "real"), "r")
    fs.symlinkSync(path.join(outside, "secret"), path.join(d, "escape"))
    fs.symlinkSync(path.join(d, "real"), path.join(d, "inner"))
    const r = await run(d)
    expect(r.files.map((f) => f.relPath)).toEqual(["inner", "real"])
    expect(r.problems).toHaveLength(1)
    expect(r.problems[0]!.message).toContain("outside")
  })
  test("each file's paths and identity: as named, its real path through symlinks inside, and the stat of what it leads to", async () => {
    // A named dir that is itself a link, and a linked file: what is named and what is opened
    // differ, and the store must open the real path. (A linked sub-directory is listed twice, a loop.)
    const real = fs.realpathSync(tmp())
    const named = path.join(fs.realpathSync(tmp()), "job")
    fs.symlinkSync(real, named)
    fs.mkdirSync(path.join(real, "data"))
    fs.writeFileSync(path.join(real, "data", "x.bin"), "123")
    fs.symlinkSync(path.join(real, "data", "x.bin"), path.join(real, "link.bin"))
    const r = await run(named)
    expect(r.problems).toEqual([])
    const stat = fs.statSync(path.join(real, "data", "x.bin"))
    expect(r.files.map((f) => [f.relPath, f.absPath, f.realPath, f.size, f.identity.ino, f.identity.size])).toEqual([
      ["data/x.bin", path.join(named, "data", "x.bin"), path.join(real, "data", "x.bin"), 3, stat.ino, 3],
      ["link.bin", path.join(named, "link.bin"), path.join(real, "data", "x.bin"), 3, stat.ino, 3]
    ])
    // A file named directly is listed as itself, with no relative path.
    const one = await run(path.join(named, "link.bin"))
    expect(one.files.map((f) => [f.relPath, f.absPath, f.realPath])).toEqual([["", path.join(named, "link.bin"), path.join(real, "data", "x.bin")]])
  })
  test("reports a directory loop and a fifo", async () => {
    const d = tmp()
    fs.mkdirSync(path.join(d, "sub", "deeper"), { recursive: true })
    // Back to the listed dir itself, and back to a directory below it.
    fs.symlinkSync(d, path.join(d, "sub", "up"))
    fs.symlinkSync(path.join(d, "sub"), path.join(d, "sub", "deeper", "back"))
    Bun.spawnSync(["mkfifo", path.join(d, "pipe")])
    const r = await run(d)
    expect(r.problems.map((p) => [path.relative(d, p.file), p.message])).toEqual([
      ["pipe", expect.stringContaining("not a regular file")],
      ["sub/deeper/back", "directory symlink loop"],
      ["sub/up", "directory symlink loop"]
    ])
  })
})
