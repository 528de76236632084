/**
 * What the tree keeps of a document once the walk has checked it. Of an item, the members
 * that the whole-tree checks (LateLinks, Ids, ItemCollection.collectionOf,
 * Extents) and the plan (asset paths, the GRQ index of each item) read after
 * the walk, and nothing else.
 *
 * Why: a catalog may hold 100,000 items, and holding every parsed document
 * until the walk ended made a plan's memory grow with the catalog (about 2 KiB
 * per item before the garbage collector's own share). Everything else of an
 * item is checked while its document is at hand, and the publish reads each
 * document again, batch by batch (StacSource), so nothing needs the rest.
 */
import { Predicate } from "effect"

/** Of `properties`: the item's time (extent checks) and its version (the GRQ index its document lands in). */
const PROPERTIES = ["datetime", "start_datetime", "end_datetime", "version"] as const
/** Of `properties` once the item's time was checked against its collection's extent (Extents.checkItem). */
const VERSION_ONLY = ["version"] as const

export const item = (
  json: Record<string, unknown>,
  /** Its time and bbox are checked already (its collection was known when it was read): not kept. */
  extentChecked = false
): Record<string, unknown> => {
  const out: Record<string, unknown> = { type: json["type"], stac_version: json["stac_version"], id: json["id"] }
  if ("collection" in json) out["collection"] = json["collection"]
  // Only whether it is null matters afterwards (a registry refusing null geometry).
  if (json["geometry"] === null) out["geometry"] = null
  if ("bbox" in json && !extentChecked) out["bbox"] = json["bbox"]
  const properties = json["properties"]
  if (Predicate.isRecord(properties)) {
    const kept: Record<string, unknown> = {}
    for (const k of extentChecked ? VERSION_ONLY : PROPERTIES) if (k in properties) kept[k] = properties[k]
    // An empty object is 60 bytes more of each of 100,000 items, and says nothing.
    if (Object.keys(kept).length > 0) out["properties"] = kept
  }
  const assets = json["assets"]
  if (Predicate.isRecord(assets)) {
    const hrefs: Record<string, unknown> = {}
    for (const [name, asset] of Object.entries(assets)) {
      if (Predicate.isRecord(asset) && typeof asset["href"] === "string") hrefs[name] = { href: asset["href"] }
    }
    out["assets"] = hrefs
  }
  return out
}

/**
 * What the tree keeps of a catalog or collection: all of it but its links.
 * Why: a collection links each of its items (100,000 link objects and hrefs,
 * about 14 MiB), the walk has followed and checked them, and the publish reads
 * the document again; no later check reads them.
 */
export const parent = (json: Record<string, unknown>): Record<string, unknown> => {
  if (!("links" in json)) return json
  const { links: _, ...rest } = json
  return rest
}
