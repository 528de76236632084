/**
 * Which collection an item belongs to, and whether the item says so
 * consistently. STAC: an item's `collection` field exists iff it has a
 * `rel=collection` link, and names the collection it belongs to; an item
 * reached from a Collection (directly or through sub-catalogs) belongs to that
 * one. The registry stores items per collection and GRQ records the
 * collection, so a disagreement would publish the item under the wrong one.
 *
 * What the link's target is can only be checked once the whole tree is known
 * (LateLinks.ts); `collectionOf` is the answer the published tree uses.
 */
import { Predicate } from "effect"
import type { Graph, Reading, Visited } from "./Reading.ts"

/** Checked while walking, when the item is first reached. */
export const checkItem = (r: Reading, item: Pick<Visited, "file" | "json" | "owner">, via: { readonly from: string } | undefined): void => {
  const field = item.json["collection"]
  const links = Array.isArray(item.json["links"]) ? item.json["links"] : []
  const linkIndex = links.findIndex((l) => Predicate.isRecord(l) && l["rel"] === "collection")
  if (field !== undefined && linkIndex < 0) {
    r.report(item.file, "$.collection", `is ${JSON.stringify(field)} but the item has no rel=collection link; STAC requires both or neither`)
  }
  if (field === undefined && linkIndex >= 0) {
    r.report(item.file, `$.links[${linkIndex}]`, "the item has a rel=collection link but no collection field; STAC requires both or neither")
  }
  if (item.owner !== undefined) {
    const from = item.owner.file === via?.from ? "" : " (through a sub-catalog)"
    if (field === undefined) {
      r.report(item.file, "$.collection", `is missing, but the item is reached from collection "${item.owner.id}" (${r.rel(item.owner.file)})${from}`)
    } else if (field !== item.owner.id) {
      r.report(item.file, "$.collection", `is ${JSON.stringify(field)}, but the item is reached from collection "${item.owner.id}" (${r.rel(item.owner.file)})${from}`)
    }
  }
}

/**
 * The collection an item belongs to: the Collection above it, else the
 * Collection of the tree its `rel=collection` link names, else its
 * `collection` field. Undefined for anything but an item.
 */
export const collectionOf = (graph: Graph, v: Visited): string | undefined => {
  if (v.type !== "Feature") return undefined
  if (v.owner !== undefined) return v.owner.id
  const linked = graph.collectionLinks.get(v.key)
  const target = linked === undefined ? undefined : graph.visited.get(linked)
  if (target?.type === "Collection" && target.id !== undefined) return target.id
  return typeof v.json["collection"] === "string" ? v.json["collection"] : undefined
}
