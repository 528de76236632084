import { BunContext } from "@effect/platform-bun"
import { describe, expect, test } from "bun:test"
import { posix } from "node:path"
import * as Seeded from "./Seeded.fixture.ts"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as StacTree from "./StacTree.ts"
import type { StacNode, StacTree as Tree } from "./StacTree.ts"
import * as StacPublish from "./StacPublish.ts"

const BASE = "https://data.example.com/catalogs/stac_catalog_1"

const node = (relPath: string, type: StacNode["type"], json: Record<string, unknown>): StacNode => ({
  file: `/jobs/j1/${relPath}`,
  relPath,
  type,
  id: String(json["id"]),
  json
})

/** A self-contained tree as `readTree` would return it (publish only looks at nodes). */
const fixture = (): Tree => {
  const catalog = node("catalog.json", "Catalog", {
    type: "Catalog",
    stac_version: "1.1.0",
    id: "root",
    description: "r",
    links: [
      { rel: "root", href: "./catalog.json", type: "application/json" },
      { rel: "child", href: "./collection.json", title: "the collection" },
      { rel: "license", href: "LICENSE" },
      { rel: "via", href: "https://example.org/about" }
    ]
  })
  const collection = node("collection.json", "Collection", {
    type: "Collection",
    stac_version: "1.1.0",
    id: "coll",
    description: "c",
    license: "proprietary",
    extent: { spatial: { bbox: [[0, 0, 1, 1]] }, temporal: { interval: [[null, null]] } },
    links: [
      { rel: "root", href: "catalog.json" },
      { rel: "parent", href: "catalog.json" },
      { rel: "self", href: "https://old.example.com/collection.json", title: "old self" },
      { rel: "self", href: "./collection.json" },
      { rel: "item", href: "items/a/a.json" },
      { rel: "item", href: "items/my%20item/my%20item.json" }
    ],
    assets: { overview: { href: "./overview.png" } }
  })
  const itemA = node("items/a/a.json", "Feature", {
    type: "Feature",
    stac_version: "1.1.0",
    id: "a",
    collection: "coll",
    geometry: null,
    properties: { datetime: "2024-01-01T00:00:00Z", "custom:x": [1, 2] },
    links: [
      { rel: "root", href: "../../catalog.json" },
      { rel: "parent", href: "../../collection.json" },
      { rel: "collection", href: "../../collection.json" }
    ],
    assets: {
      data: { href: "./data.tif", roles: ["data"] },
      nested: { href: "sub/dir/b #1.tif" },
      remote: { href: "s3://bucket/key/x.tif" },
      web: { href: "https://cdn.example.com/x.png" }
    }
  })
  const itemB = node("items/my item/my item.json", "Feature", {
    type: "Feature",
    stac_version: "1.0.0",
    id: "my item",
    collection: "coll",
    geometry: null,
    properties: { datetime: "2024-01-01T00:00:00Z" },
    links: [{ rel: "collection", href: "../../collection.json" }],
    assets: { data: { href: "data.tif" } }
  })
  const nodes = [catalog, collection, itemA, itemB]
  return {
    rootFile: "/jobs/j1/catalog.json",
    rootDir: "/jobs/j1",
    root: catalog,
    nodes,
    collections: [collection],
    items: [itemA, itemB],
    files: [],
    reachable: new Set(nodes.map((n) => n.file)),
    warnings: []
  }
}

const links = (json: Record<string, unknown>) => json["links"] as ReadonlyArray<Record<string, unknown>>
const assetHrefs = (json: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(json["assets"] as Record<string, { href: string }>).map(([k, a]) => [k, a.href]))

describe("StacPublish.canonicalUrl", () => {
  test("joins with or without a trailing slash and percent-encodes segments", () => {
    expect(StacPublish.canonicalUrl(BASE, "catalog.json")).toBe(`${BASE}/catalog.json`)
    expect(StacPublish.canonicalUrl(BASE + "/", "a/b.json")).toBe(`${BASE}/a/b.json`)
    expect(StacPublish.canonicalUrl(BASE, "my item/b #1?.tif")).toBe(`${BASE}/my%20item/b%20%231%3F.tif`)
  })
})

