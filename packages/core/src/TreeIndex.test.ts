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
