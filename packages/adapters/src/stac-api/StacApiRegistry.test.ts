/**
 * StacApiRegistry against the real stac-fastapi-pgstac and
 * stac-fastapi-opensearch of the test services: the shared contract on each
 * (with bulk_items and without), what differs on stac-fastapi-opensearch, then
 * what only a remote registry has (on pgstac). Faults (timeouts, 503, 400, 401, lost links) come from a
 * loopback proxy in front of the real server, never from a fake server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Either, Fiber, Layer, Logger, ManagedRuntime, Option } from "effect"
import * as fs from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { type Errors, StacRegistry } from "@hysds-stac/core"
import { collectionJson, itemJson, stacRegistryContract, type StacRegistryContractOptions } from "../contract/StacRegistryContract.ts"
import { endpoint, services, unique } from "../contract/Services.ts"
import * as FaultProxy from "../contract/FaultProxy.ts"
import * as StacApiRegistry from "./StacApiRegistry.ts"

const env = services()

type Runtime = ManagedRuntime.ManagedRuntime<StacRegistry.StacRegistry, never>

const base = (url: string, overrides: Partial<StacApiRegistry.StacApiConfig> = {}): StacApiRegistry.StacApiConfig => ({
  url,
  timeoutMs: 30_000,
  batchSize: 100,
  bulkItems: "auto",
  retryBaseDelayMs: 10,
  ...overrides
})

/** A POST straight to the server, past the adapter's own checks: the contract proves the exposed rules are the server's. */
const sendRaw =
  (url: string): NonNullable<StacRegistryContractOptions["sendRaw"]> =>
  async (what) => {
    const root = url.replace(/\/+$/, "")
    const target = what._tag === "Collection" ? `${root}/collections` : `${root}/collections/${encodeURIComponent(what.collection)}/items`
    const response = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(what.json) })
    await response.arrayBuffer()
    return response.status
  }

/**
 * sendRaw for stac-fastapi-opensearch, which stores any id: an id the rules
 * refuse must then be one it cannot serve back by its URL (404), the reason it
 * is refused. The item goes into a scratch collection (dropped after, with
 * its items); a collection it cannot address is removed from its index
 * directly, since the API cannot delete it.
 */
