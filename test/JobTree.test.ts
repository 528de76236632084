import { BunContext } from "@effect/platform-bun"
import { FileSystem } from "@effect/platform"
import { EventLoop, JobTree, TreeIndex } from "@hysds-stac/core"
import { afterAll, describe, expect, test } from "bun:test"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeJobTree } from "@hysds-stac/adapters"

const temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "hysds-stac-jobtree-")))
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }))

/** A job with every kind of entry planning meets: nested files, links in and out, broken and looping links, a fifo. */
const job = path.join(temp, "job")
const outside = path.join(temp, "outside")
fs.mkdirSync(path.join(job, "a", "b"), { recursive: true })
fs.mkdirSync(outside)
fs.writeFileSync(path.join(job, "a", "b", "item.json"), '{"id":"x"}')
fs.writeFileSync(path.join(job, "a", "big.json"), "x".repeat(100))
fs.writeFileSync(path.join(outside, "secret"), "s")
fs.symlinkSync(path.join(job, "a", "b", "item.json"), path.join(job, "a", "inner-link"))
fs.symlinkSync("b", path.join(job, "a", "dir-link"))
fs.symlinkSync(outside, path.join(job, "out"))
fs.symlinkSync(path.join(job, "nowhere"), path.join(job, "broken"))
fs.symlinkSync(path.join(job, "loop"), path.join(job, "loop"))
Bun.spawnSync(["mkfifo", path.join(job, "pipe")])

const node = NodeJobTree.make()
const portable = Effect.runSync(Effect.map(FileSystem.FileSystem, JobTree.fromFileSystem).pipe(Effect.provide(BunContext.layer)))
const run = <A>(e: Effect.Effect<A>) => Effect.runPromise(e)

const listing = async (port: JobTree.JobTreeShape, dir: string) =>
  ((await run(port.list(dir))) ?? []).map((e) => [e.name, e.info.type, e.info.type === "File" ? e.info.size : 0] as const).sort()

