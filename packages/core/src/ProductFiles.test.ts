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
  test("reports a directory loop and a fifo", async () => {
    const d = tmp()
    fs.mkdirSync(path.join(d, "sub"))
    fs.symlinkSync(d, path.join(d, "sub", "up"))
    Bun.spawnSync(["mkfifo", path.join(d, "pipe")])
    const r = await run(d)
    const messages = r.problems.map((p) => p.message).join("\n")
    expect(messages).toContain("loop")
    expect(messages).toContain("not a regular file")
  })
})
