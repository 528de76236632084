import { BunContext } from "@effect/platform-bun"
import { describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Problem } from "./Errors.ts"
import * as JobTree from "./JobTree.ts"
import * as StacTree from "./StacTree.ts"
import * as TreeIndex from "./TreeIndex.ts"

// --- fixtures ---------------------------------------------------------------

const tmp = () => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "stac-tree-")))

const write = (dir: string, rel: string, content: unknown) => {
  const file = path.join(dir, rel)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2))
  return file
}

const readJson = (dir: string, rel: string) => JSON.parse(fs.readFileSync(path.join(dir, rel), "utf8")) as Record<string, any>
const edit = (dir: string, rel: string, f: (json: Record<string, any>) => void) => {
  const json = readJson(dir, rel)
  f(json)
  write(dir, rel, json)
}

const itemDoc = (id: string, version: string, collection: string | null = "coll") => ({
  type: "Feature",
  stac_version: version,
  id,
  geometry: { type: "Point", coordinates: [10, 20] },
  bbox: [10, 20, 10, 20],
  properties: { datetime: "2024-05-01T12:00:00Z", "custom:field": { keep: true } },
  links: [
    { rel: "root", href: "../../catalog.json" },
    { rel: "parent", href: "../../collection.json" },
    ...(collection ? [{ rel: "collection", href: "../../collection.json" }] : [])
  ],
  assets: {
    data: { href: "./data.tif", type: "image/tiff; application=geotiff", roles: ["data"] },
    thumbnail: { href: "https://example.com/thumbs/" + id + ".png", roles: ["thumbnail"] }
  },
  ...(collection ? { collection } : {})
})

const ITEM_IDS = ["a", "b", "c"]

/** catalog.json → collection.json → items/<id>/<id>.json (+ items/<id>/data.tif). */
const validCatalog = (version = "1.1.0") => {
  const d = tmp()
  write(d, "catalog.json", {
    type: "Catalog",
    stac_version: version,
    id: "root",
    description: "root catalog",
    links: [
      { rel: "root", href: "./catalog.json" },
      { rel: "child", href: "./collection.json" }
    ]
  })
  write(d, "collection.json", {
    type: "Collection",
    stac_version: version,
    id: "coll",
    description: "a collection",
    license: "proprietary",
    extent: { spatial: { bbox: [[10, 20, 10, 20]] }, temporal: { interval: [["2024-05-01T12:00:00Z", null]] } },
    links: [
      { rel: "root", href: "./catalog.json" },
      { rel: "parent", href: "./catalog.json" },
      { rel: "license", href: "./LICENSE" },
      ...ITEM_IDS.map((id) => ({ rel: "item", href: `./items/${id}/${id}.json` }))
    ]
  })
  write(d, "LICENSE", "all rights reserved")
  for (const id of ITEM_IDS) {
    write(d, `items/${id}/${id}.json`, itemDoc(id, version))
    write(d, `items/${id}/data.tif`, "tif-" + id)
  }
  return d
}

const run = (file: string) => Effect.runPromise(StacTree.readTree(file).pipe(Effect.either, Effect.provide(BunContext.layer)))

const ok = async (file: string) => {
  const r = await run(file)
  if (Either.isLeft(r)) throw new Error(`expected a valid tree, got:\n${r.left.problems.map((p) => `${p.file} ${p.path}: ${p.message}`).join("\n")}`)
  return r.right
}

const problemsOf = async (file: string): Promise<ReadonlyArray<Problem>> => {
  const r = await run(file)
  if (Either.isRight(r)) throw new Error("expected the tree to be invalid")
  expect(r.left._tag).toBe("ValidationError")
  expect(r.left.problems.length).toBeGreaterThan(0)
  return r.left.problems
}

/** Exactly one problem, which must be about `file` at `jsonPath` and mention `text`. */
const expectOnly = (problems: ReadonlyArray<Problem>, file: string, jsonPath: string, text: string) => {
  expect(problems.map((p) => ({ file: p.file, path: p.path }))).toEqual([{ file, path: jsonPath }])
  expect(problems[0]!.message).toContain(text)
}

// --- tests ------------------------------------------------------------------