const sendRawSfeos =
  (url: string, opensearch: string): NonNullable<StacRegistryContractOptions["sendRaw"]> =>
  async (what) => {
    const root = url.replace(/\/+$/, "")
    const call = async (method: string, target: string, body?: unknown) => {
      const r = await fetch(target, { method, headers: { "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
      const text = await r.text()
      return { status: r.status, body: text === "" ? undefined : (JSON.parse(text) as Record<string, any>) }
    }
    const id = String(what.json["id"])
    if (what._tag === "Collection") {
      const posted = await call("POST", `${root}/collections`, what.json)
      if (posted.status !== 201) return posted.status
      const got = await call("GET", `${root}/collections/${encodeURIComponent(id)}`)
      if (got.status === 200) {
        await call("DELETE", `${root}/collections/${encodeURIComponent(id)}`)
        return 201
      }
      await fetch(`${opensearch}/hysds_stac_sfeos_collections/_doc/${encodeURIComponent(id)}?refresh=true`, { method: "DELETE" })
      return got.status
    }
    const scratch = unique("stacapi-raw")
    await call("POST", `${root}/collections`, collectionJson(scratch))
    try {
      const posted = await call("POST", `${root}/collections/${encodeURIComponent(scratch)}/items`, { ...what.json, collection: scratch })
      if (posted.status !== 201) return posted.status
      // Stored: wait (with a deadline) until search sees it, then ask for it by URL.
      const deadline = Date.now() + 30_000
      while (Date.now() < deadline) {
        const found = await call("POST", `${root}/search`, { collections: [scratch], ids: [id] })
        if ((found.body?.["features"] ?? []).length > 0) break
        await Bun.sleep(100)
      }
      return (await call("GET", `${root}/collections/${encodeURIComponent(scratch)}/items/${encodeURIComponent(id)}`)).status === 200 ? 201 : 404
    } finally {
      await call("DELETE", `${root}/collections/${encodeURIComponent(scratch)}`)
    }
  }

if (env !== undefined && env["SFEOS_STAC_API_URL"] === undefined && process.env.HYSDS_STAC_REQUIRE_SERVICES === "1") {
  throw new Error("services.env has no SFEOS_STAC_API_URL: start stac-fastapi-opensearch with test/services/services.sh start")
}

if (env?.["SFEOS_STAC_API_URL"] !== undefined) {
  const SFEOS = endpoint(env, "SFEOS_STAC_API_URL")
  const OPENSEARCH = endpoint(env, "OPENSEARCH_URL")
  const raw = { sendRaw: sendRawSfeos(SFEOS, OPENSEARCH), rejectsReservedIdChars: false }

  stacRegistryContract("StacApiRegistry (stac-fastapi-opensearch, bulk_items)", () => StacApiRegistry.layer(base(SFEOS)), raw)
  stacRegistryContract(
    "StacApiRegistry (stac-fastapi-opensearch, one request per item)",
    () => StacApiRegistry.layer(base(SFEOS, { bulkItems: "off", batchSize: 7 })),
    raw
  )

  describe("StacApiRegistry on stac-fastapi-opensearch", () => {
    const runtimes: Array<Runtime> = []
    const collections: Array<string> = []
    const runtime = (config: StacApiRegistry.StacApiConfig): Runtime => {
      const rt = ManagedRuntime.make(StacApiRegistry.layer(config))
      runtimes.push(rt)
      return rt
    }
    const exec = <A, E>(rt: Runtime, f: (r: StacRegistry.StacRegistryShape) => Effect.Effect<A, E>): Promise<A> =>
      rt.runPromise(Effect.flatMap(StacRegistry.StacRegistry, f))
    const failure = <A>(rt: Runtime, f: (r: StacRegistry.StacRegistryShape) => Effect.Effect<A, Errors.CatalogApiError>) =>
      rt.runPromise(Effect.flip(Effect.flatMap(StacRegistry.StacRegistry, f)))
    const ids = (items: ReadonlyArray<StacRegistry.StacJson>) => items.map((i) => i["id"] as string)
    const many = (collection: string, n: number) => Array.from({ length: n }, (_, i) => itemJson(collection, `it-${String(i).padStart(4, "0")}`, { n: i }))
    const newCollection = async (rt: Runtime) => {
      const id = unique("stacapi-sfeos")
      collections.push(id)
      await exec(rt, (r) => r.putCollection(collectionJson(id), "create"))
      return id
    }
    afterAll(async () => {
      const rt = runtime(base(SFEOS))
      for (const id of collections) await exec(rt, (r) => r.deleteCollection(id)).catch(() => undefined)
      for (const r of runtimes) await r.dispose()
    })

    test("the flavor is probed: sfeos's rules here, pgstac's on pgstac; STAC_API_FLAVOR fixes it", async () => {
      expect(await exec(runtime(base(SFEOS)), (r) => Effect.succeed(r.rules))).toEqual({ forbiddenIdChars: "/", geometryRequired: false })
      expect(await exec(runtime(base(endpoint(env, "STAC_API_URL"))), (r) => Effect.succeed(r.rules))).toEqual(StacRegistry.PGSTAC_RULES)
      expect(await exec(runtime(base(SFEOS, { flavor: "pgstac" })), (r) => Effect.succeed(r.rules))).toEqual(StacRegistry.PGSTAC_RULES)
    })

    test("bulk insert over an existing item: 409 naming it, and the items the server wrote beside it are deleted again", async () => {
      // The server writes the rest of a batch holding an existing id (200 with
      // a per-item error), unlike pgstac: the create must still write nothing.
      const rt = runtime(base(SFEOS, { batchSize: 100 }))
      const id = await newCollection(rt)
      await exec(rt, (r) => r.putItems(id, [itemJson(id, "it-0150")], "create"))
      const error = await failure(rt, (r) => r.putItems(id, many(id, 250), "create"))
      expect(error.status).toBe(409)
      expect(error.item).toBe("it-0150")
      expect(error.message).toContain("nothing was written")
      expect(ids(await exec(rt, (r) => r.listItems(id)))).toEqual(["it-0150"])
    })

    test("writes are visible to the next read without DATABASE_REFRESH, deletes too", async () => {
      const rt = runtime(base(SFEOS, { bulkItems: "off" }))
      const id = await newCollection(rt)
      await exec(rt, (r) => r.putItems(id, many(id, 5), "create"))
      // Straight from the server, not through the adapter: GET by id is a search there.
      const direct = await fetch(`${SFEOS}/collections/${id}/items/it-0004`)
      expect(direct.status).toBe(200)
      await exec(rt, (r) => r.deleteItems(id, ["it-0004"]))
      expect((await fetch(`${SFEOS}/collections/${id}/items/it-0004`)).status).toBe(404)
    })

    test("a create whose answer was lost meets itself item by item on retry, and is not a conflict", async () => {
      // The server stamps created/updated on the stored items and reports the
      // retry's ids as "already exists" in a 200: both must still read as ours.
      const p = FaultProxy.start(SFEOS)
      try {
        const rt = runtime(base(p.url, { timeoutMs: 800, maxRetries: 2 }))
        const id = await newCollection(rt)
        let count = 0
        p.fault = (s) => (s.path.endsWith("/bulk_items") && Object.keys((s.body as { items?: object }).items ?? {}).length > 0 && ++count === 1 ? { delayAnswerMs: 2000 } : undefined)
        await exec(rt, (r) => r.putItems(id, many(id, 5), "create"))
        expect(count).toBe(2)
        const stored = await exec(rt, (r) => r.listItems(id))
        expect(ids(stored)).toEqual(many(id, 5).map((i) => i["id"] as string))
        expect(typeof (stored[0]?.["properties"] as Record<string, unknown>)["updated"]).toBe("string")
        // A real conflict stays one.
        p.fault = () => undefined
        expect((await failure(rt, (r) => r.putItems(id, many(id, 2), "create"))).status).toBe(409)
      } finally {
        await p.stop()
      }
    })
  })
}

if (env !== undefined) {
  const STAC = endpoint(env, "STAC_API_URL")

  stacRegistryContract("StacApiRegistry (stac-fastapi-pgstac, bulk_items)", () => StacApiRegistry.layer(base(STAC)), { sendRaw: sendRaw(STAC) })
  stacRegistryContract(
    "StacApiRegistry (stac-fastapi-pgstac, one request per item)",
    () => StacApiRegistry.layer(base(STAC, { bulkItems: "off", batchSize: 7 })),
    { sendRaw: sendRaw(STAC) }
  )

  describe("StacApiRegistry on stac-fastapi-pgstac", () => {
    const runtimes: Array<Runtime> = []
    const proxies: Array<FaultProxy.FaultProxy> = []
    const collections: Array<string> = []
    const temp = fs.mkdtempSync(path.join(tmpdir(), "hysds-stac-stacapi-"))
    let direct: Runtime

    const runtime = (config: StacApiRegistry.StacApiConfig, logs?: Array<string>): Runtime => {
      const layer =
        logs === undefined
          ? StacApiRegistry.layer(config)
          : Layer.merge(
              StacApiRegistry.layer(config),
              Logger.replace(
                Logger.defaultLogger,
                Logger.make(({ message }) => {
                  logs.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
                })
              )
            )
      const rt = ManagedRuntime.make(layer)
      runtimes.push(rt)
      return rt
    }
    const proxy = () => {
      const p = FaultProxy.start(STAC)
      proxies.push(p)
      return p
    }
    const exec = <A, E>(rt: Runtime, f: (r: StacRegistry.StacRegistryShape) => Effect.Effect<A, E>): Promise<A> =>
      rt.runPromise(Effect.flatMap(StacRegistry.StacRegistry, f))
    const failure = <A>(rt: Runtime, f: (r: StacRegistry.StacRegistryShape) => Effect.Effect<A, Errors.CatalogApiError>) =>
      rt.runPromise(Effect.flip(Effect.flatMap(StacRegistry.StacRegistry, f)))
    const newCollection = async (rt: Runtime = direct) => {
      const id = unique("stacapi")
      collections.push(id)
      await exec(rt, (r) => r.putCollection(collectionJson(id), "create"))
      return id
    }
    const ids = (items: ReadonlyArray<StacRegistry.StacJson>) => items.map((i) => i["id"] as string)
    const many = (collection: string, n: number, prefix = "it") =>
      Array.from({ length: n }, (_, i) => itemJson(collection, `${prefix}-${String(i).padStart(4, "0")}`, { n: i }))
    const bulkWrites = (p: FaultProxy.FaultProxy) =>
      p.seen.filter(
        (s) =>
          s.method === "POST" &&
          s.path.endsWith("/bulk_items") &&
          Object.keys((s.body as { items?: object } | undefined)?.items ?? {}).length > 0
      )

    beforeAll(() => {
      direct = runtime(base(STAC))
    })
    afterAll(async () => {
      for (const id of collections) await exec(direct, (r) => r.deleteCollection(id)).catch(() => undefined)
      for (const rt of runtimes) await rt.dispose()
      for (const p of proxies) await p.stop()
      fs.rmSync(temp, { recursive: true, force: true })
    })

    test("check() passes against the server with transactions", async () => {
      expect(await exec(direct, (r) => Effect.either(r.check()))).toEqual(Either.right(undefined))
    })

    test("bulk insert of 250 items with batchSize 100 takes 3 requests and all are found", async () => {
      const p = proxy()
      const rt = runtime(base(p.url, { batchSize: 100 }))
      const id = await newCollection(rt)
      const items = many(id, 250)
      await exec(rt, (r) => r.putItems(id, items, "create"))
      expect(bulkWrites(p).map((s) => Object.keys((s.body as { items: object }).items).length)).toEqual([100, 100, 50])
      expect(bulkWrites(p).every((s) => (s.body as { method: string }).method === "insert")).toBe(true)
      expect(ids(await exec(rt, (r) => r.findItems(id, ids(items)))).length).toBe(250)
      // Replace goes as upsert, in the same batches.
      p.seen.length = 0
      await exec(rt, (r) => r.putItems(id, items.map((i) => ({ ...i, properties: { ...(i["properties"] as object), v: 2 } })), "replace"))
      expect(bulkWrites(p).map((s) => (s.body as { method: string }).method)).toEqual(["upsert", "upsert", "upsert"])
      const [one] = await exec(rt, (r) => r.findItems(id, ["it-0123"]))
      expect((one?.["properties"] as Record<string, unknown>)["v"]).toBe(2)
    })

    test("a conflict in a later batch names the item and leaves nothing of the call behind", async () => {
      const rt = runtime(base(STAC, { batchSize: 100 }))
      const id = await newCollection(rt)
      await exec(rt, (r) => r.putItems(id, [itemJson(id, "it-0180")], "create"))
      const items = many(id, 250)
      const error = await failure(rt, (r) => r.putItems(id, items, "create"))
      expect(error.status).toBe(409)
      expect(error.item).toBe("it-0180")
      expect(error.collection).toBe(id)
      expect(error.message).toContain("it-0180")
      expect(error.message).toContain("nothing was written")
      // Batch 1 (0-99) had been written, and was deleted again.
      expect(ids(await exec(rt, (r) => r.listItems(id)))).toEqual(["it-0180"])
    })

    test("a conflict without bulk_items names the item and undoes the others", async () => {
      const rt = runtime(base(STAC, { bulkItems: "off" }))
      const id = await newCollection(rt)
      await exec(rt, (r) => r.putItems(id, [itemJson(id, "it-0007")], "create"))
      const error = await failure(rt, (r) => r.putItems(id, many(id, 20), "create"))
      expect(error.status).toBe(409)
      expect(error.item).toBe("it-0007")
      expect(ids(await exec(rt, (r) => r.listItems(id)))).toEqual(["it-0007"])
    })

    test("an interrupted create (Ctrl-C) deletes what it wrote, including the batch in flight", async () => {
      const p = proxy()
      const rt = runtime(base(p.url, { batchSize: 10 }))
      const id = await newCollection(rt)
      let batches = 0
      // Batch 2 reaches the server (and is applied) but its answer hangs.
      p.fault = (s) =>
        s.path.endsWith("/bulk_items") && Object.keys((s.body as { items?: object }).items ?? {}).length > 0 && ++batches === 2
          ? { delayAnswerMs: 5000 }
          : undefined
      const fiber = rt.runFork(Effect.flatMap(StacRegistry.StacRegistry, (r) => r.putItems(id, many(id, 30), "create")))
      // Wait (with a deadline, never a fixed sleep) until the server has applied batch 2.
      const deadline = Date.now() + 30_000
      let stored = 0
      while (Date.now() < deadline && (batches < 2 || stored < 20)) {
        await Bun.sleep(20)
        if (batches >= 2) stored = (await exec(direct, (r) => r.listItems(id))).length
      }
      expect(stored).toBe(20)
      await rt.runPromise(Fiber.interrupt(fiber))
      expect(await exec(direct, (r) => r.listItems(id))).toEqual([])
    })

    test("items into a missing collection: 424 naming it, with and without bulk_items", async () => {
      for (const bulkItems of ["on", "off"] as const) {
        const rt = runtime(base(STAC, { bulkItems }))
        const id = unique("stacapi-missing")
        const error = await failure(rt, (r) => r.putItems(id, [itemJson(id, "orphan")], "replace"))
        expect(error.status).toBe(424)
        expect(error.collection).toBe(id)
        expect(error.message).toContain(id)
      }
    })

    test("an item the server refuses inside a bulk batch fails naming it, and the rest of the batch is undone", async () => {
      const p = proxy()
      // The real server writes the valid items of a bulk request and reports
      // the others with 200; make it refuse one by breaking it on the way.
      p.fault = (s) =>
        s.path.endsWith("/bulk_items") && Object.keys((s.body as { items?: object } | undefined)?.items ?? {}).length > 0
          ? {
              rewriteRequest: (body) => {
                const b = body as { items: Record<string, Record<string, unknown>> }
                const target = b.items["it-0003"]
                if (target) target["geometry"] = null
                return b
              }
            }
          : undefined
      const rt = runtime(base(p.url))
      const id = await newCollection(rt)
      const error = await failure(rt, (r) => r.putItems(id, many(id, 6), "create"))
      expect(error.status).toBe(400)
      expect(error.item).toBe("it-0003")
      expect(error.message).toContain("geometry")
      expect(error.message).toContain("deleted again")
      expect(await exec(direct, (r) => r.listItems(id))).toEqual([])
    })

    test("listItems and listCollections follow next links past the first page", async () => {
      const p = proxy()
      const rt = runtime(base(p.url, { pageSize: 50 }))
      const id = await newCollection(rt)
      await exec(rt, (r) => r.putItems(id, many(id, 120), "create"))
      p.seen.length = 0
      const listed = ids(await exec(rt, (r) => r.listItems(id)))
      expect(listed.length).toBe(120)
      expect(listed).toEqual([...listed].sort())
      // Three pages, all through the proxy: the server's next links (which name
      // the server's own address) were rebased onto the configured URL.
      expect(p.seen.filter((s) => s.method === "GET" && s.path.includes("/items")).length).toBe(3)
      const extra = [await newCollection(rt), await newCollection(rt), await newCollection(rt)]
      const small = runtime(base(p.url, { pageSize: 2 }))
      const all = ids(await exec(small, (r) => r.listCollections()))
      for (const c of [id, ...extra]) expect(all).toContain(c)
      expect(new Set(all).size).toBe(all.length)
    })

    test("findItems searches ids in chunks and within the collection only", async () => {
      const a = await newCollection()
      const b = await newCollection()
      await exec(direct, (r) => r.putItems(a, [itemJson(a, "shared"), itemJson(a, "only-a")], "create"))
      await exec(direct, (r) => r.putItems(b, [itemJson(b, "shared")], "create"))
      expect(ids(await exec(direct, (r) => r.findItems(b, ["shared", "only-a"])))).toEqual(["shared"])
      const found = await exec(direct, (r) => r.findItems(a, ["only-a", "shared", "only-a"]))
      expect(ids(found)).toEqual(["only-a", "shared"])
      expect(found.every((i) => i["collection"] === a)).toBe(true)
    })

    test("ids with spaces, percent signs and non-ASCII letters round-trip", async () => {
      const id = await newCollection()
      const odd = ["a b", "100%", "é-ü_1.2", "x~y"]
      for (const bulkItems of ["on", "off"] as const) {
        const rt = runtime(base(STAC, { bulkItems }))
        await exec(rt, (r) => r.putItems(id, odd.map((i) => itemJson(id, i)), "replace"))
        expect(ids(await exec(rt, (r) => r.findItems(id, odd))).sort()).toEqual([...odd].sort())
      }
      await exec(direct, (r) => r.deleteItems(id, odd))
      expect(await exec(direct, (r) => r.listItems(id))).toEqual([])
    })

    test("the canonical link survives a round trip; a server that drops it is caught", async () => {
      const id = unique("stacapi-canonical")
      collections.push(id)
      const canonical = (href: string) => [{ rel: "canonical", href, type: "application/json" }]
      const collection = { ...collectionJson(id), links: canonical(`https://data.example.com/${id}/collection.json`) }
      await exec(direct, (r) => r.putCollection(collection, "create"))
      const stored = Option.getOrThrow(await exec(direct, (r) => r.getCollection(id)))
      expect(StacApiRegistry.canonicalHref(stored)).toBe(`https://data.example.com/${id}/collection.json`)
      const item = { ...itemJson(id, "c1"), links: canonical(`https://data.example.com/${id}/c1/c1.json`) }
      await exec(direct, (r) => r.putItems(id, [item], "create"))
      const [back] = await exec(direct, (r) => r.findItems(id, ["c1"]))
      expect(StacApiRegistry.canonicalHref(back)).toBe(`https://data.example.com/${id}/c1/c1.json`)
      // The server's own links are stripped from what we read back (putting them back
      // would double them); ours, like canonical, are kept.
      const links = back?.["links"] as ReadonlyArray<{ rel: string; href: string }>
      expect(links.some((l) => StacApiRegistry.SERVER_LINK_RELS.has(l.rel))).toBe(false)

      const p = proxy()
      p.fault = (s) =>
        s.path === "/search"
          ? {
              rewriteAnswer: (body) => {
                const b = body as { features: Array<{ links: Array<{ rel: string }> }> }
                for (const f of b.features) f.links = f.links.filter((l) => l.rel !== "canonical")
                return b
              }
            }
          : undefined
      const rt = runtime(base(p.url))
      const error = await failure(rt, (r) => r.putItems(id, [{ ...item, id: "c2", links: canonical("https://data.example.com/c2.json") }], "create"))
      expect(error.message).toContain("canonical")
      expect(error.item).toBe("c2")
      // That read-back asked only for what it checks: a whole item per id cost the server as much as the write.
      const searches = p.seen.filter((s) => s.path === "/search").map((s) => (s.body as { fields?: unknown }).fields)
      expect(searches.length).toBeGreaterThan(0)
      for (const fields of searches) expect(fields).toMatchObject({ include: ["id", "collection", "links"] })
    })

    test("X-Api-Key and bearer token are sent, and key files are re-read when they change", async () => {
      const p = proxy()
      const keyFile = path.join(temp, "stac-api-key")
      const tokenFile = path.join(temp, "stac-token")
      fs.writeFileSync(keyFile, "key-one\n")
      fs.writeFileSync(tokenFile, "token-one")
      const rt = runtime(base(p.url, { apiKeyFile: keyFile, bearerTokenFile: tokenFile }))
      const id = await newCollection(rt)
      const last = () => p.seen[p.seen.length - 1]?.headers ?? {}
      await exec(rt, (r) => r.getCollection(id))
      expect(last()["x-api-key"]).toBe("key-one")
      expect(last()["authorization"]).toBe("Bearer token-one")
      fs.writeFileSync(keyFile, "key-two\n")
      fs.writeFileSync(tokenFile, "token-two")
      // A distinct mtime even on filesystems with coarse timestamps.
      const later = new Date(Date.now() + 5000)
      fs.utimesSync(keyFile, later, later)
      fs.utimesSync(tokenFile, later, later)
      await exec(rt, (r) => r.getCollection(id))
      expect(last()["x-api-key"]).toBe("key-two")
      expect(last()["authorization"]).toBe("Bearer token-two")

      const inline = runtime(base(p.url, { apiKey: "inline-key" }))
      await exec(inline, (r) => r.getCollection(id))
      expect(last()["x-api-key"]).toBe("inline-key")
      expect(last()["authorization"]).toBeUndefined()

      const missing = runtime(base(p.url, { apiKeyFile: path.join(temp, "no-such-key") }))
      const error = await failure(missing, (r) => r.getCollection(id))
      expect(error.message).toContain("no-such-key")
    })

    test("503 and 429 are retried; 400 is not", async () => {
      const p = proxy()
      const logs: Array<string> = []
      const rt = runtime(base(p.url, { maxRetries: 3 }), logs)
      const id = await newCollection(rt)
      const reads = () => p.seen.filter((s) => s.method === "GET" && s.path === `/collections/${id}`).length
      let count = 0
      p.fault = (s) =>
        s.method === "GET" && s.path === `/collections/${id}`
          ? ++count === 1
            ? { respond: { status: 503, body: { detail: "busy" } } }
            : count === 2
              ? { respond: { status: 429, body: { detail: "slow down" }, headers: { "retry-after": "0" } } }
              : undefined
          : undefined
      expect(Option.isSome(await exec(rt, (r) => r.getCollection(id)))).toBe(true)
      expect(reads()).toBe(3)
      expect(logs.some((l) => l.includes("answered 503") && l.includes("retry 1/3"))).toBe(true)

      const before = reads()
      p.fault = (s) => (s.method === "GET" && s.path === `/collections/${id}` ? { respond: { status: 400, body: { detail: "no such thing" } } } : undefined)
      const error = await failure(rt, (r) => r.getCollection(id))
      expect(error.status).toBe(400)
      expect(error.message).toContain("no such thing")
      expect(reads()).toBe(before + 1)

      // Retries run out: the last answer is the error.
      p.fault = (s) => (s.method === "GET" && s.path === `/collections/${id}` ? { respond: { status: 502, body: "bad gateway" } } : undefined)
      const exhausted = await failure(rt, (r) => r.getCollection(id))
      expect(exhausted.status).toBe(502)
      expect(exhausted.hint).toContain("4 times")
    })

    test("a request slower than timeoutMs is abandoned and retried; without retries it fails saying so", async () => {
      const p = proxy()
      const rt = runtime(base(p.url, { timeoutMs: 300, maxRetries: 2 }))
      const id = await newCollection(rt)
      let count = 0
      p.fault = (s) => (s.path === `/collections/${id}` && ++count === 1 ? { delayMs: 1500 } : undefined)
      // A second request means the first was abandoned at the timeout: had it been awaited,
      // its (slow but successful) answer would have ended the call after one request.
      expect(Option.isSome(await exec(rt, (r) => r.getCollection(id)))).toBe(true)
      expect(count).toBe(2)

      const once = runtime(base(p.url, { timeoutMs: 300, maxRetries: 0 }))
      p.fault = (s) => (s.path === `/collections/${id}` ? { delayMs: 1500 } : undefined)
      const error = await failure(once, (r) => r.getCollection(id))
      expect(error.message).toContain("timed out after 300 ms")
      expect(error.hint).toContain("STAC_API_TIMEOUT")
    })

    test("a create whose answer was lost but which the server applied is not a conflict on retry", async () => {
      const p = proxy()
      const rt = runtime(base(p.url, { timeoutMs: 800, maxRetries: 2 }))
      const id = await newCollection(rt)
      let count = 0
      p.fault = (s) => (s.path.endsWith("/bulk_items") && Object.keys((s.body as { items?: object }).items ?? {}).length > 0 && ++count === 1 ? { delayAnswerMs: 2000 } : undefined)
      await exec(rt, (r) => r.putItems(id, many(id, 5), "create"))
      expect(count).toBe(2)
      expect(ids(await exec(direct, (r) => r.listItems(id))).length).toBe(5)
      // The same with a collection.
      const cid = unique("stacapi-lost")
      collections.push(cid)
      let posts = 0
      p.fault = (s) => (s.method === "POST" && s.path === "/collections" && ++posts === 1 ? { delayAnswerMs: 2000 } : undefined)
      await exec(rt, (r) => r.putCollection(collectionJson(cid), "create"))
      expect(posts).toBe(2)
      // A real conflict stays one.
      p.fault = () => undefined
      expect((await failure(rt, (r) => r.putCollection(collectionJson(cid), "create"))).status).toBe(409)
    })

    test("check() fails clearly: closed port, not a STAC API, transactions off, credentials refused", async () => {
      const port = await FaultProxy.closedPort()
      const closed = await failure(runtime(base(`http://127.0.0.1:${port}`, { maxRetries: 1 })), (r) => r.check())
      expect(closed.message).toContain(`127.0.0.1:${port}`)
      expect(closed.hint).toContain("STAC_API_URL")

      const opensearch = await failure(runtime(base(endpoint(env, "OPENSEARCH_URL"), { maxRetries: 0 })), (r) => r.check())
      expect(opensearch.message).toContain("not a STAC API")

      const p = proxy()
      p.fault = (s) =>
        s.path === "/conformance" || s.path === "/"
          ? {
              rewriteAnswer: (body) => {
                const b = body as { conformsTo: Array<string> }
                return { ...b, conformsTo: b.conformsTo.filter((u) => !u.includes("transaction")) }
              }
            }
          : undefined
      const off = await failure(runtime(base(p.url)), (r) => r.check())
      expect(off.message).toContain("does not accept transactions")
      expect(off.hint).toContain("ENABLE_TRANSACTIONS_EXTENSIONS=true")

      // Reads open, writes guarded: only the write probe is refused.
      p.fault = (s) => (s.method === "DELETE" ? { respond: { status: 403, body: { detail: "Forbidden" } } } : undefined)
      const forbidden = await failure(runtime(base(p.url, { apiKey: "wrong-key-123" })), (r) => r.check())
      expect(forbidden.status).toBe(403)
      expect(forbidden.hint).toContain("check STAC_API_KEY")
      expect(JSON.stringify(forbidden)).not.toContain("wrong-key-123")

      p.fault = () => ({ respond: { status: 401, body: { detail: "Unauthorized" } } })
      const unauthorized = await failure(runtime(base(p.url)), (r) => r.check())
      expect(unauthorized.status).toBe(401)
      expect(unauthorized.hint).toContain("check STAC_API_KEY")
    })

    test("credentials in the URL are sent as Basic auth and never printed", async () => {
      const p = proxy()
      const logs: Array<string> = []
      const withCreds = p.url.replace("http://", "http://hysds:s3cr3t-pa55@")
      const rt = runtime(base(withCreds, { apiKey: "key-s3cr3t-42", maxRetries: 1 }), logs)
      await exec(rt, (r) => r.check())
      const sent = p.seen[0]?.headers ?? {}
      expect(sent["authorization"]).toBe(`Basic ${Buffer.from("hysds:s3cr3t-pa55").toString("base64")}`)
      expect(sent["x-api-key"]).toBe("key-s3cr3t-42")

      p.fault = (s) => (s.method === "GET" ? { respond: { status: 503, body: { detail: "down" } } } : undefined)
      const down = await failure(rt, (r) => r.getCollection("whatever"))
      p.fault = () => ({ respond: { status: 400, body: { detail: `echoing your key key-s3cr3t-42 and Basic ${Buffer.from("hysds:s3cr3t-pa55").toString("base64")}` } } })
      const echoed = await failure(rt, (r) => r.getCollection("whatever"))
      const port = await FaultProxy.closedPort()
      const closed = await failure(
        runtime(base(`http://hysds:s3cr3t-pa55@127.0.0.1:${port}/`, { maxRetries: 0 })),
        (r) => r.getCollection("x")
      )
      const bad = await failure(runtime(base("http://hysds:s3cr3t-pa55@[not a url")), (r) => r.check())
      for (const e of [down, echoed, closed, bad]) {
        const printed = `${e.message} ${e.hint ?? ""} ${JSON.stringify(e)} ${String(e)}`
        expect(printed).not.toContain("s3cr3t")
        expect(printed).not.toContain(Buffer.from("hysds:s3cr3t-pa55").toString("base64"))
      }
      expect(closed.message).toContain(`***@127.0.0.1:${port}`)
      expect(logs.length).toBeGreaterThan(0)
      for (const l of logs) expect(l).not.toContain("s3cr3t")
    })

    test("bulkItems auto probes once; off never calls bulk_items", async () => {
      const p = proxy()
      const auto = runtime(base(p.url))
      const id = await newCollection(auto)
      await exec(auto, (r) => r.putItems(id, [itemJson(id, "a")], "create"))
      await exec(auto, (r) => r.putItems(id, [itemJson(id, "b")], "create"))
      const probes = p.seen.filter((s) => s.path.endsWith("/bulk_items") && Object.keys((s.body as { items: object }).items).length === 0)
      expect(probes.length).toBe(1)
      expect(bulkWrites(p).length).toBe(2)
      p.seen.length = 0
      const off = runtime(base(p.url, { bulkItems: "off" }))
      await exec(off, (r) => r.putItems(id, [itemJson(id, "c"), itemJson(id, "a", { v: 2 })], "replace"))
      expect(p.seen.some((s) => s.path.includes("bulk_items"))).toBe(false)
      // pgstac's PUT 404s for a missing item: it was POSTed instead.
      expect(p.seen.filter((s) => s.method === "PUT").length).toBe(2)
      expect(p.seen.filter((s) => s.method === "POST" && s.path.endsWith("/items")).length).toBe(1)
      expect(ids(await exec(off, (r) => r.listItems(id)))).toEqual(["a", "b", "c"])
    })

    test("an item without datetime is refused before anything is sent", async () => {
      const id = await newCollection()
      const { datetime: _d, ...rest } = itemJson(id, "nodt")["properties"] as Record<string, unknown>
      const error = await failure(direct, (r) => r.putItems(id, [itemJson(id, "ok"), { ...itemJson(id, "nodt"), properties: rest }], "create"))
      expect(error.status).toBe(400)
      expect(error.item).toBe("nodt")
      expect(await exec(direct, (r) => r.listItems(id))).toEqual([])
    })
  })
}
