import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Layer, ManagedRuntime } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { type Errors, StacRegistry } from "@hysds-stac/core"
import { collectionJson, itemJson, stacRegistryContract } from "../contract/StacRegistryContract.ts"
import * as Database from "./Database.ts"
import * as SqliteRegistry from "./SqliteRegistry.ts"

const temp = mkdtempSync(path.join(tmpdir(), "hysds-stac-sqliteregistry-"))
afterAll(() => rmSync(temp, { recursive: true, force: true }))

const registryLayer = (file: string) => SqliteRegistry.layer().pipe(Layer.provide(Database.layer(file)))

stacRegistryContract("SqliteRegistry", () => registryLayer(path.join(temp, "contract.sqlite")))

describe("SqliteRegistry, pgstac's rules", () => {
  let runtime: ManagedRuntime.ManagedRuntime<StacRegistry.StacRegistry, unknown>
  beforeAll(() => {
    runtime = ManagedRuntime.make(registryLayer(path.join(temp, "rules.sqlite")))
  })
  afterAll(() => runtime.dispose())
  const exec = <A, E>(f: (r: StacRegistry.StacRegistryShape) => Effect.Effect<A, E>) =>
    runtime.runPromise(Effect.flatMap(StacRegistry.StacRegistry, f))
  const failure = <A>(f: (r: StacRegistry.StacRegistryShape) => Effect.Effect<A, Errors.CatalogApiError>) =>
    runtime.runPromise(Effect.flip(Effect.flatMap(StacRegistry.StacRegistry, f)))

  test("every reserved character is refused in collection and item ids, with 400", async () => {
    await exec((r) => r.putCollection(collectionJson("rules"), "create"))
    for (const c of SqliteRegistry.RESERVED_ID_CHARS) {
      const col = await failure((r) => r.putCollection(collectionJson(`bad${c}id`), "create"))
      expect(col.status).toBe(400)
      expect(col.message).toContain(`'${c}'`)
      const item = await failure((r) => r.putItems("rules", [itemJson("rules", `bad${c}item`)], "create"))
      expect(item.status).toBe(400)
      expect(item.item).toBe(`bad${c}item`)
    }
    expect(await exec((r) => r.listItems("rules"))).toEqual([])
    expect((await exec((r) => r.listCollections())).map((c) => c["id"])).toEqual(["rules"])
  })

  test("ids with dots, dashes, underscores and unicode are fine", async () => {
    await exec((r) => r.putCollection(collectionJson("S1-GUNW_v2.0.1-é"), "create"))
    await exec((r) => r.putItems("S1-GUNW_v2.0.1-é", [itemJson("S1-GUNW_v2.0.1-é", "S1A_IW_SLC__1SDV_20200101T000000")], "create"))
    const items = await exec((r) => r.listItems("S1-GUNW_v2.0.1-é"))
    expect(items.map((i) => i.id)).toEqual(["S1A_IW_SLC__1SDV_20200101T000000"])
  })

  test("missing id, missing or null geometry, a foreign collection field, duplicates: 400", async () => {
    await exec((r) => r.putCollection(collectionJson("checks"), "create"))
    const { id: _id, ...noId } = itemJson("checks", "x")
    expect((await failure((r) => r.putItems("checks", [noId], "create"))).status).toBe(400)
    const { geometry: _g, ...noGeometry } = itemJson("checks", "nogeom")
    const missing = await failure((r) => r.putItems("checks", [noGeometry], "replace"))
    expect(missing.status).toBe(400)
    expect(missing.item).toBe("nogeom")
    const nulled = await failure((r) => r.putItems("checks", [itemJson("checks", "ok"), { ...itemJson("checks", "n"), geometry: null }], "create"))
    expect(nulled.status).toBe(400)
    expect(await exec((r) => r.findItems("checks", ["ok", "n"]))).toEqual([])
    const foreign = await failure((r) => r.putItems("checks", [itemJson("elsewhere", "f")], "create"))
    expect(foreign.status).toBe(400)
    expect(foreign.message).toContain("elsewhere")
    const twice = await failure((r) => r.putItems("checks", [itemJson("checks", "d"), itemJson("checks", "d")], "replace"))
    expect(twice.status).toBe(400)
    expect(twice.item).toBe("d")
    expect((await failure((r) => r.putCollection({ description: "no id" }, "create"))).status).toBe(400)
  })

  test("items without a collection field get it, as STAC-FastAPI does", async () => {
    await exec((r) => r.putCollection(collectionJson("fills"), "create"))
    const { collection: _c, ...bare } = itemJson("fills", "bare")
    await exec((r) => r.putItems("fills", [bare], "create"))
    const [stored] = await exec((r) => r.findItems("fills", ["bare"]))
    expect(stored?.["collection"]).toBe("fills")
  })

  test("424 is checked before 409, and nothing is written on either", async () => {
    const error = await failure((r) => r.putItems("nowhere", [itemJson("nowhere", "a")], "replace"))
    expect(error.status).toBe(424)
    expect(error.hint).toContain("create the collection")
  })

  test("409 names the first existing item in request order and counts the others", async () => {
    await exec((r) => r.putCollection(collectionJson("order"), "create"))
    await exec((r) => r.putItems("order", [itemJson("order", "b"), itemJson("order", "a")], "create"))
    const error = await failure((r) =>
      r.putItems("order", [itemJson("order", "new"), itemJson("order", "b"), itemJson("order", "a")], "create")
    )
    expect(error.item).toBe("b")
    expect(error.message).toContain("1 more")
    expect(await exec((r) => r.findItems("order", ["new"]))).toEqual([])
  })

  test("findItems chunks long id lists and returns items ordered by id", async () => {
    await exec((r) => r.putCollection(collectionJson("many"), "create"))
    const ids = Array.from({ length: 1234 }, (_, i) => `i${String(1234 - i).padStart(5, "0")}`)
    await exec((r) => r.putItems("many", ids.map((id) => itemJson("many", id)), "create"))
    const found = await exec((r) => r.findItems("many", [...ids, ...ids.slice(0, 10)]))
    expect(found.map((i) => i["id"])).toEqual([...ids].sort())
    await exec((r) => r.deleteItems("many", ids.slice(0, 1100)))
    expect(await exec((r) => r.listItems("many"))).toHaveLength(134)
  })

  test("listItems of a missing collection is 404, as the STAC API answers", async () => {
    const error = await failure((r) => r.listItems("absent"))
    expect(error.status).toBe(404)
    expect(error.collection).toBe("absent")
  })

  test("collections are listed in id order", async () => {
    const ids = (await exec((r) => r.listCollections())).map((c) => c["id"] as string)
    expect(ids).toEqual([...ids].sort())
  })
})

describe("SqliteRegistry persistence", () => {
  test("what one open wrote, the next reads", async () => {
    const file = path.join(temp, "persist.sqlite")
    const exec = <A, E>(f: (r: StacRegistry.StacRegistryShape) => Effect.Effect<A, E>) =>
      Effect.runPromise(Effect.flatMap(StacRegistry.StacRegistry, f).pipe(Effect.provide(registryLayer(file))))
    await exec((r) => r.putCollection(collectionJson("kept"), "create"))
    await exec((r) => r.putItems("kept", [itemJson("kept", "one")], "create"))
    expect((await exec((r) => r.listItems("kept"))).map((i) => i["id"])).toEqual(["one"])
  })
})