describe("StacTree.readTree: valid catalogs", () => {
  test("reads a 1.1.0 catalog → collection → items with assets", async () => {
    const d = validCatalog("1.1.0")
    const tree = await ok(path.join(d, "catalog.json"))
    expect(tree.rootFile).toBe(path.join(d, "catalog.json"))
    expect(tree.rootDir).toBe(d)
    expect(tree.root.type).toBe("Catalog")
    expect(tree.nodes.map((n) => [n.relPath, n.type, n.id])).toEqual([
      ["catalog.json", "Catalog", "root"],
      ["collection.json", "Collection", "coll"],
      ["items/a/a.json", "Feature", "a"],
      ["items/b/b.json", "Feature", "b"],
      ["items/c/c.json", "Feature", "c"]
    ])
    expect(tree.collections.map((n) => n.id)).toEqual(["coll"])
    expect(tree.items.map((n) => [n.id, n.collection, n.parent])).toEqual(
      ITEM_IDS.map((id) => [id, "coll", path.join(d, "collection.json")])
    )
    expect(tree.root.parent).toBeUndefined()
    expect(tree.nodes[1]!.parent).toBe(path.join(d, "catalog.json"))
    expect(tree.reachable).toEqual(new Set(tree.nodes.map((n) => n.file)))
    expect(tree.files.map((f) => f.relPath)).toEqual([
      "LICENSE",
      "catalog.json",
      "collection.json",
      "items/a/a.json",
      "items/a/data.tif",
      "items/b/b.json",
      "items/b/data.tif",
      "items/c/c.json",
      "items/c/data.tif"
    ])
    // A collection keeps its document as read, extra fields included, but not its links; an item only its outline.
    const { links, ...collection } = readJson(d, "collection.json") as Record<string, unknown>
    expect(links).toBeArray()
    expect(tree.collections[0]!.json).toEqual(collection)
    const item = readJson(d, "items/a/a.json") as Record<string, any>
    expect(tree.items[0]!.json).toEqual({
      type: "Feature",
      stac_version: item.stac_version,
      id: "a",
      collection: "coll",
      // Its time and bbox were checked against its collection's extent as it was read: not kept.
      assets: Object.fromEntries(Object.entries(item.assets as Record<string, { href: string }>).map(([k, v]) => [k, { href: v.href }]))
    })
  })

  test("reads a 1.0.0 catalog as 1.1.0, one warning per migrated document, the files untouched", async () => {
    const d = validCatalog("1.0.0")
    const before = fs.readFileSync(path.join(d, "items/a/a.json"), "utf8")
    const tree = await ok(path.join(d, "catalog.json"))
    expect(tree.nodes).toHaveLength(5)
    expect(tree.nodes.map((n) => n.json["stac_version"])).toEqual(Array(5).fill("1.1.0"))
    expect(tree.warnings.map((w) => [path.relative(d, w.file), w.path])).toEqual(
      ["catalog.json", "collection.json", "items/a/a.json", "items/b/b.json", "items/c/c.json"].map((f) => [f, "$.stac_version"])
    )
    expect(tree.warnings[0]!.message).toContain("migrated from STAC 1.0.0 to 1.1.0")
    expect(fs.readFileSync(path.join(d, "items/a/a.json"), "utf8")).toBe(before)
  })

  test("a 1.1.0 catalog has no warnings", async () => {
    const tree = await ok(path.join(validCatalog("1.1.0"), "catalog.json"))
    expect(tree.warnings).toEqual([])
  })

  test("accepts a collection.json root, a relative root path and remote self links", async () => {
    const d = validCatalog()
    fs.rmSync(path.join(d, "catalog.json"))
    edit(d, "collection.json", (c) => {
      c.links = c.links.filter((l: any) => l.rel !== "parent" && l.rel !== "root")
      c.links.push({ rel: "self", href: "https://example.com/coll/collection.json" })
    })
    for (const id of ITEM_IDS) {
      edit(d, `items/${id}/${id}.json`, (i) => {
        i.links = i.links.filter((l: any) => l.rel !== "root")
      })
    }
    const tree = await ok(path.relative(process.cwd(), path.join(d, "collection.json")))
    expect(tree.root.type).toBe("Collection")
    expect(tree.collections).toEqual([tree.root])
    expect(tree.items.map((i) => i.collection)).toEqual(["coll", "coll", "coll"])
  })

  /** A root catalog with `links`, and an item x.json beside it with no Collection above it. */
  const looseItem = (links: ReadonlyArray<{ rel: string; href: string }>, collection: string | null, itemLinks: ReadonlyArray<{ rel: string; href: string }>) => {
    const d = tmp()
    write(d, "catalog.json", { type: "Catalog", stac_version: "1.1.0", id: "root", description: "r", links })
    const { links: _l, ...x } = itemDoc("x", "1.1.0", collection)
    write(d, "x.json", { ...x, links: [{ rel: "root", href: "./catalog.json" }, ...itemLinks], assets: {} })
    return d
  }

  test("items below a sub-catalog of a catalog may belong to no collection", async () => {
    const d = looseItem([{ rel: "item", href: "./x.json" }], null, [])
    const tree = await ok(path.join(d, "catalog.json"))
    expect(tree.items.map((i) => [i.id, i.collection])).toEqual([["x", undefined]])
  })

  /** Item x beside the root catalog, linked to collection coll (a child of the root) whose time starts at `start`. */
  const linkedToCollection = (start: string, collectionLinks: ReadonlyArray<{ rel: string; href: string }> = []) => {
    const d = looseItem([{ rel: "child", href: "./coll/collection.json" }, { rel: "item", href: "./x.json" }], "coll", [
      { rel: "collection", href: "./coll/collection.json" }
    ])
    write(d, "coll/collection.json", {
      type: "Collection", stac_version: "1.1.0", id: "coll", description: "c", license: "proprietary",
      extent: { spatial: { bbox: [[-180, -90, 180, 90]] }, temporal: { interval: [[start, null]] } },
      links: [{ rel: "root", href: "../catalog.json" }, { rel: "parent", href: "../catalog.json" }, ...collectionLinks]
    })
    return d
  }

  test("an item with no Collection above it belongs to the collection its rel=collection link names", async () => {
    const d = linkedToCollection("2024-01-01T00:00:00Z")
    const tree = await ok(path.join(d, "catalog.json"))
    expect(tree.items.map((i) => [i.id, i.collection])).toEqual([["x", "coll"]])
  })

  test("an item outside its collection's extent is warned about once, whether its collection is the one above it or the one its link names", async () => {
    // x has no Collection above it (its link names coll); y is an item of coll. Both are dated before coll's extent.
    const d = linkedToCollection("2030-01-01T00:00:00Z", [{ rel: "item", href: "./y.json" }])
    const { links: _l, ...y } = itemDoc("y", "1.1.0", "coll")
    write(d, "coll/y.json", { ...y, links: [{ rel: "root", href: "../catalog.json" }, { rel: "collection", href: "./collection.json" }], assets: {} })
    const tree = await ok(path.join(d, "catalog.json"))
    expect(tree.items.map((i) => [i.id, i.collection])).toEqual([["y", "coll"], ["x", "coll"]])
    expect(tree.warnings.map((w) => [path.relative(d, w.file), w.path, w.message.includes("temporal extent of its collection coll")])).toEqual([
      ["coll/y.json", "$.properties.datetime", true],
      ["x.json", "$.properties.datetime", true]
    ])
  })

  test("isStacRootCandidate", () => {
    expect(StacTree.isStacRootCandidate("catalog.json")).toBe(true)
    expect(StacTree.isStacRootCandidate("/jobs/x/collection.json")).toBe(true)
    expect(StacTree.isStacRootCandidate("item.json")).toBe(false)
    expect(StacTree.isStacRootCandidate("my-catalog.json")).toBe(false)
  })
})

