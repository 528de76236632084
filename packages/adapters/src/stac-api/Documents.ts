/**
 * Pure helpers on STAC JSON documents for the STAC API adapter: id rules,
 * ordering, the links a server makes itself, and comparing what was sent with
 * what is stored. No I/O here; every other module of the adapter may use them.
 *
 * What stac-fastapi-pgstac 7.2.0 on pgstac 0.10.0 was observed to do with
 * documents (curl against the test service), which these helpers follow:
 * - Ids: `: / ? # [ ] @ ! $ & ' ( ) * + , ; =` → 400 for collections and items;
 *   spaces, `%`, dots and non-ASCII are fine (percent-encode them in paths).
 * - Links: `self`, `root`, `parent`, `collection`, `items` are regenerated from
 *   the request's host; others (our `canonical`) are kept. Unknown top-level
 *   fields survive on collections but are DROPPED on items (only the STAC
 *   fields and `properties` content are kept); item `collection` is set.
 */
import { Predicate } from "effect"
import { StacRegistry } from "@hysds-stac/core"

export type Json = StacRegistry.StacJson

/** The characters pgstac refuses in collection and item ids (the rules this adapter exposes to planning). */
export const RESERVED_ID_CHARS = StacRegistry.PGSTAC_RULES.forbiddenIdChars

/** How messages name the server of a flavor (see Flavor.ts). */
export const serverName = (flavor: "pgstac" | "sfeos" | "unknown") =>
  flavor === "pgstac" ? "pgstac" : flavor === "sfeos" ? "stac-fastapi-opensearch" : "this STAC API"

export const isOk = (status: number) => status >= 200 && status <= 299

export const quote = (id: string) => JSON.stringify(id)

export const byId = (a: Json, b: Json) => {
  const x = String(a["id"])
  const y = String(b["id"])
  return x < y ? -1 : x > y ? 1 : 0
}

/** First of each id: pages can overlap when the collection changes while we page through it. */
export const dedupe = (all: ReadonlyArray<Json>): Array<Json> => {
  const seen = new Map<string, Json>()
  for (const j of all) if (!seen.has(String(j["id"]))) seen.set(String(j["id"]), j)
  return [...seen.values()]
}

/** Why `id` cannot be an id on a server with `rules` (named `server` in the message), or undefined when it can. */
export const idProblem = (id: unknown, rules: StacRegistry.StacRules = StacRegistry.PGSTAC_RULES, server = "pgstac"): string | undefined => {
  if (typeof id !== "string" || id === "") return "has no id (a non-empty string is required)"
  const forbidden = rules.forbiddenIdChars
  for (const c of id) {
    if (forbidden.includes(c)) {
      return `id ${quote(id)} contains '${c}', which ${server} does not allow (${forbidden.split("").join(" ")})`
    }
  }
  if (rules.maxIdLength !== undefined && id.length > rules.maxIdLength) {
    return `id ${quote(id)} is longer than the ${rules.maxIdLength} characters ${server} allows`
  }
  return undefined
}

/**
 * Links the server makes itself on every response. A document read back is
 * stripped of them, so that putting it back (the undo of a --force replace)
 * does not store them: the server would add its own again, doubling them
 * (seen with pgstac's queryables link).
 */
export const SERVER_LINK_RELS: ReadonlySet<string> = new Set([
  "self",
  "root",
  "parent",
  "collection",
  "items",
  "queryables",
  "http://www.opengis.net/def/rel/ogc/1.0/queryables",
  // stac-fastapi-opensearch's, on every collection.
  "aggregate",
  "aggregations"
])

export const withoutServerLinks = (json: Json): Json =>
  Array.isArray(json["links"])
    ? { ...json, links: json["links"].filter((l) => !(Predicate.isRecord(l) && SERVER_LINK_RELS.has(String(l["rel"])))) }
    : json

/** The href of the `canonical` link, if any: the only link back from the API to the published static JSON. */
export const canonicalHref = (json: Json | undefined): string | undefined => {
  const links = json?.["links"]
  if (!Array.isArray(links)) return undefined
  const link = links.find((l): l is Json => Predicate.isRecord(l) && l["rel"] === "canonical")
  return typeof link?.["href"] === "string" ? link["href"] : undefined
}

/** Key-sorted JSON, so stored and sent content compare equal whatever the key order. */
const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    Predicate.isRecord(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v
  )

/**
 * Whether a stored item is the one we sent. Only `properties` and `geometry`
 * are compared: pgstac drops unknown top-level fields and regenerates links.
 */
export const sameItem = (sent: Json, stored: Json) => {
  const sentProps = Predicate.isRecord(sent["properties"]) ? sent["properties"] : {}
  const { updated: _sentUpdated, ...sentRest } = sentProps
  const storedRest = withoutStamps(sentProps, stored["properties"])
  return canonicalJson(sentRest) === canonicalJson(storedRest) && canonicalJson(sent["geometry"]) === canonicalJson(stored["geometry"])
}

/**
 * Stored `properties` without the stamps stac-fastapi-opensearch writes on
 * every item write (`updated` always, `created` when the item had none): they
 * say when the server stored it, not what we sent.
 */
const withoutStamps = (sentProps: Readonly<Record<string, unknown>>, storedProps: unknown) =>
  Predicate.isRecord(storedProps)
    ? Object.fromEntries(Object.entries(storedProps).filter(([k]) => !(k === "updated" || (k === "created" && !("created" in sentProps)))))
    : storedProps

/** The collection as stored, minus what servers generate. */
export const sameCollection = (sent: Json, stored: Json) => {
  const strip = ({ links: _l, ...rest }: Json) => rest
  const s = strip(sent)
  return Object.keys(s).every((k) => canonicalJson(s[k]) === canonicalJson(stored[k]))
}

/** Mentions of batch ids in a server message, as whole tokens (`(x)`, `"x"`, `=x,`). */
export const mentioned = (detail: string, ids: ReadonlyArray<string>): string | undefined =>
  ids.find((id) => {
    const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    return new RegExp(`(^|[\\s"'(=,])${escaped}($|[\\s"'),.])`).test(detail)
  })
