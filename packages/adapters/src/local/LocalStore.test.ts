import { afterAll, describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { randomUUID } from "node:crypto"
import type { Errors } from "@hysds-stac/core"
import { objectStoreContract } from "../contract/ObjectStoreContract.ts"
import * as LocalStore from "./LocalStore.ts"

const temp = mkdtempSync(path.join(tmpdir(), "hysds-stac-localstore-"))
afterAll(() => {
  rmSync(temp, { recursive: true, force: true })
  // file:// backups of paths under the temp dir live in <first segment>/.hysds-stac-backup,
  // which removal keeps; drop it when the tests left it empty (fails harmlessly otherwise).
  try {
    rmdirSync(path.join(path.parse(temp).root, temp.split(path.sep)[1] ?? "", ".hysds-stac-backup"))
  } catch {}
})

const root = path.join(temp, "store")
const layer = () => LocalStore.layer({ root })

objectStoreContract("LocalStore, s3:// mapped under the root", layer, () => `s3://contract-bucket/run/${randomUUID()}`)
objectStoreContract("LocalStore, s3://host:port form", layer, () => `s3://127.0.0.1:9000/contract-bucket/run/${randomUUID()}`)
objectStoreContract("LocalStore, file://", layer, () => `file://${path.join(temp, "files", randomUUID())}`)

const text = (s: string) => new TextEncoder().encode(s)
const store = LocalStore.make({ root })
const run = <A>(effect: Effect.Effect<A, Errors.StorageError>) => Effect.runPromise(effect)
const fail = <A>(effect: Effect.Effect<A, Errors.StorageError>) => Effect.runPromise(Effect.flip(effect))

describe("LocalStore URL mapping", () => {
  test("s3://bucket/key and s3://host:port/bucket/key are <root>/s3/<bucket>/<key>", async () => {
    await run(store.putBytes("s3://maps/a/b/c.json", text("1"), "application/json"))
    expect(readFileSync(path.join(root, "s3", "maps", "a", "b", "c.json"), "utf8")).toBe("1")
    expect(new TextDecoder().decode(await run(store.read("s3://minio:9000/maps/a/b/c.json")))).toBe("1")
  })

  test("list answers in the form of the prefix", async () => {
    await run(store.putBytes("s3://forms/p/x.txt", text("x"), "text/plain"))
    expect(await run(store.list("s3://forms/p"))).toEqual([{ url: "s3://forms/p/x.txt", size: 1 }])
    expect(await run(store.list("s3://h:1/forms/p/"))).toEqual([{ url: "s3://h:1/forms/p/x.txt", size: 1 }])
  })

  test("a key with a literal % survives list and read", async () => {
    await run(store.putBytes("s3://pct/100%25.txt", text("full"), "text/plain"))
    const [listed] = await run(store.list("s3://pct"))
    expect(listed?.url).toBe("s3://pct/100%25.txt")
    expect(existsSync(path.join(root, "s3", "pct", "100%.txt"))).toBe(true)
    expect(new TextDecoder().decode(await run(store.read(listed!.url)))).toBe("full")
  })

  test("unsupported schemes fail naming the URL and the supported ones", async () => {
    for (const url of ["gs://bucket/key", "http://example.org/x", "not a url"]) {
      const error = await fail(store.putBytes(url, text("x"), "text/plain"))
      expect(error._tag).toBe("StorageError")
      expect(error.message).toContain(url)
      expect(`${error.message} ${error.hint}`).toMatch(/s3:\/\//)
      expect(`${error.message} ${error.hint}`).toMatch(/file:\/\//)
    }
  })

  test("keys that would escape the bucket directory are refused", async () => {
    for (const url of ["s3://b/../escape.txt", "s3://b/a/./x", "s3://b/a//x", "s3://../x"]) {
      const error = await fail(store.putBytes(url, text("x"), "text/plain"))
      expect(error._tag).toBe("StorageError")
    }
    expect(existsSync(path.join(root, "s3", "escape.txt"))).toBe(false)
  })

  test("a bucket alone is not an object", async () => {
    expect((await fail(store.putBytes("s3://bucket-only", text("x"), "text/plain")))._tag).toBe("StorageError")
    expect((await fail(store.read("file:///")))._tag).toBe("StorageError")
  })

  test("backupUrl keeps the bucket (and host) for s3, and uses the first path segment for file", () => {
    expect(store.backupUrl("s3://bkt/prod/a/f.tif", "tx1")).toBe("s3://bkt/.hysds-stac-backup/tx1/prod/a/f.tif")
    expect(store.backupUrl("s3://h:9000/bkt/prod/f.tif", "tx1")).toBe("s3://h:9000/bkt/.hysds-stac-backup/tx1/prod/f.tif")
    expect(store.backupUrl("file:///data/products/x/f.tif", "tx1")).toBe("file:///data/.hysds-stac-backup/tx1/products/x/f.tif")
    expect(store.backupUrl("file:///f.tif", "tx1")).toBe("file:///.hysds-stac-backup/tx1/f.tif")
  })

  test("mapUrl exposes the path", () => {
    const mapped = LocalStore.mapUrl(root, "s3://b/k/v")
    expect(Either.isRight(mapped) && mapped.right.path).toBe(path.join(root, "s3", "b", "k", "v"))
  })
})

describe("LocalStore removal", () => {
  test("removing an s3 object prunes the directories it leaves empty, not the bucket", async () => {
    await run(store.putBytes("s3://prune/a/b/c/one.txt", text("1"), "text/plain"))
    await run(store.putBytes("s3://prune/a/two.txt", text("2"), "text/plain"))
    await run(store.remove(["s3://prune/a/b/c/one.txt"]))
    expect(existsSync(path.join(root, "s3", "prune", "a", "b"))).toBe(false)
    expect(existsSync(path.join(root, "s3", "prune", "a", "two.txt"))).toBe(true)
    await run(store.remove(["s3://prune/a/two.txt"]))
    expect(existsSync(path.join(root, "s3", "prune", "a"))).toBe(false)
    expect(readdirSync(path.join(root, "s3", "prune"))).toEqual([])
  })

  test("removing again also prunes directories left empty earlier", async () => {
    const dir = path.join(root, "s3", "leftover", "x", "y")
    mkdirSync(dir, { recursive: true })
    await run(store.remove(["s3://leftover/x/y/gone.txt"]))
    expect(existsSync(path.join(root, "s3", "leftover", "x"))).toBe(false)
    expect(existsSync(path.join(root, "s3", "leftover"))).toBe(true)
  })

  test("file:// removal removes only the file, the user's directories stay", async () => {
    const dir = path.join(temp, "user", "products", "p1")
    await run(store.putBytes(`file://${dir}/f.txt`, text("x"), "text/plain"))
    await run(store.remove([`file://${dir}/f.txt`]))
    expect(existsSync(path.join(dir, "f.txt"))).toBe(false)
    expect(existsSync(dir)).toBe(true)
  })

  test("file:// backups are pruned up to the backup directory", async () => {
    const url = `file://${path.join(temp, "bk", "prod", "f.txt")}`
    const tx = `tx-${randomUUID()}`
    const backup = store.backupUrl(url, tx)
    await run(store.putBytes(url, text("x"), "text/plain"))
    await run(store.copy(url, backup))
    const backupDir = path.join(temp.split(path.sep).slice(0, 2).join(path.sep), ".hysds-stac-backup")
    expect(existsSync(path.join(backupDir, tx))).toBe(true)
    await run(store.remove([backup]))
    expect(existsSync(path.join(backupDir, tx))).toBe(false)
  })

  test("removing a directory URL is a no-op (it names no object)", async () => {
    await run(store.putBytes("s3://dirs/d/inner.txt", text("x"), "text/plain"))
    await run(store.remove(["s3://dirs/d"]))
    expect(existsSync(path.join(root, "s3", "dirs", "d", "inner.txt"))).toBe(true)
  })
})

describe("LocalStore writes", () => {
  test("no partial files are left or listed", async () => {
    const dir = path.join(root, "s3", "atomic", "p")
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, ".hysds-stac-partial-leftover"), "half")
    await run(store.putBytes("s3://atomic/p/a.txt", text("a"), "text/plain"))
    expect((await run(store.list("s3://atomic/p"))).map((o) => o.url)).toEqual(["s3://atomic/p/a.txt"])
    expect(readdirSync(dir).sort()).toEqual([".hysds-stac-partial-leftover", "a.txt"])
  })

  test("putFile of a missing local file names it", async () => {
    const missing = path.join(temp, "no-such-file.bin")
    const error = await fail(store.putFile("s3://b/k", missing, { size: 1 }))
    expect(error.message).toContain(missing)
  })

  test("putFile checks the declared size, and leaves nothing behind on a mismatch", async () => {
    const file = path.join(temp, "sized.bin")
    writeFileSync(file, "12345")
    const error = await fail(store.putFile("s3://sized/deep/k.bin", file, { size: 4 }))
    expect(error.message).toContain("changed after planning (size 4 → 5 bytes)")
    expect(await run(store.list("s3://sized"))).toEqual([])
    expect(existsSync(path.join(root, "s3", "sized", "deep"))).toBe(false)
  })

  test("a key that is also a prefix of other keys fails clearly", async () => {
    await run(store.putBytes("s3://collide/a/b", text("x"), "text/plain"))
    const error = await fail(store.putBytes("s3://collide/a", text("y"), "text/plain"))
    expect(error._tag).toBe("StorageError")
    expect(error.hint).toContain("prefix")
    const created = await fail(store.create("s3://collide/a", text("y")))
    expect(created._tag).toBe("StorageError")
  })
})

describe("LocalStore preflight", () => {
  test("an absurd size fails saying what is needed, what is free, and where", async () => {
    const error = await fail(store.preflight("s3://space/prefix", 2 ** 62))
    expect(error._tag).toBe("StorageError")
    expect(error.message).toContain("needed")
    expect(error.message).toContain("free")
    expect(error.message).toContain(String(2 ** 62))
    expect(error.url).toBe("s3://space/prefix")
    expect(error.hint).toBeDefined()
  })

  test("a location whose directories do not exist yet is measured at its nearest existing ancestor", async () => {
    await run(store.preflight(`file://${path.join(temp, "does", "not", "exist", "yet")}`, 1))
    expect(existsSync(path.join(temp, "does"))).toBe(false)
  })

  test("a negative byte count is refused", async () => {
    expect((await fail(store.preflight("s3://space/x", -1)))._tag).toBe("StorageError")
  })
})