describe("StacTree.readTree: invalid catalogs", () => {
  test("asset escaping with ..", async () => {
    const d = validCatalog()
    fs.writeFileSync(path.join(path.dirname(d), "outside.tif"), "x")
    edit(d, "items/a/a.json", (i) => (i.assets.data.href = "../../../outside.tif"))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expectOnly(ps, path.join(d, "items/a/a.json"), "$.assets.data.href", "resolves outside the catalog directory")
  })

  test("asset with an absolute local path", async () => {
    const d = validCatalog()
    edit(d, "items/b/b.json", (i) => (i.assets.data.href = path.join(d, "items/b/data.tif")))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expectOnly(ps, path.join(d, "items/b/b.json"), "$.assets.data.href", "absolute local path")
  })

  test("file: hrefs on assets and links", async () => {
    const d = validCatalog()
    edit(d, "items/a/a.json", (i) => (i.assets.data.href = "file:///etc/passwd"))
    edit(d, "collection.json", (c) => (c.links.find((l: any) => l.rel === "license").href = "file:///etc/passwd"))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expect(ps.map((p) => [p.file, p.path])).toEqual([
      [path.join(d, "collection.json"), "$.links[2].href"],
      [path.join(d, "items/a/a.json"), "$.assets.data.href"]
    ])
    for (const p of ps) expect(p.message).toContain("file: URL")
  })

  test("symlinked asset pointing outside the directory", async () => {
    const d = validCatalog()
    const outside = path.join(tmp(), "secret.tif")
    fs.writeFileSync(outside, "secret")
    fs.rmSync(path.join(d, "items/c/data.tif"))
    fs.symlinkSync(outside, path.join(d, "items/c/data.tif"))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    // once from the item's href, once from the file listing (which is what gets published)
    expect(ps.map((p) => [p.file, p.path])).toEqual([
      [path.join(d, "items/c/c.json"), "$.assets.data.href"],
      [path.join(d, "items/c/data.tif"), ""]
    ])
    expect(ps[0]!.message).toContain("symlink leading outside")
    expect(ps[0]!.message).toContain(outside)
    expect(ps[1]!.message).toContain("outside")
  })

  test("child link cycle", async () => {
    const d = validCatalog()
    write(d, "sub/catalog.json", {
      type: "Catalog",
      stac_version: "1.1.0",
      id: "sub",
      description: "s",
      links: [
        { rel: "parent", href: "../catalog.json" },
        { rel: "child", href: "../catalog.json" }
      ]
    })
    edit(d, "catalog.json", (c) => c.links.push({ rel: "child", href: "./sub/catalog.json" }))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expectOnly(ps, path.join(d, "sub/catalog.json"), "$.links[1].href", "link cycle: catalog.json → sub/catalog.json → catalog.json")
  })

  test("the same document reached twice", async () => {
    const d = validCatalog()
    edit(d, "catalog.json", (c) => c.links.push({ rel: "child", href: "collection.json" }))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expectOnly(ps, path.join(d, "catalog.json"), "$.links[2].href", "reached twice")
  })

  test("dangling child link", async () => {
    const d = validCatalog()
    edit(d, "catalog.json", (c) => c.links.push({ rel: "child", href: "./missing/catalog.json" }))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expectOnly(ps, path.join(d, "catalog.json"), "$.links[2].href", "dangling: missing/catalog.json does not exist")
  })

  test("duplicate item id in a collection", async () => {
    const d = validCatalog()
    edit(d, "items/c/c.json", (i) => (i.id = "a"))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expectOnly(ps, path.join(d, "items/c/c.json"), "$.id", 'duplicate item id "a" in collection "coll" (also used by items/a/a.json)')
  })

  test("duplicate collection id; the same item id in two collections is not the tree's to refuse", async () => {
    const d = validCatalog()
    // a second collection with a *different* id holding an item "a": allowed by STAC (ids are
    // unique within a collection); the planner refuses it only if GRQ would index both in one index
    write(d, "other/collection.json", { ...readJson(d, "collection.json"), id: "other", links: [{ rel: "item", href: "./a.json" }] })
    write(d, "other/a.json", { ...itemDoc("a", "1.1.0", "other"), links: [{ rel: "collection", href: "./collection.json" }], assets: {} })
    // and a third one reusing the id "coll"
    write(d, "dup/collection.json", { ...readJson(d, "collection.json"), links: [] })
    edit(d, "catalog.json", (c) => c.links.push({ rel: "child", href: "./other/collection.json" }, { rel: "child", href: "./dup/collection.json" }))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expect(ps.map((p) => [p.file, p.path])).toEqual([[path.join(d, "dup/collection.json"), "$.id"]])
    expect(ps[0]!.message).toContain('duplicate collection id "coll" (also used by collection.json)')
  })

  test("broken JSON", async () => {
    const d = validCatalog()
    write(d, "items/b/b.json", '{"type": "Feature", "id": ')
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expectOnly(ps, path.join(d, "items/b/b.json"), "", "malformed JSON")
  })

  test("item with a collection field but no collection link", async () => {
    const d = validCatalog()
    edit(d, "items/a/a.json", (i) => (i.links = i.links.filter((l: any) => l.rel !== "collection")))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expectOnly(ps, path.join(d, "items/a/a.json"), "$.collection", "no rel=collection link")
  })

  test("item reached from a collection without a collection field, or with another id", async () => {
    const d = validCatalog()
    edit(d, "items/a/a.json", (i) => {
      delete i.collection
      i.links = i.links.filter((l: any) => l.rel !== "collection")
    })
    edit(d, "items/b/b.json", (i) => (i.collection = "elsewhere"))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expect(ps.map((p) => [p.file, p.path])).toEqual([
      [path.join(d, "items/a/a.json"), "$.collection"],
      [path.join(d, "items/b/b.json"), "$.collection"],
      [path.join(d, "items/b/b.json"), "$.collection"]
    ])
    expect(ps[0]!.message).toContain('is missing, but the item is reached from collection "coll"')
    expect(ps[1]!.message).toContain('is "elsewhere", but the item is reached from collection "coll"')
    expect(ps[2]!.message).toContain('is "elsewhere", but the rel=collection link points at collection "coll"')
  })

  test("null datetime without start/end", async () => {
    const d = validCatalog()
    edit(d, "items/c/c.json", (i) => (i.properties.datetime = null))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expectOnly(ps, path.join(d, "items/c/c.json"), "$.properties.datetime", "start_datetime and end_datetime are required")
  })

  test("missing asset file, and an asset that is a directory", async () => {
    const d = validCatalog()
    fs.rmSync(path.join(d, "items/a/data.tif"))
    edit(d, "items/b/b.json", (i) => (i.assets.data.href = "."))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expect(ps.map((p) => [p.file, p.path])).toEqual([
      [path.join(d, "items/a/a.json"), "$.assets.data.href"],
      [path.join(d, "items/b/b.json"), "$.assets.data.href"]
    ])
    expect(ps[0]!.message).toContain("items/a/data.tif does not exist")
    expect(ps[1]!.message).toContain("not a regular file (Directory)")
  })

  test("fifo in the directory (also as an asset, without ever opening it)", async () => {
    const d = validCatalog()
    Bun.spawnSync(["mkfifo", path.join(d, "items/a/pipe")])
    edit(d, "items/a/a.json", (i) => (i.assets.pipe = { href: "./pipe" }))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expect(ps.map((p) => [p.file, p.path])).toEqual([
      [path.join(d, "items/a/a.json"), "$.assets.pipe.href"],
      [path.join(d, "items/a/pipe"), ""]
    ])
    expect(ps[0]!.message).toContain("not a regular file (FIFO)")
    expect(ps[1]!.message).toContain("not a regular file")
  })

  test("wrong link targets, remote tree links, unsupported schemes and bad root links", async () => {
    const d = validCatalog()
    write(d, "stray/s.json", { ...itemDoc("s", "1.1.0", null), links: [], assets: {} })
    edit(d, "catalog.json", (c) =>
      c.links.push(
        { rel: "child", href: "./stray/s.json" }, // an item, not a catalog
        { rel: "child", href: "https://other.example.com/catalog.json" }
      )
    )
    edit(d, "collection.json", (c) => (c.links.find((l: any) => l.rel === "root").href = "./items/b/b.json"))
    edit(d, "items/c/c.json", (i) => (i.assets.ftp = { href: "ftp://host/x.tif" }))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expect(ps.map((p) => [p.file, p.path])).toEqual([
      [path.join(d, "items/c/c.json"), "$.assets.ftp.href"],
      [path.join(d, "catalog.json"), "$.links[2].href"],
      [path.join(d, "catalog.json"), "$.links[3].href"],
      [path.join(d, "collection.json"), "$.links[0].href"]
    ])
    expect(ps[0]!.message).toContain('unsupported URL scheme "ftp:"')
    expect(ps[1]!.message).toContain("child link points at a Feature (stray/s.json); expected Catalog or Collection")
    expect(ps[2]!.message).toContain("remote document")
    expect(ps[3]!.message).toContain("not at the root document catalog.json")
  })

  test("root, parent and collection links are judged against the whole tree, and reported after the walk's own problems", async () => {
    const d = validCatalog()
    write(d, "stray/s.json", { ...itemDoc("s", "1.1.0", null), links: [], assets: {} })
    // A parent link to a document the walk reaches only later (item c comes after the collection): fine.
    edit(d, "collection.json", (c) => (c.links.find((l: any) => l.rel === "parent").href = "./items/c/c.json"))
    // Met on item a, before item c's own problem; reported after it, with the whole tree known.
    edit(d, "items/a/a.json", (i) => (i.links.find((l: any) => l.rel === "parent").href = "../../stray/s.json"))
    edit(d, "items/c/c.json", (i) => (i.assets.ftp = { href: "ftp://host/x.tif" }))
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expect(ps.map((p) => [p.file, p.path])).toEqual([
      [path.join(d, "items/c/c.json"), "$.assets.ftp.href"],
      [path.join(d, "items/a/a.json"), "$.links[1].href"]
    ])
    expect(ps[1]!.message).toContain("parent link points at stray/s.json, which is not a document of this catalog tree")
  })

  test("reports every problem of a tree at once", async () => {
    const d = validCatalog()
    edit(d, "items/a/a.json", (i) => {
      i.assets.data.href = "../../../escape.tif"
      i.stac_version = "0.8.0"
    })
    write(d, "items/b/b.json", "not json")
    fs.rmSync(path.join(d, "items/c/data.tif"))
    edit(d, "catalog.json", (c) => c.links.push({ rel: "child", href: "./nope.json" }))
    Bun.spawnSync(["mkfifo", path.join(d, "fifo")])
    const r = await run(path.join(d, "catalog.json"))
    if (Either.isRight(r)) throw new Error("expected failure")
    const e = r.left
    const summary = e.problems.map((p) => [path.relative(d, p.file), p.path])
    expect(summary).toEqual([
      ["items/a/a.json", "$.stac_version"],
      ["items/a/a.json", "$.assets.data.href"],
      ["items/b/b.json", ""],
      ["items/c/c.json", "$.assets.data.href"],
      ["catalog.json", "$.links[2].href"],
      ["fifo", ""]
    ])
    expect(e.message).toBe(`STAC catalog ${path.join(d, "catalog.json")} is invalid (6 problems)`)
  })

  test("a missing root file is one problem", async () => {
    const d = tmp()
    const ps = await problemsOf(path.join(d, "catalog.json"))
    expectOnly(ps, path.join(d, "catalog.json"), "", "not found")
  })
})

