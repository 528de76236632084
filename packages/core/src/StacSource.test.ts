import { describe, expect, test } from "bun:test"
import { FileSystem } from "@effect/platform"
import { BunContext } from "@effect/platform-bun"
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as JobTree from "./JobTree.ts"
import * as StacSource from "./StacSource.ts"

/**
 * The publish reads each planned document again, many at a time: through the
 * JobTree port in one call when one is provided, one by one through the
 * platform FileSystem otherwise. Either way a document is published only while
 * its file is the one planning read.
 */
describe("StacSource.readMany", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hysds-stac-source-"))
  const item = (id: string): StacSource.PlannedItem => {
    const file = path.join(dir, `${id}.json`)
    fs.writeFileSync(file, JSON.stringify({ type: "Feature", stac_version: "1.1.0", id, collection: "c", links: [], assets: {} }))
    const st = fs.statSync(file)
    return { type: "Feature", id, collection: "c", relPath: `${id}.json`, path: file, identity: { size: st.size, dev: st.dev, ino: st.ino, mtimeMs: Math.trunc(st.mtimeMs) } }
  }

  const ways = {
    "through the JobTree port": <A, E>(e: Effect.Effect<A, E, FileSystem.FileSystem>) =>
      Effect.flatMap(FileSystem.FileSystem, (fs) => Effect.provideService(e, JobTree.JobTree, JobTree.fromFileSystem(fs))),
    "through the platform FileSystem": <A, E>(e: Effect.Effect<A, E, FileSystem.FileSystem>) => e
  }

  for (const [way, provide] of Object.entries(ways)) {
    const readMany = (docs: ReadonlyArray<StacSource.StacDocument>) =>
      Effect.runPromise(provide(StacSource.readMany(docs, 4)).pipe(Effect.either, Effect.provide(BunContext.layer)))

    test(`${way}: the documents, in order`, async () => {
      const read = await readMany([item("a"), item("b")])
      expect(Either.getOrThrow(read).map((j) => j.id)).toEqual(["a", "b"])
    })

    test(`${way}: a file rewritten since planning fails the read, naming it`, async () => {
      const planned = item("c")
      fs.writeFileSync(planned.path, JSON.stringify({ type: "Feature", stac_version: "1.1.0", id: "c", collection: "c", links: [], assets: { x: { href: "/etc/passwd" } } }))
      const read = await readMany([item("d"), planned])
      expect(Either.isLeft(read)).toBe(true)
      if (Either.isLeft(read)) expect(read.left.message).toContain(`${planned.path}: it changed after planning (size`)
    })

    test(`${way}: a file swapped for a symlink since planning is not read through it`, async () => {
      const planned = item("e")
      const other = item("f")
      fs.rmSync(planned.path)
      fs.symlinkSync(other.path, planned.path)
      const read = await readMany([planned])
      expect(Either.isLeft(read)).toBe(true)
      if (Either.isLeft(read)) expect(read.left.message).toContain(`${planned.path}: it changed after planning`)
    })
  }
})

describe("StacSource.jsonBytes", () => {
  test("prints a large document straight to bytes, the same bytes as a small one gets", () => {
    const json = { type: "Collection", id: "c", title: "é 🙂", links: Array.from({ length: 3 }, (_, i) => ({ rel: "item", href: `./i${i}.json` })) }
    const small = StacSource.jsonBytes(json)
    expect(new TextDecoder().decode(small)).toBe(JSON.stringify(json, null, 2) + "\n")
    expect(Buffer.from(StacSource.jsonBytes(json, 64 << 20)).equals(Buffer.from(small))).toBe(true)
  })
})
