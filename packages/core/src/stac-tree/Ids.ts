/**
 * The ids of the tree's collections and items. Collections and items are what
 * the registry and GRQ store, under their ids: an id the registry refuses, a
 * null geometry pgstac refuses, or two documents with one id would fail (or
 * overwrite each other) half-way through a publish, so they are refused here,
 * before anything is written. Collection ids are unique under the root; item
 * ids within their collection (the registry's key, as STAC requires). Two
 * collections may hold items of one id: GRQ keys documents by id within an
 * index, so the planner refuses them only when their documents would land in
 * one index (Plan's cross-checks).
 */
import * as Stac from "../Stac.ts"
import type { StacRules } from "../StacRegistry.ts"
import { collectionOf } from "./ItemCollection.ts"
import type { Graph, Reading, Visited } from "./Reading.ts"

/** In discovery order, so the first document with an id keeps it and the later ones are named. */
export const check = (r: Reading, graph: Graph, rules: StacRules): void => {
  // The first document of each id, not its path: a document makes its absolute path when asked.
  const collectionIds = new Map<string, Visited>()
  const itemIdsByCollection = new Map<string, Map<string, Visited>>()
  for (const v of graph.order) {
    if (v.id === undefined) continue
    // Collections and items are what the registry stores: refuse here what it would refuse
    // half-way through a publish.
    if (v.type === "Collection" || v.type === "Feature") {
      const refused = Stac.idProblem(v.id, rules)
      if (refused !== undefined) r.report(v.file, "$.id", `${refused}; rename the ${v.type === "Feature" ? "item" : "collection"}`)
    }
    if (v.type === "Feature" && rules.geometryRequired && v.json["geometry"] === null) {
      r.report(v.file, "$.geometry", "is null, but the STAC registry (pgstac) requires every item to have a geometry; give the item its footprint (or at least a point)")
    }
    if (v.type === "Collection") {
      const first = collectionIds.get(v.id)
      if (first !== undefined) r.report(v.file, "$.id", `duplicate collection id "${v.id}" (also used by ${first.relPath}); collection ids must be unique under the root`)
      else collectionIds.set(v.id, v)
    } else if (v.type === "Feature") {
      const collection = collectionOf(graph, v)
      const inCollection = collection === undefined ? undefined : (itemIdsByCollection.get(collection) ?? new Map<string, Visited>())
      const first = inCollection?.get(v.id)
      if (collection !== undefined && inCollection !== undefined && first !== undefined) {
        r.report(v.file, "$.id", `duplicate item id "${v.id}" in collection "${collection}" (also used by ${first.relPath})`)
        continue
      }
      if (collection !== undefined && inCollection !== undefined) {
        inCollection.set(v.id, v)
        itemIdsByCollection.set(collection, inCollection)
      }
    }
  }
}