describe("NodeJobTree (core's JobTree port over node:fs)", () => {
  test("lists each entry's own kind and size, links not followed, as the portable port does", async () => {
    for (const dir of [job, path.join(job, "a"), path.join(job, "a", "b")]) {
      expect(await listing(node, dir)).toEqual(await listing(portable, dir))
    }
    expect(await listing(node, job)).toEqual([
      ["a", "Directory", 0],
      ["broken", "SymbolicLink", 0],
      ["loop", "SymbolicLink", 0],
      ["out", "SymbolicLink", 0],
      ["pipe", "FIFO", 0]
    ])
    expect(await run(node.list(path.join(job, "missing")))).toBeUndefined()
  })

  test("a large directory is listed whole, with turns of the event loop while it is (no turn for a small one)", async () => {
    const big = path.join(temp, "big-dir")
    fs.mkdirSync(big)
    const n = 2000
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(big, `f${i}`), "x".repeat(i % 7))
    fs.symlinkSync("f1", path.join(big, "link"))
    // A tick of the loop is counted only while a listing runs: it can come only from a turn given within it.
    const ticksDuring = async (dir: string) => {
      let ticks = 0
      const timer = setInterval(() => ticks++, 0)
      await new Promise((resolve) => setTimeout(resolve, 5))
      const before = ticks
      const listed = await run(Effect.provideService(node.list(dir), EventLoop.Interval, 0))
      const during = ticks - before
      clearInterval(timer)
      return { listed, during }
    }
    const large = await ticksDuring(big)
    expect(large.listed?.length).toBe(n + 1)
    expect(await listing(node, big)).toEqual(await listing(portable, big))
    expect(large.during).toBeGreaterThanOrEqual(2)
    const small = await ticksDuring(path.join(job, "a"))
    expect(small.listed?.length).toBe(4)
    expect(small.during).toBe(0)
  })

  test("resolves real paths and identities as realpath and stat do; broken links and loops resolve to nothing", async () => {
    for (const p of ["a/inner-link", "a/dir-link", "a/dir-link/item.json", "out", "out/secret", "broken", "loop", "pipe", "a/b/item.json"].map((p) => path.join(job, p))) {
      expect(await run(node.resolve(p))).toEqual(await run(portable.resolve(p)))
    }
    const st = fs.statSync(path.join(job, "a", "b", "item.json"))
    expect(await run(node.resolve(path.join(job, "a", "inner-link")))).toEqual({
      real: path.join(job, "a", "b", "item.json"),
      info: { type: "File", size: st.size, dev: st.dev, ino: st.ino, mtimeMs: Math.trunc(st.mtimeMs) }
    })
    expect(await run(node.resolve(path.join(job, "out", "secret")))).toMatchObject({ real: path.join(outside, "secret") })
    expect(await run(node.resolve(path.join(job, "broken")))).toBeUndefined()
    expect(await run(node.resolve(path.join(job, "loop")))).toBeUndefined()
  })

  test("reads regular files only: never through a symlink, never a fifo (it would block), never past the limit", async () => {
    const files = ["a/b/item.json", "a/inner-link", "pipe", "a/big.json", "missing.json"].map((p) => path.join(job, p))
    const read = await run(node.readTexts(files, 50))
    const st = fs.statSync(files[0]!)
    // With what was read: its descriptor's stat and the bytes, for a caller checking it is still the planned file.
    const item = { type: "File" as const, size: 10, dev: st.dev, ino: st.ino, mtimeMs: Math.trunc(st.mtimeMs) }
    expect(read).toEqual([
      { _tag: "Text", text: '{"id":"x"}', info: item, bytes: 10 },
      { _tag: "Failed", reason: "NotAFile" },
      { _tag: "Failed", reason: "NotAFile" },
      { _tag: "Failed", reason: "TooLarge", size: 100 },
      { _tag: "Failed", reason: "Missing" }
    ])
    expect((await run(portable.readTexts(files, 50))).map((r) => r._tag === "Text" ? r.text : r.reason)).toEqual(["{\"id\":\"x\"}", "NotAFile", "NotAFile", "TooLarge", "Missing"])
  })

  test("reads each file of a batch whole and as itself, whatever the sizes before it", async () => {
    // Small files share one buffer: a longer file before a shorter one must not show through it,
    // and a file larger than the buffer, or than any shared buffer, must come whole.
    const dir = path.join(temp, "sizes")
    fs.mkdirSync(dir)
    // Large files are read another way; one of them not UTF-8 (its bytes are counted as read, not as decoded).
    const notUtf8 = Buffer.concat([Buffer.from("a".repeat(2 << 20)), Buffer.from([0xff, 0xfe, 0x80])])
    const contents = ["é".repeat(40_000), "short", "", "ü€".repeat(30_000), "x".repeat(3 << 20), "{}", "z".repeat(70_000), notUtf8, "end"]
    const files = contents.map((c, i) => {
      const file = path.join(dir, `${i}.json`)
      fs.writeFileSync(file, c)
      return file
    })
    const read = await run(node.readTexts(files, 4 << 20))
    expect(read.map((r) => (r._tag === "Text" ? [r.text, r.bytes] : r.reason))).toEqual(
      contents.map((c) => (typeof c === "string" ? [c, Buffer.byteLength(c)] : [c.toString("utf8"), c.length]))
    )
    // A file longer than its stat said (one growing as it is read) is read to its end: /proc's files
    // all say 0 bytes, and this one is megabytes, longer than any buffer made ready for it.
    const proc = "/proc/kallsyms"
    expect(fs.statSync(proc).size).toBe(0)
    const whole = fs.readFileSync(proc, "utf8")
    expect(whole.length).toBeGreaterThan(2 << 20)
    expect(await run(node.readTexts([proc], 64 << 20))).toMatchObject([{ _tag: "Text", text: whole, bytes: whole.length }])
  })

  test("an index over it never enters a link out, and answers as the file system does", async () => {
    const listed: Array<string> = []
    const index = await run(TreeIndex.scan({ ...node, list: (dir) => (listed.push(dir), node.list(dir)) }, job))
    expect(listed.sort()).toEqual([job, path.join(job, "a"), path.join(job, "a", "b")])
    // The outside dir was not walked: asking about it goes to the file system, with the same answer.
    expect(await run(index.resolve(path.join(job, "out", "secret")))).toEqual(await run(node.resolve(path.join(job, "out", "secret"))))
    const out = await run(index.list(outside))
    expect(out?.names).toEqual(["secret"])
    expect(out?.infoAt(0)).toMatchObject({ type: "File", size: 1 })
    for (const p of ["a/inner-link", "a/dir-link/item.json", "a/dir-link", "broken", "loop", "pipe", "nothing", "a/b/item.json/x"].map((p) => path.join(job, p))) {
      expect({ p, r: await run(index.resolve(p)) }).toEqual({ p, r: await run(node.resolve(p)) })
    }
    await run(index.expect([path.join(job, "a", "b", "item.json"), path.join(job, "a", "inner-link")]))
    expect(await run(index.readText(path.join(job, "a", "b", "item.json"), 1000))).toMatchObject({ _tag: "Text", text: '{"id":"x"}', bytes: 10 })
  })
})