describe("StacPublish.publish", () => {
  test("rewrites structural and other relative links to absolute URLs and keeps absolute ones", () => {
    const out = StacPublish.publish(fixture(), BASE + "/")
    expect([...out.keys()]).toEqual(["catalog.json", "collection.json", "items/a/a.json", "items/my item/my item.json"])
    expect(links(out.get("catalog.json")!)).toEqual([
      { rel: "root", href: `${BASE}/catalog.json`, type: "application/json" },
      { rel: "child", href: `${BASE}/collection.json`, title: "the collection" },
      { rel: "license", href: `${BASE}/LICENSE` },
      { rel: "via", href: "https://example.org/about" },
      { rel: "self", href: `${BASE}/catalog.json`, type: "application/json" }
    ])
    expect(links(out.get("items/a/a.json")!).map((l) => [l["rel"], l["href"]])).toEqual([
      ["root", `${BASE}/catalog.json`],
      ["parent", `${BASE}/collection.json`],
      ["collection", `${BASE}/collection.json`],
      ["self", `${BASE}/items/a/a.json`]
    ])
  })

  test("replaces existing self links with exactly one, in place", () => {
    const out = StacPublish.publish(fixture(), BASE)
    expect(links(out.get("collection.json")!)).toEqual([
      { rel: "root", href: `${BASE}/catalog.json` },
      { rel: "parent", href: `${BASE}/catalog.json` },
      { rel: "self", href: `${BASE}/collection.json`, title: "old self" },
      { rel: "item", href: `${BASE}/items/a/a.json` },
      { rel: "item", href: `${BASE}/items/my%20item/my%20item.json` }
    ])
    for (const json of out.values()) expect(links(json).filter((l) => l["rel"] === "self")).toHaveLength(1)
    const self = links(out.get("items/my item/my item.json")!).find((l) => l["rel"] === "self")
    expect(self).toEqual({ rel: "self", href: `${BASE}/items/my%20item/my%20item.json`, type: "application/geo+json" })
  })

  test("rewrites relative asset hrefs and keeps absolute ones", () => {
    const out = StacPublish.publish(fixture(), BASE)
    expect(assetHrefs(out.get("items/a/a.json")!)).toEqual({
      data: `${BASE}/items/a/data.tif`,
      nested: `${BASE}/items/a/sub/dir/b%20%231.tif`,
      remote: "s3://bucket/key/x.tif",
      web: "https://cdn.example.com/x.png"
    })
    expect(assetHrefs(out.get("items/my item/my item.json")!)).toEqual({ data: `${BASE}/items/my%20item/data.tif` })
    expect(assetHrefs(out.get("collection.json")!)).toEqual({ overview: `${BASE}/overview.png` })
  })

  test("never mutates the input and keeps every other field", () => {
    const tree = fixture()
    const before = structuredClone(tree.nodes.map((n) => n.json))
    const out = StacPublish.publish(tree, BASE)
    expect(tree.nodes.map((n) => n.json)).toEqual(before)
    const item = out.get("items/a/a.json")!
    expect(item["properties"]).toEqual({ datetime: "2024-01-01T00:00:00Z", "custom:x": [1, 2] })
    expect(item["properties"]).not.toBe(tree.nodes[2]!.json["properties"])
    const { links: _a, assets: _b, ...rest } = item
    const { links: _c, assets: _d, ...restIn } = tree.nodes[2]!.json
    expect(rest).toEqual(restIn)
  })
})

