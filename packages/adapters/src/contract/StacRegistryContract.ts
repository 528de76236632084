/**
 * The behaviour every StacRegistry adapter must have, as `bun:test` blocks:
 * the embedded SQLite registry, and the STAC API adapter on stac-fastapi-pgstac
 * and on stac-fastapi-opensearch.
 * Status numbers are part of the contract: adapters normalise what their
 * server answers (409 exists, 404 missing, 424 collection missing), because
 * status codes that differ between backends are a known pain of the existing
 * tools.
 *
 * Only `id`, `collection` and our own properties are compared: servers
 * regenerate structural links. Safe against a shared real server: collection
 * ids are unique per test and deleted at the end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, type Layer, ManagedRuntime, Option } from "effect"
import { randomUUID } from "node:crypto"
import { type Errors, Stac, StacRegistry } from "@hysds-stac/core"

export interface StacRegistryContractOptions {
  /** Whether ids with `: / ? # [ ] @ ! $ & ' ( ) * + , ; =` are refused, as pgstac does (default true). */
  readonly rejectsReservedIdChars?: boolean
  /** Whether a create-mode `putItems` that hits an existing item writes nothing at all, as pgstac does (default true). */
  readonly atomicItemCreate?: boolean
  /**
   * Sends a collection or an item straight to the server, past every check the
   * adapter makes before sending, and answers the server's status. With it the
   * suite proves that what the exposed `rules` refuse, the SERVER refuses (the
   * adapter checking its own guess would prove nothing). Without it the port is
   * the server (the embedded registry) and its answer is the server's. A
   * server that stores an id it cannot serve back by its URL (a `/` on
   * stac-fastapi-opensearch) may answer 404 for it here: refusing it is right.
   */
  readonly sendRaw?: (
    what: { readonly _tag: "Collection"; readonly json: StacRegistry.StacJson } | { readonly _tag: "Item"; readonly collection: string; readonly json: StacRegistry.StacJson }
  ) => Promise<number>
}

/** Ids no registry rule we know refuses: what planning lets through must be stored. */
export const ORDINARY_IDS: ReadonlyArray<string> = ["plain-1", "with.dots", "with space", "100%", "under_score~tilde", "é-ü-非"]

export const collectionJson = (id: string, description = "contract test collection"): StacRegistry.StacJson => ({
  type: "Collection",
  stac_version: "1.1.0",
  id,
  description,
  license: "proprietary",
  extent: {
    spatial: { bbox: [[-180, -90, 180, 90]] },
    temporal: { interval: [["2020-01-01T00:00:00Z", null]] }
  },
  links: []
})

export const itemJson = (
  collection: string,
  id: string,
  properties: Record<string, unknown> = {}
): StacRegistry.StacJson => ({
  type: "Feature",
  stac_version: "1.1.0",
  id,
  collection,
  geometry: { type: "Point", coordinates: [-118.17, 34.2] },
  bbox: [-118.17, 34.2, -118.17, 34.2],
  properties: { datetime: "2020-01-02T03:04:05Z", ...properties },
  assets: {},
  links: []
})

