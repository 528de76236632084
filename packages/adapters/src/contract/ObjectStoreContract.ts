/**
 * The behaviour every ObjectStore adapter must have, as `bun:test` blocks, so
 * the embedded store and the S3 adapters are held to one definition of the
 * port instead of each to its own tests.
 *
 * Safe against a shared real server: everything a test writes lives under the
 * fresh prefix `baseUrl()` gives it, and is removed at the end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, type Layer, ManagedRuntime } from "effect"
import { mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { randomUUID } from "node:crypto"
import { ObjectStore } from "@hysds-stac/core"
import * as SourceFile from "../SourceFile.ts"

const text = (s: string) => new TextEncoder().encode(s)
const str = (b: Uint8Array) => new TextDecoder().decode(b)

export const objectStoreContract = (
  name: string,
  layer: () => Layer.Layer<ObjectStore.ObjectStore, unknown>,
  /** A fresh, unique prefix location for each call (each test). */
  baseUrl: () => string
): void => {
  describe(`ObjectStore contract: ${name}`, () => {
    let runtime: ManagedRuntime.ManagedRuntime<ObjectStore.ObjectStore, unknown>
    let scratch: string
    const written: Array<string> = []

    beforeAll(() => {
      runtime = ManagedRuntime.make(layer())
      scratch = mkdtempSync(path.join(tmpdir(), "hysds-stac-contract-"))
    })
    afterAll(async () => {
      await run((s) => s.remove(written)).catch(() => undefined)
      await runtime.dispose()
      rmSync(scratch, { recursive: true, force: true })
    })

    const run = <A, E>(f: (store: ObjectStore.ObjectStoreShape) => Effect.Effect<A, E>): Promise<A> =>
      runtime.runPromise(Effect.flatMap(ObjectStore.ObjectStore, f))
    const failure = <A, E>(f: (store: ObjectStore.ObjectStoreShape) => Effect.Effect<A, E>): Promise<E> =>
      runtime.runPromise(Effect.flip(Effect.flatMap(ObjectStore.ObjectStore, f)))
    const fresh = () => baseUrl().replace(/\/+$/, "")
    const track = (...urls: Array<string>) => {
      written.push(...urls)
      return urls
    }
    const localFile = (content: string) => {
      const file = path.join(scratch, randomUUID())
      writeFileSync(file, content)
      return file
    }

    test("putBytes then read returns the bytes; list shows the object and its size", async () => {
      const [url] = track(`${fresh()}/a.json`)
      await run((s) => s.putBytes(url!, text('{"a":1}'), "application/json"))
      expect(str(await run((s) => s.read(url!)))).toBe('{"a":1}')
      const base = url!.slice(0, url!.lastIndexOf("/"))
      expect(await run((s) => s.list(base))).toEqual([{ url: url!, size: 7 }])
    })

    test("putFile streams a local file; replacing an object overwrites it", async () => {
      const [url] = track(`${fresh()}/data/file.bin`)
      const first = localFile("first version")
      const firstIdentity = await SourceFile.identityOf(first)
      await run((s) => s.putFile(url!, first, firstIdentity))
      expect(str(await run((s) => s.read(url!)))).toBe("first version")
      const second = localFile("second")
      const secondIdentity = await SourceFile.identityOf(second)
      await run((s) => s.putFile(url!, second, secondIdentity))
      expect(str(await run((s) => s.read(url!)))).toBe("second")
    })

    test("putBytes overwrites", async () => {
      const [url] = track(`${fresh()}/x.txt`)
      await run((s) => s.putBytes(url!, text("one"), "text/plain"))
      await run((s) => s.putBytes(url!, text("two!"), "text/plain"))
      expect(str(await run((s) => s.read(url!)))).toBe("two!")
    })

    test("list returns every object under prefix/ recursively, and nothing beside it", async () => {
      const base = fresh()
      const urls = track(`${base}/p/a.txt`, `${base}/p/sub/b.txt`, `${base}/p/sub/deeper/c.txt`, `${base}/p-sibling/d.txt`, `${base}/pa.txt`)
      for (const url of urls) await run((s) => s.putBytes(url, text(url), "text/plain"))
      const listed = await run((s) => s.list(`${base}/p`))
      expect(listed.map((o) => o.url).sort()).toEqual([`${base}/p/a.txt`, `${base}/p/sub/b.txt`, `${base}/p/sub/deeper/c.txt`])
      for (const o of listed) expect(o.size).toBe(o.url.length)
      expect((await run((s) => s.list(`${base}/p/sub`))).map((o) => o.url).sort()).toEqual([
        `${base}/p/sub/b.txt`,
        `${base}/p/sub/deeper/c.txt`
      ])
    })

    test("list of a prefix with nothing under it is empty", async () => {
      expect(await run((s) => s.list(`${fresh()}/nothing-here`))).toEqual([])
    })

    test("create is exclusive: true the first time, false after, content kept", async () => {
      const [url] = track(`${fresh()}/_publish.context.json`)
      expect(await run((s) => s.create(url!, text("mine")))).toBe(true)
      expect(await run((s) => s.create(url!, text("theirs")))).toBe(false)
      expect(str(await run((s) => s.read(url!)))).toBe("mine")
    })

    test("concurrent creates: exactly one wins", async () => {
      const [url] = track(`${fresh()}/marker`)
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => run((s) => s.create(url!, text(`writer ${i}`))))
      )
      expect(results.filter((r) => r)).toHaveLength(1)
      expect(str(await run((s) => s.read(url!)))).toBe(`writer ${results.indexOf(true)}`)
    })

    test("copy duplicates an object and leaves the source", async () => {
      const base = fresh()
      const [from, to] = track(`${base}/from/f.txt`, `${base}/to/t.txt`)
      await run((s) => s.putBytes(from!, text("payload"), "text/plain"))
      await run((s) => s.copy(from!, to!))
      expect(str(await run((s) => s.read(to!)))).toBe("payload")
      expect(str(await run((s) => s.read(from!)))).toBe("payload")
    })

    test("copy of a missing object fails with a StorageError marked missing (undo relies on it)", async () => {
      const base = fresh()
      const error = await failure((s) => s.copy(`${base}/missing`, `${base}/target`))
      expect(error._tag).toBe("StorageError")
      expect((error as { missing?: boolean }).missing).toBe(true)
    })

    test("read of a missing object fails with a StorageError naming the URL", async () => {
      const url = `${fresh()}/missing.json`
      const error = await failure((s) => s.read(url))
      expect(error._tag).toBe("StorageError")
      expect(`${error.message} ${error.url ?? ""}`).toContain(url)
    })

    test("remove deletes, and removing again (or what never existed) succeeds", async () => {
      const base = fresh()
      const [a, b] = track(`${base}/r/a.txt`, `${base}/r/b.txt`)
      await run((s) => s.putBytes(a!, text("a"), "text/plain"))
      await run((s) => s.putBytes(b!, text("b"), "text/plain"))
      await run((s) => s.remove([a!, b!]))
      expect(await run((s) => s.list(`${base}/r`))).toEqual([])
      expect((await failure((s) => s.read(a!)))._tag).toBe("StorageError")
      await run((s) => s.remove([a!, b!]))
      await run((s) => s.remove([`${base}/never/was.txt`]))
      await run((s) => s.remove([]))
    })

    test("backupUrl is deterministic, distinct from the URL and per transaction, and usable", async () => {
      const [url] = track(`${fresh()}/prod/file.txt`)
      const tx1 = `tx-${randomUUID()}`
      const tx2 = `tx-${randomUUID()}`
      const store = await run((s) => Effect.succeed(s))
      const backup = store.backupUrl(url!, tx1)
      expect(backup).not.toBe(url!)
      expect(store.backupUrl(url!, tx1)).toBe(backup)
      expect(store.backupUrl(url!, tx2)).not.toBe(backup)
      expect(backup).toContain(tx1)
      track(backup)
      await run((s) => s.putBytes(url!, text("original"), "text/plain"))
      await run((s) => s.copy(url!, backup))
      await run((s) => s.putBytes(url!, text("replacement"), "text/plain"))
      expect(str(await run((s) => s.read(backup)))).toBe("original")
      await run((s) => s.copy(backup, url!))
      await run((s) => s.remove([backup]))
      expect(str(await run((s) => s.read(url!)))).toBe("original")
    })

    test("putFile refuses a file swapped after planning for a same-size symlink, and publishes nothing of it", async () => {
      const [url] = track(`${fresh()}/swapped/data.bin`)
      const planned = localFile("planned bytes!")
      const identity = await SourceFile.identityOf(planned)
      const outside = localFile("OUTSIDE SECRET") // same size: only the identity tells them apart
      unlinkSync(planned)
      symlinkSync(outside, planned)
      const error = await failure((s) => s.putFile(url!, planned, identity))
      expect(error.message).toContain(`${planned} changed after planning`)
      expect(error.message).toContain("nothing of it was published")
      expect(await run((s) => s.list(url!.slice(0, url!.lastIndexOf("/"))))).toEqual([])
      expect((await failure((s) => s.read(url!)))._tag).toBe("StorageError")
    })

    test("putFile refuses a file rewritten in place after planning (same size, new mtime)", async () => {
      const [url] = track(`${fresh()}/rewritten/data.bin`)
      const planned = localFile("planned bytes!")
      const identity = await SourceFile.identityOf(planned)
      writeFileSync(planned, "OUTSIDE SECRET")
      const error = await failure((s) => s.putFile(url!, planned, { ...identity, mtimeMs: (identity.mtimeMs ?? 0) - 1000 }))
      expect(error.message).toContain("changed after planning")
      expect(await run((s) => s.list(url!.slice(0, url!.lastIndexOf("/"))))).toEqual([])
    })

    test("preflight accepts a small write", async () => {
      await run((s) => s.preflight(`${fresh()}/new/dir`, 1024))
    })
  })
}
