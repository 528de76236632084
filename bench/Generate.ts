/**
 * A synthetic job for benchmarks: one STAC catalog with a collection of N items,
 * each with K asset files of a given size, in a job dir with its datasets.json.
 * Ids carry a run tag so repeated runs against shared servers never collide.
 */
import * as fs from "node:fs"
import * as path from "node:path"

export interface Shape {
  readonly items: number
  readonly assets: number
  readonly assetBytes: number
  readonly tag: string
}

/** The ids a job generated with `tag` has (what it publishes, for those who remove it). */
export const namesOf = (tag: string) => ({
  catalogId: `stac_catalog_bench_${tag}`,
  collection: `bench-${tag}`,
  itemId: (i: number) => `bench-${tag}-item-${String(i).padStart(6, "0")}`
})

export const generate = (root: string, shape: Shape): { readonly jobDir: string; readonly datasets: string; readonly bytes: number } => {
  const jobDir = path.join(root, `job-${shape.tag}`)
  const { catalogId, collection, itemId } = namesOf(shape.tag)
  const base = path.join(jobDir, catalogId)
  fs.mkdirSync(path.join(base, collection, "items"), { recursive: true })
  fs.writeFileSync(path.join(jobDir, "_job.json"), JSON.stringify({ task_id: `bench-${shape.tag}`, job_info: { status: "job-completed", exit_code: 0 } }))
  const json = (file: string, value: unknown) => fs.writeFileSync(file, JSON.stringify(value))
  json(path.join(base, "catalog.json"), {
    type: "Catalog", stac_version: "1.1.0", id: catalogId, description: "benchmark catalog",
    links: [{ rel: "root", href: "./catalog.json" }, { rel: "child", href: `./${collection}/collection.json` }]
  })
  const payload = Buffer.alloc(shape.assetBytes, 7)
  const itemLinks = []
  let bytes = 0
  for (let i = 0; i < shape.items; i++) {
    const id = itemId(i)
    const dir = path.join(base, collection, "items", id)
    fs.mkdirSync(dir)
    const assets: Record<string, unknown> = {}
    for (let k = 0; k < shape.assets; k++) {
      fs.writeFileSync(path.join(dir, `asset-${k}.bin`), payload)
      bytes += payload.length
      assets[`asset-${k}`] = { href: `./asset-${k}.bin`, type: "application/octet-stream", roles: ["data"] }
    }
    const x = (i % 360) - 180 + 0.25
    const y = ((i * 7) % 170) - 85 + 0.25
    json(path.join(dir, `${id}.json`), {
      type: "Feature", stac_version: "1.1.0", id, collection,
      geometry: { type: "Point", coordinates: [x, y] }, bbox: [x, y, x, y],
      properties: { datetime: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString() },
      links: [{ rel: "root", href: "../../../catalog.json" }, { rel: "parent", href: "../../collection.json" }, { rel: "collection", href: "../../collection.json" }],
      assets
    })
    itemLinks.push({ rel: "item", href: `./items/${id}/${id}.json` })
  }
  json(path.join(base, collection, "collection.json"), {
    type: "Collection", stac_version: "1.1.0", id: collection, description: "benchmark collection", license: "proprietary",
    extent: { spatial: { bbox: [[-180, -90, 180, 90]] }, temporal: { interval: [["2024-01-01T00:00:00Z", null]] } },
    links: [{ rel: "root", href: "../catalog.json" }, { rel: "parent", href: "../catalog.json" }, ...itemLinks]
  })
  const datasets = path.join(root, `datasets-${shape.tag}.json`)
  json(datasets, {
    datasets: [{
      ipath: "hysds::stac/catalog", version: "stac_catalog", level: "catalog", type: "stac_catalog",
      match_pattern: "/(?P<id>stac_catalog_.+)$",
      publish: { location: "s3://{{ BENCH_BUCKET | default('hysds-stac-bench') }}/catalogs/${id}", urls: ["https://bench.example.com/catalogs/${id}"] }
    }]
  })
  return { jobDir, datasets, bytes }
}