describe("StacTree.readTree: hrefs the planning index cannot answer", () => {
  // The index answers nearly every href at once; a directory it could not list
  // (as an unreadable one) leaves its paths to the file system. Either way the
  // checks and their reports must be the same, in the same order.
  const readWith = (file: string, unlisted: string | undefined) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const port = yield* JobTree.current
        const dir = path.dirname(file)
        const index = yield* TreeIndex.scan({ ...port, list: (d) => (d === unlisted ? Effect.succeed(undefined) : port.list(d)) }, dir)
        return yield* StacTree.readTree(file, undefined, undefined, index)
      }).pipe(Effect.either, Effect.provide(BunContext.layer))
    )

  test("an item and an asset under a directory the index could not list are read and checked through the file system, reports in asset order", async () => {
    const d = validCatalog()
    // Item a moves under deep/ (the directory the index is not given); its first asset
    // lives there too, missing; its second is missing where the index does answer.
    fs.mkdirSync(path.join(d, "deep"))
    fs.renameSync(path.join(d, "items", "a"), path.join(d, "deep", "a"))
    edit(d, "collection.json", (c) => (c.links.find((l: { href: string }) => l.href === "./items/a/a.json").href = "./deep/a/a.json"))
    edit(d, "deep/a/a.json", (item) => {
      item.links = item.links.map((l: { rel: string }) => ({ ...l, href: l.rel === "root" ? "../../catalog.json" : "../../collection.json" }))
      item.assets = { first: { href: "./gone-1.tif" }, second: { href: "../../items/b/gone-2.tif" }, data: { href: "./data.tif" } }
    })
    const file = path.join(d, "catalog.json")
    const problems = (r: Either.Either<StacTree.StacTree, { problems: ReadonlyArray<Problem> }>) => (Either.isLeft(r) ? r.left.problems : [])
    const withIndex = await readWith(file, undefined)
    const deepUnlisted = await readWith(file, path.join(d, "deep", "a"))
    const item = path.join(d, "deep", "a", "a.json")
    expect(problems(withIndex).map((p) => [p.file, p.path])).toEqual([
      [item, "$.assets.first.href"],
      [item, "$.assets.second.href"]
    ])
    expect(problems(withIndex)[0]!.message).toContain("names a missing file")
    expect(problems(deepUnlisted)).toEqual(problems(withIndex))
  })
})