describe("StacPublish with readTree", () => {
  test("publishes a catalog read from disk", async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "stac-publish-"))
    const write = (rel: string, json: unknown) => {
      fs.mkdirSync(path.dirname(path.join(d, rel)), { recursive: true })
      fs.writeFileSync(path.join(d, rel), typeof json === "string" ? json : JSON.stringify(json))
    }
    write("catalog.json", {
      type: "Catalog",
      stac_version: "1.0.0",
      id: "root",
      description: "r",
      links: [{ rel: "item", href: "./x/x.json" }]
    })
    write("x/x.json", {
      type: "Feature",
      stac_version: "1.0.0",
      id: "x",
      geometry: { type: "Point", coordinates: [1, 2] },
      bbox: [1, 2, 1, 2],
      properties: { datetime: "2024-01-01T00:00:00Z" },
      links: [{ rel: "root", href: "../catalog.json" }],
      assets: { data: { href: "data.nc" } }
    })
    write("x/data.nc", "netcdf")
    const read = await Effect.runPromise(StacTree.readTree(path.join(d, "catalog.json")).pipe(Effect.provide(BunContext.layer)))
    // readTree keeps an item's outline only; its whole document is read again to publish it, as an ingest does.
    const tree = { ...read, nodes: read.nodes.map((n) => ({ file: n.file, relPath: n.relPath, type: n.type, id: n.id, json: JSON.parse(fs.readFileSync(n.file, "utf8")) })) }
    const out = StacPublish.publish(tree, "s3://bucket/prefix")
    expect(links(out.get("catalog.json")!)).toEqual([
      { rel: "item", href: "s3://bucket/prefix/x/x.json" },
      { rel: "self", href: "s3://bucket/prefix/catalog.json", type: "application/json" }
    ])
    expect(assetHrefs(out.get("x/x.json")!)).toEqual({ data: "s3://bucket/prefix/x/data.nc" })
    expect(tree.files.map((f) => StacPublish.canonicalUrl("s3://bucket/prefix", f.relPath))).toEqual([
      "s3://bucket/prefix/catalog.json",
      "s3://bucket/prefix/x/data.nc",
      "s3://bucket/prefix/x/x.json"
    ])
  })
})

describe("StacPublish.resolveRel and canonicalUrl, against their general rule", () => {
  // The rules restated another way: resolving through path.posix, which also drops empty and "."
  // segments and climbs at ".."; climbing above the catalog dir answers undefined.
  const resolveByPosix = (from: string, path: string): string | undefined => {
    const dir = from.includes("/") ? from.slice(0, from.lastIndexOf("/")) : ""
    const rest = path.replace(/^\/+/, "")
    const joined = posix.normalize(dir === "" ? rest : `${dir}/${rest}`).replace(/\/+$/, "")
    if (joined === ".." || joined.startsWith("../")) return undefined
    return joined === "." ? "" : joined
  }
  const encodedBySegment = (base: string, rel: string) => `${base.replace(/\/+$/, "")}/${rel.split("/").map(encodeURIComponent).join("/")}`

  // The same cases each run.
  const generated = (pieces: ReadonlyArray<string>, count: number, maxPieces: number) => {
    const next = Seeded.seeded(987654)
    return Array.from({ length: count }, () => Seeded.joined(next, pieces, 0, maxPieces))
  }

  test("resolveRel answers as path.posix resolves, on fixed and 5,000 generated paths", () => {
    const fixed = ["a", "./a", "././a/b.json", "a/b", "./items/x/x.json", ".", "..", "./", "a/", "a//b", "/a", "a/./b", "a/../b", "../a", "a/..", "a/.", "..x", ".hidden/x", "x..", ""]
    const froms = ["collection.json", "cat/collection.json", "a/b/c/item.json", ""]
    const paths = [...fixed, ...generated(["a", "b", ".", "..", "/", "./", "../", "x.json"], 5000, 7)]
    for (const from of froms) for (const p of paths) expect([from, p, StacPublish.resolveRel(from, p)]).toEqual([from, p, resolveByPosix(from, p)])
  })

  test("canonicalUrl encodes as segment-by-segment encoding does, on fixed and 5,000 generated paths", () => {
    const fixed = ["catalog.json", "a/b.json", "my item/b #1?.tif", "a%2Fb", "caf\u00e9/x", "(x)!*~'.json", "a/", "/a", ""]
    const paths = [...fixed, ...generated(["a", "/", " ", "#", "%", "\u00e9", "(", "~", "*", "'", "-", "_", ".", "?", "&", "=", "+", ":", "@"], 5000, 6)]
    for (const base of ["s3://bucket/prefix", "https://h/x/"]) for (const p of paths) expect([p, StacPublish.canonicalUrl(base, p)]).toEqual([p, encodedBySegment(base, p)])
  })
})
