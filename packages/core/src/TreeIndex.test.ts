import { FileSystem } from "@effect/platform"
import { BunContext } from "@effect/platform-bun"
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as JobTree from "./JobTree.ts"
import * as TreeIndex from "./TreeIndex.ts"

/** A tree of `n` small JSON files, and the portable port over it with its batched reads counted. */
const setup = (n: number) => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "tree-index-")))
  const files = Array.from({ length: n }, (_, i) => {
    const file = path.join(root, `f${String(i).padStart(4, "0")}.json`)
    fs.writeFileSync(file, JSON.stringify({ i }))
    return file
  })
  const reads: Array<number> = []
  const counted = Effect.map(FileSystem.FileSystem, (platform): JobTree.JobTreeShape => {
    const port = JobTree.fromFileSystem(platform)
    return { ...port, readTexts: (batch, max) => (reads.push(batch.length), port.readTexts(batch, max)) }
  })
  return { root, files, reads, counted }
}

const textOf = (read: JobTree.TextRead) => (read._tag === "Text" ? read.text : read.reason)

describe("TreeIndex reads", () => {
  test("files said to come next are read READ_BATCH at a time, never one call per file", async () => {
    const n = TreeIndex.READ_BATCH * 2 + 7
    const { root, files, reads, counted } = setup(n)
    const texts = await Effect.runPromise(
      Effect.gen(function* () {
        const index = yield* TreeIndex.scan(yield* counted, root)
        yield* index.expect(files)
        const out: Array<string> = []
        for (const f of files) out.push(textOf(yield* index.readText(f, 1000)))
        return out
      }).pipe(Effect.provide(BunContext.layer))
    )
    expect(texts).toEqual(files.map((_, i) => JSON.stringify({ i })))
    const B = TreeIndex.READ_BATCH
    expect(reads).toEqual([B, B, n - 2 * B])
  })

  test("a file asked out of turn brings the batch from it on; the files before it still come in one call", async () => {
    const n = TreeIndex.READ_BATCH + 10
    const { root, files, reads, counted } = setup(n)
    const texts = await Effect.runPromise(
      Effect.gen(function* () {
        const index = yield* TreeIndex.scan(yield* counted, root)
        yield* index.expect(files)
        const out = [textOf(yield* index.readText(files[100]!, 1000))]
        for (const f of files) if (f !== files[100]) out.push(textOf(yield* index.readText(f, 1000)))
        return out
      }).pipe(Effect.provide(BunContext.layer))
    )
    expect(texts).toEqual([100, ...files.map((_, i) => i).filter((i) => i !== 100)].map((i) => JSON.stringify({ i })))
    expect(reads).toEqual([n - 100, 100])
  })

  test("the files said to come are taken from the caller as the reads reach them, not all at once", async () => {
    const B = TreeIndex.READ_BATCH
    const n = B * 6
    const { root, files, reads, counted } = setup(n)
    let taken = 0
    function* said() {
      for (const f of files) {
        taken++
        yield f
      }
    }
    const seen = await Effect.runPromise(
      Effect.gen(function* () {
        const index = yield* TreeIndex.scan(yield* counted, root)
        yield* index.expect(said())
        const takenBefore = taken
        const out: Array<{ readonly i: number; readonly taken: number; readonly text: string }> = []
        for (let i = 0; i < n; i++) out.push({ i, text: textOf(yield* index.readText(files[i]!, 1000)), taken })
        return { takenBefore, out }
      }).pipe(Effect.provide(BunContext.layer))
    )
    expect(seen.takenBefore).toBe(0)
    for (const { i, text, taken } of seen.out) {
      expect(text).toBe(JSON.stringify({ i }))
      // Never more than the batch being read and one more taken ahead.
      expect({ i, taken, ok: taken <= Math.min(n, (Math.floor(i / B) + 1) * B + 1) }).toEqual({ i, taken, ok: true })
    }
    expect(taken).toBe(n)
    expect(reads).toEqual(Array.from({ length: 6 }, () => B))
  })

  test("files said to come but never read do not stop the batches after them", async () => {
    const B = TreeIndex.READ_BATCH
    const n = B * 4
    const { root, files, reads, counted } = setup(n)
    // Every third file is passed over, as a link the walk does not follow would be.
    const wanted = files.filter((_, i) => i % 3 !== 0)
    const texts = await Effect.runPromise(
      Effect.gen(function* () {
        const index = yield* TreeIndex.scan(yield* counted, root)
        yield* index.expect(files)
        const out: Array<string> = []
        for (const f of wanted) out.push(textOf(yield* index.readText(f, 1000)))
        return out
      }).pipe(Effect.provide(BunContext.layer))
    )
    expect(texts).toEqual(files.map((_, i) => i).filter((i) => i % 3 !== 0).map((i) => JSON.stringify({ i })))
    expect(reads.length).toBeLessThanOrEqual(5)
    expect(reads.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(n)
  })

  test("a file read again after its batch, or never said to come, is read from the port then", async () => {
    const { root, files, reads, counted } = setup(3)
    const texts = await Effect.runPromise(
      Effect.gen(function* () {
        const index = yield* TreeIndex.scan(yield* counted, root)
        yield* index.expect(files.slice(0, 2))
        const first = textOf(yield* index.readText(files[0]!, 1000))
        const again = textOf(yield* index.readText(files[0]!, 1000))
        const unannounced = textOf(yield* index.readText(files[2]!, 1000))
        const second = textOf(yield* index.readText(files[1]!, 1000))
        return [first, again, unannounced, second]
      }).pipe(Effect.provide(BunContext.layer))
    )
    expect(texts).toEqual([{ i: 0 }, { i: 0 }, { i: 2 }, { i: 1 }].map((j) => JSON.stringify(j)))
    // files 0 and 1 in one call; file 0 again alone; file 2 alone; file 1 from the first call's batch.
    expect(reads).toEqual([2, 1, 1])
  })
})

/** A job tree for the answers below: a/b/item.json, a link to a/b, a file link, and the portable port over it. */
const linkedTree = () => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "tree-index-links-")))
  fs.mkdirSync(path.join(root, "a", "b"), { recursive: true })
  fs.writeFileSync(path.join(root, "a", "b", "item.json"), "{}")
  fs.symlinkSync(path.join(root, "a", "b"), path.join(root, "to-b"))
  fs.symlinkSync(path.join(root, "a", "b", "item.json"), path.join(root, "to-item"))
  return root
}
/** Runs `f` with the portable port over the real file system. */
const withPort = <A>(f: (port: JobTree.JobTreeShape) => Effect.Effect<A, never, FileSystem.FileSystem>) =>
  Effect.runPromise(Effect.flatMap(Effect.map(FileSystem.FileSystem, JobTree.fromFileSystem), f).pipe(Effect.provide(BunContext.layer)))
