/**
 * Turning a validated, self-contained catalog tree into its "absolute-published"
 * form: every href an absolute URL under the location the catalog directory is
 * uploaded to, and a `self` link on every document (STAC 1.1.0 wants `self`
 * absolute). Readers of the published JSON — STAC APIs, browsers, GRQ — then never
 * have to guess what a relative href was relative to.
 *
 * Pure: the tree's JSON is deep-copied, never mutated, so the same tree can be
 * published to several places (or compared against what was read).
 */
import { Predicate } from "effect"
import * as Stac from "./Stac.ts"
import type { StacNode, StacTree } from "./StacTree.ts"

/** `baseUrl` without trailing slashes, so both `.../cat` and `.../cat/` work. */
const trimBase = (baseUrl: string): string => baseUrl.replace(/\/+$/, "")

/**
 * The published URL of the file at `relPath` (relative to the catalog directory,
 * `/`-separated). Each segment is percent-encoded, so a file named `a b#1.tif` gets a
 * URL that resolves back to exactly that object key.
 */
export const canonicalUrl = (baseUrl: string, relPath: string): string =>
  UNENCODED.test(relPath) ? `${trimBase(baseUrl)}/${relPath}` : `${trimBase(baseUrl)}/${relPath.split("/").map(encodeURIComponent).join("/")}`

/**
 * A path that percent-encoding its segments leaves as it is (encodeURIComponent's
 * unreserved characters, and the separators). Why a fast path: a collection
 * links each of 100,000 items, and splitting, mapping and joining each href was
 * most of the 53 MB of garbage (RSS) that publishing such a collection made.
 */
const UNENCODED = /^[A-Za-z0-9\-_.!~*'()/]*$/

/**
 * `path` without its leading "./"s when what is left only goes down (no "." or
 * ".." segment, no empty one), else undefined: resolving it is then appending
 * it, without splitting (nearly every href of a catalog; see UNENCODED).
 */
const downward = (path: string): string | undefined => {
  let rest = path
  while (rest.startsWith("./")) rest = rest.slice(2)
  if (rest === "" || rest.startsWith("/") || rest.endsWith("/")) return undefined
  if (rest.includes("//") || rest === "." || rest === ".." || rest.startsWith("../") || rest.endsWith("/.") || rest.endsWith("/..")) return undefined
  if (rest.includes("/./") || rest.includes("/../")) return undefined
  return rest
}

/**
 * Resolves a percent-decoded relative path against the directory of `fromRelPath`,
 * giving a path relative to the catalog directory. Returns undefined when it would
 * climb above it (which `readTree` already refuses; this is only a safety net).
 */
export const resolveRel = (fromRelPath: string, path: string): string | undefined => {
  const down = downward(path)
  if (down !== undefined) {
    const slash = fromRelPath.lastIndexOf("/")
    return slash < 0 ? down : `${fromRelPath.slice(0, slash)}/${down}`
  }
  const parts = fromRelPath.split("/").slice(0, -1)
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue
    if (seg === "..") {
      if (parts.length === 0) return undefined
      parts.pop()
    } else parts.push(seg)
  }
  return parts.join("/")
}

/** Absolute URL for an href found in `node`; absolute URLs (and anything unresolvable) are kept. */
const absolutize = (baseUrl: string, node: StacNode, href: string): string => {
  const kind = Stac.classifyHref(href)
  if (kind._tag !== "Relative") return href
  const target = resolveRel(node.relPath, kind.path)
  return target === undefined ? href : canonicalUrl(baseUrl, target)
}

/** One document in published form; `node.json` is left untouched. */
export const publishNode = (node: StacNode, baseUrl: string): Record<string, unknown> =>
  publishInPlace({ file: node.file, relPath: node.relPath, type: node.type, id: node.id, json: structuredClone(node.json) }, baseUrl)

/**
 * As publishNode, turning `node.json` itself into the published form: for a
 * document just read, which nothing else holds (the publish reads every item
 * again; copying each was a cost of its own).
 */
export const publishInPlace = (node: StacNode, baseUrl: string): Record<string, unknown> => {
  const json = node.json
  const selfHref = canonicalUrl(baseUrl, node.relPath)

  const links: Array<unknown> = []
  let hasSelf = false
  for (const link of Array.isArray(json["links"]) ? json["links"] : []) {
    if (!Predicate.isRecord(link) || typeof link["href"] !== "string") {
      links.push(link)
    } else if (link["rel"] === "self") {
      // Replace the first self link's href (keeping its other fields); drop any extra.
      if (!hasSelf) {
        link["href"] = selfHref
        links.push(link)
      }
      hasSelf = true
    } else {
      // The link object itself, not a copy: a collection has one per item (100,000 copies were 8 MB more).
      link["href"] = absolutize(baseUrl, node, link["href"])
      links.push(link)
    }
  }
  if (!hasSelf) links.push({ rel: "self", href: selfHref, type: node.type === "Feature" ? "application/geo+json" : "application/json" })
  json["links"] = links

  const assets = json["assets"]
  if (Predicate.isRecord(assets)) {
    for (const asset of Object.values(assets)) {
      if (Predicate.isRecord(asset) && typeof asset["href"] === "string") asset["href"] = absolutize(baseUrl, node, asset["href"])
    }
  }
  return json
}

/**
 * The absolute-published version of every STAC document of `tree`, keyed by its
 * path relative to the catalog directory. `baseUrl` is where the directory's
 * content will live, e.g. `https://data.example.com/catalogs/stac_catalog_1`.
 * Its nodes must hold whole documents: `readTree` keeps only an outline of
 * each document (an item's checked fields, a catalog's all but its links), so
 * an ingest publishes document by document instead (StacSource).
 */
export const publish = (tree: StacTree, baseUrl: string): ReadonlyMap<string, Record<string, unknown>> =>
  new Map(tree.nodes.map((node) => [node.relPath, publishNode(node, baseUrl)] as const))