export const stacRegistryContract = (
  name: string,
  layer: () => Layer.Layer<StacRegistry.StacRegistry, unknown>,
  options: StacRegistryContractOptions = {}
): void => {
  describe(`StacRegistry contract: ${name}`, () => {
    let runtime: ManagedRuntime.ManagedRuntime<StacRegistry.StacRegistry, unknown>
    const created: Array<string> = []

    beforeAll(() => {
      runtime = ManagedRuntime.make(layer())
    })
    afterAll(async () => {
      for (const id of created) await exec((r) => r.deleteCollection(id)).catch(() => undefined)
      await runtime.dispose()
    })

    const exec = <A, E>(f: (registry: StacRegistry.StacRegistryShape) => Effect.Effect<A, E>): Promise<A> =>
      runtime.runPromise(Effect.flatMap(StacRegistry.StacRegistry, f))
    const failure = <A>(
      f: (registry: StacRegistry.StacRegistryShape) => Effect.Effect<A, Errors.CatalogApiError>
    ): Promise<Errors.CatalogApiError> => runtime.runPromise(Effect.flip(Effect.flatMap(StacRegistry.StacRegistry, f)))
    const collectionId = () => {
      const id = `contract-${randomUUID()}`
      created.push(id)
      return id
    }
    const withCollection = async () => {
      const id = collectionId()
      await exec((r) => r.putCollection(collectionJson(id), "create"))
      return id
    }
    const ids = (items: ReadonlyArray<StacRegistry.StacJson>) => items.map((i) => i["id"] as string)
    const property = (item: StacRegistry.StacJson | undefined, key: string) =>
      (item?.["properties"] as Record<string, unknown> | undefined)?.[key]

    test("create a collection, read it back, see it listed", async () => {
      const id = await withCollection()
      const got = Option.getOrThrow(await exec((r) => r.getCollection(id)))
      expect(got["id"]).toBe(id)
      expect(got["description"]).toBe("contract test collection")
      expect(ids(await exec((r) => r.listCollections()))).toContain(id)
    })

    test("getCollection of a missing id is none", async () => {
      expect(Option.isNone(await exec((r) => r.getCollection(`contract-missing-${randomUUID()}`)))).toBe(true)
    })

    test("creating an existing collection fails with 409", async () => {
      const id = await withCollection()
      const error = await failure((r) => r.putCollection(collectionJson(id), "create"))
      expect(error._tag).toBe("CatalogApiError")
      expect(error.status).toBe(409)
      expect(error.collection).toBe(id)
    })

    test("replace updates an existing collection and keeps its items", async () => {
      const id = await withCollection()
      await exec((r) => r.putItems(id, [itemJson(id, "kept")], "create"))
      await exec((r) => r.putCollection(collectionJson(id, "second description"), "replace"))
      expect(Option.getOrThrow(await exec((r) => r.getCollection(id)))["description"]).toBe("second description")
      expect(ids(await exec((r) => r.findItems(id, ["kept"])))).toEqual(["kept"])
    })

    test("replacing a missing collection fails with 404", async () => {
      const id = collectionId()
      const error = await failure((r) => r.putCollection(collectionJson(id), "replace"))
      expect(error.status).toBe(404)
      expect(error.collection).toBe(id)
    })

    test("deleteCollection deletes it and its items; deleting again succeeds", async () => {
      const id = await withCollection()
      await exec((r) => r.putItems(id, [itemJson(id, "i1"), itemJson(id, "i2")], "create"))
      await exec((r) => r.deleteCollection(id))
      expect(Option.isNone(await exec((r) => r.getCollection(id)))).toBe(true)
      await exec((r) => r.deleteCollection(id))
      await exec((r) => r.deleteCollection(`contract-never-${randomUUID()}`))
      // Re-created, it starts empty: the items went with the collection.
      await exec((r) => r.putCollection(collectionJson(id), "create"))
      expect(await exec((r) => r.findItems(id, ["i1", "i2"]))).toEqual([])
      expect(await exec((r) => r.listItems(id))).toEqual([])
    })

    test("deleteCollectionIfEmpty keeps a collection while it holds an item, deletes it once empty, and a missing one is gone", async () => {
      const id = await withCollection()
      await exec((r) => r.putItems(id, [itemJson(id, "another-jobs")], "create"))
      expect(await exec((r) => r.deleteCollectionIfEmpty(id))).toBe(false)
      expect(Option.isSome(await exec((r) => r.getCollection(id)))).toBe(true)
      expect(ids(await exec((r) => r.listItems(id)))).toEqual(["another-jobs"])
      await exec((r) => r.deleteItems(id, ["another-jobs"]))
      expect(await exec((r) => r.deleteCollectionIfEmpty(id))).toBe(true)
      expect(Option.isNone(await exec((r) => r.getCollection(id)))).toBe(true)
      expect(await exec((r) => r.deleteCollectionIfEmpty(id))).toBe(true)
    })

    test("deleteCollectionIfOnly keeps a collection holding another item, drops it with its items when all are among the ids", async () => {
      const id = await withCollection()
      // More ids than one filter list holds (the STAC API adapter splits them), two of them written.
      const ours = Array.from({ length: 25_000 }, (_, i) => `ours-${i}`)
      await exec((r) => r.putItems(id, [itemJson(id, "ours-7"), itemJson(id, "ours-24999"), itemJson(id, "another-jobs")], "create"))
      expect(await exec((r) => r.deleteCollectionIfOnly(id, ours))).toBe(false)
      expect(await exec((r) => r.deleteCollectionIfOnly(id, []))).toBe(false)
      expect(Option.isSome(await exec((r) => r.getCollection(id)))).toBe(true)
      expect(ids(await exec((r) => r.listItems(id))).sort()).toEqual(["another-jobs", "ours-24999", "ours-7"])
      await exec((r) => r.deleteItems(id, ["another-jobs"]))
      expect(await exec((r) => r.deleteCollectionIfOnly(id, ours))).toBe(true)
      expect(Option.isNone(await exec((r) => r.getCollection(id)))).toBe(true)
      // Re-created, it starts empty: the items went with the collection.
      await exec((r) => r.putCollection(collectionJson(id), "create"))
      expect(await exec((r) => r.listItems(id))).toEqual([])
      expect(await exec((r) => r.deleteCollectionIfOnly(id, ours))).toBe(true)
      expect(await exec((r) => r.deleteCollectionIfOnly(id, ours))).toBe(true) // missing: gone
    })

    test("putItems into a missing collection fails with 424 naming the collection", async () => {
      const id = collectionId()
      const error = await failure((r) => r.putItems(id, [itemJson(id, "orphan")], "create"))
      expect(error.status).toBe(424)
      expect(error.collection).toBe(id)
      expect(error.message).toContain(id)
    })

    test("items: create, find, list", async () => {
      const id = await withCollection()
      await exec((r) => r.putItems(id, [itemJson(id, "b"), itemJson(id, "a"), itemJson(id, "c")], "create"))
      const found = await exec((r) => r.findItems(id, ["a", "c", "zz-missing"]))
      expect(ids(found).sort()).toEqual(["a", "c"])
      for (const item of found) expect(item["collection"]).toBe(id)
      expect(ids(await exec((r) => r.listItems(id)))).toEqual(["a", "b", "c"])
      expect(await exec((r) => r.findItems(id, []))).toEqual([])
    })

    test("items: create of an existing item fails with 409 naming it", async () => {
      const id = await withCollection()
      await exec((r) => r.putItems(id, [itemJson(id, "dup")], "create"))
      const error = await failure((r) => r.putItems(id, [itemJson(id, "new-1"), itemJson(id, "dup")], "create"))
      expect(error.status).toBe(409)
      expect(error.item).toBe("dup")
      expect(error.message).toContain("dup")
      if (options.atomicItemCreate ?? true) {
        expect(await exec((r) => r.findItems(id, ["new-1"]))).toEqual([])
      }
    })

    test("items: replace creates or replaces", async () => {
      const id = await withCollection()
      await exec((r) => r.putItems(id, [itemJson(id, "x", { version: 1 })], "create"))
      await exec((r) => r.putItems(id, [itemJson(id, "x", { version: 2 }), itemJson(id, "y", { version: 1 })], "replace"))
      const found = await exec((r) => r.findItems(id, ["x", "y"]))
      expect(ids(found).sort()).toEqual(["x", "y"])
      expect(property(found.find((i) => i["id"] === "x"), "version")).toBe(2)
    })

    test("items: delete; deleting missing ones succeeds", async () => {
      const id = await withCollection()
      await exec((r) => r.putItems(id, [itemJson(id, "d1"), itemJson(id, "d2")], "create"))
      await exec((r) => r.deleteItems(id, ["d1"]))
      expect(ids(await exec((r) => r.findItems(id, ["d1", "d2"])))).toEqual(["d2"])
      await exec((r) => r.deleteItems(id, ["d1", "never"]))
      await exec((r) => r.deleteItems(`contract-never-${randomUUID()}`, ["d1"]))
    })

    test("findItems with many ids returns exactly the existing ones", async () => {
      const id = await withCollection()
      const existing = Array.from({ length: 30 }, (_, i) => `item-${String(i).padStart(4, "0")}`)
      await exec((r) => r.putItems(id, existing.map((i) => itemJson(id, i)), "create"))
      const wanted = [...Array.from({ length: 1200 }, (_, i) => `absent-${i}`), ...existing.filter((_, i) => i % 3 === 0)]
      expect(ids(await exec((r) => r.findItems(id, wanted))).sort()).toEqual(existing.filter((_, i) => i % 3 === 0))
    })

    test("an item with a null geometry is rejected where the rules require a geometry", async () => {
      if (!(await exec((r) => Effect.succeed(r.rules))).geometryRequired) return
      const id = await withCollection()
      const error = await failure((r) => r.putItems(id, [{ ...itemJson(id, "nogeom"), geometry: null }], "create"))
      expect(error._tag).toBe("CatalogApiError")
      expect(error.message).toContain("nogeom")
      expect(await exec((r) => r.findItems(id, ["nogeom"]))).toEqual([])
    })

    test("rules: every id they accept is stored as a collection and as an item", async () => {
      const rules = await exec((r) => Effect.succeed(r.rules))
      const accepted = ORDINARY_IDS.filter((id) => Stac.idProblem(id, rules) === undefined)
      expect(accepted.length).toBeGreaterThan(0)
      const host = await withCollection()
      for (const id of accepted) {
        const cid = `${collectionId()}-${id}`
        created.push(cid)
        await exec((r) => r.putCollection(collectionJson(cid), "create"))
        expect(Option.isSome(await exec((r) => r.getCollection(cid)))).toBe(true)
      }
      await exec((r) => r.putItems(host, accepted.map((id) => itemJson(host, id)), "create"))
      expect(ids(await exec((r) => r.findItems(host, accepted))).sort()).toEqual([...accepted].sort())
      if (!rules.geometryRequired) {
        await exec((r) => r.putItems(host, [{ ...itemJson(host, "no-geometry"), geometry: null }], "create"))
      }
    })

    test("rules: every id they refuse, and a null geometry when they require one, the server refuses", async () => {
      const rules = await exec((r) => Effect.succeed(r.rules))
      const host = await withCollection()
      const status = async (
        what: { readonly _tag: "Collection"; readonly json: StacRegistry.StacJson } | { readonly _tag: "Item"; readonly collection: string; readonly json: StacRegistry.StacJson }
      ): Promise<number> => {
        if (options.sendRaw !== undefined) return options.sendRaw(what)
        return runtime.runPromise(
          Effect.flatMap(StacRegistry.StacRegistry, (r) =>
            (what._tag === "Collection" ? r.putCollection(what.json, "create") : r.putItems(what.collection, [what.json], "create")).pipe(
              Effect.as(201),
              Effect.catchAll((e) => Effect.succeed(e.status ?? 500))
            )
          )
        )
      }
      const refusedIds = rules.forbiddenIdChars.split("").map((c) => `contract-refused${c}id`)
      if (rules.maxIdLength !== undefined) refusedIds.push("x".repeat(rules.maxIdLength + 1))
      for (const id of refusedIds) {
        expect(Stac.idProblem(id, rules) === undefined).toBe(false)
        const item = await status({ _tag: "Item", collection: host, json: itemJson(host, id) })
        expect({ id, item }).toEqual({ id, item: expect.any(Number) })
        expect({ id, refusedWith4xx: item >= 400 && item < 500 }).toEqual({ id, refusedWith4xx: true })
        const collection = await status({ _tag: "Collection", json: collectionJson(id) })
        expect({ id, refusedWith4xx: collection >= 400 && collection < 500 }).toEqual({ id, refusedWith4xx: true })
      }
      if (rules.geometryRequired) {
        const nullGeometry = await status({ _tag: "Item", collection: host, json: { ...itemJson(host, "null-geometry"), geometry: null, bbox: undefined } })
        expect(nullGeometry >= 400 && nullGeometry < 500).toBe(true)
      }
      // Nothing of it was stored.
      expect(ids(await exec((r) => r.listItems(host)))).toEqual([])
    })

    if (options.rejectsReservedIdChars ?? true) {
      test("ids with reserved characters are rejected", async () => {
        const bad = `${collectionId()}:v1`
        created.push(bad)
        const error = await failure((r) => r.putCollection(collectionJson(bad), "create"))
        expect(error.status).toBe(400)
        const id = await withCollection()
        const itemError = await failure((r) => r.putItems(id, [itemJson(id, "a/b")], "create"))
        expect(itemError.status).toBe(400)
        expect(itemError.message).toContain("a/b")
      })
    }
  })
}