const asked = ["to-b/item.json", "to-b", "to-item", "a/b/item.json", "a/b/missing", "a/b/item.json/x", "a/../a/b"]

describe("TreeIndex answers", () => {
  test("a directory only a link reaches (one on the way could not be listed) is listed through the link, and answers as the file system does", async () => {
    const root = linkedTree()
    const listed: Array<string> = []
    const answers = await withPort((port) =>
      Effect.gen(function* () {
        // `a` cannot be listed (as a directory readable by nobody but searchable would be).
        const index = yield* TreeIndex.scan({ ...port, list: (dir) => (listed.push(dir), dir === path.join(root, "a") ? Effect.succeed(undefined) : port.list(dir)) }, root)
        const out: Array<unknown> = []
        for (const p of asked.map((p) => path.join(root, p))) out.push([yield* index.resolve(p), yield* port.resolve(p)])
        return { out, slot: index.slot(path.join(root, "a", "b", "item.json")), inB: (yield* index.list(path.join(root, "a", "b")))?.names }
      })
    )
    expect(listed.sort()).toEqual([root, path.join(root, "a"), path.join(root, "a", "b")])
    for (const [fromIndex, fromFs] of answers.out as Array<[unknown, unknown]>) expect(fromIndex).toEqual(fromFs)
    expect(answers.slot).toBeGreaterThanOrEqual(0)
    expect(answers.inB).toEqual(["item.json"])
  })

  test("each file has its own slot; a path the index does not hold has none", async () => {
    const root = linkedTree()
    const slots = await withPort((port) =>
      Effect.gen(function* () {
        const index = yield* TreeIndex.scan(port, root)
        const of = (p: string) => index.slot(path.join(root, p))
        return { item: of("a/b/item.json"), b: of("a/b"), link: of("to-b"), missing: of("a/b/none"), viaLink: of("to-b/item.json"), outside: index.slot("/etc/hostname"), size: index.size() }
      })
    )
    const numbered = [slots.item, slots.b, slots.link]
    expect(new Set(numbered).size).toBe(3)
    for (const s of numbered) expect(s >= 0 && s < slots.size).toBe(true)
    // Not a real path: a link on the way.
    expect([slots.missing, slots.viaLink, slots.outside]).toEqual([-1, -1, -1])
  })

  test("once released, the index answers nothing itself and every question gets the file system's answer", async () => {
    const root = linkedTree()
    const calls: Array<string> = []
    const answers = await withPort((port) =>
      Effect.gen(function* () {
        const index = yield* TreeIndex.scan({ ...port, resolve: (p) => (calls.push(p), port.resolve(p)) }, root)
        const before = index.known(path.join(root, "to-b", "item.json"))
        const listing = (yield* index.list(path.join(root, "a", "b")))!
        index.release()
        // A listing given before still answers, from the entries it was made of.
        const listedBefore = { names: listing.names, info: listing.infoAt(0), fromFs: (yield* port.resolve(path.join(root, "a", "b", "item.json")))?.info }
        calls.length = 0
        const out: Array<unknown> = []
        for (const p of asked.map((p) => path.join(root, p))) out.push([index.known(p), yield* index.resolve(p), yield* port.resolve(p)])
        return { before, listedBefore, out, slot: index.slot(path.join(root, "a", "b", "item.json")), size: index.size(), listed: (yield* index.list(path.join(root, "a", "b")))?.names }
      })
    )
    expect(answers.before).toMatchObject({ real: path.join(root, "a", "b", "item.json") })
    expect(answers.listedBefore.names).toEqual(["item.json"])
    expect(answers.listedBefore.info).toEqual(answers.listedBefore.fromFs!)
    for (const [known, resolved, fromFs] of answers.out as Array<[unknown, unknown, unknown]>) {
      expect(known).toBe(TreeIndex.Unknown)
      expect(resolved).toEqual(fromFs)
    }
    expect(calls.length).toBe(asked.length)
    expect([answers.slot, answers.size]).toEqual([-1, 0])
    expect(answers.listed).toEqual(["item.json"])
  })
})

describe("TreeIndex.isChildOf", () => {
  test("answers as comparing with childOf's string would, under / and below it", () => {
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      ["/job/a/b.json", "/job", "a/b.json"],
      ["/job/a/b.json", "/job", "a/b.jso"],
      ["/jobx/a/b.json", "/job", "a/b.json"],
      ["/job-a/b.json", "/job", "a/b.json"],
      ["/a/b.json", "/", "a/b.json"],
      ["//a/b.json", "/", "a/b.json"],
      ["/job/x", "/job", "y"],
      ["/job/", "/job", ""]
    ]
    for (const [path, dir, rel] of cases) expect([path, dir, rel, TreeIndex.isChildOf(path, dir, rel)]).toEqual([path, dir, rel, path === TreeIndex.childOf(dir, rel)])
  })
})
