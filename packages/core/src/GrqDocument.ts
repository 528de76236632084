/**
 * The GRQ document of a product, in its two forms, as HySDS 3.3's
 * `dataset_ingest_bulk.py` and grq2 make them:
 *
 * - `update`: HySDS's `update_json`, what it sends to grq2 and writes into
 *   `_datasets.json`: the fixed fields, every key of dataset.json merged over
 *   them, the entry's `index` (when it has one) and `grq_index_result`.
 * - `record.doc`: what grq2 stores: `update` without `index` (grq2 turns it
 *   into the index name and aliases), `location.type` lower-cased, `center`
 *   at the centroid when missing, `@timestamp`, `temporal_span`.
 *
 * STAC items get the same core fields so GRQ queries, facets and the UI find
 * them like any other dataset.
 */
import { Predicate } from "effect"
import * as Centroid from "./Centroid.ts"
import type { GrqRecord } from "./GrqIndex.ts"
import * as PyJson from "./PyJson.ts"

type Json = Record<string, unknown>

/** What a datasets.json entry contributes to every document it matches. */
export interface EntryFields {
  readonly ipath: string
  readonly dataset: string
  readonly type: string
  readonly level: string
  /** The entry's `index` object (`suffix`, `aliases`) as written, when it has one. */
  readonly index?: Json
}

export interface Image {
  readonly img: string
  readonly small_img: string | null
  readonly tooltip: string
}

/** A document in both forms, and the aliases its index must have. */
export interface Built {
  readonly record: GrqRecord
  /** HySDS's `update_json`: the `_datasets.json` entry (numbers may be PyJson.PyNumber). */
  readonly update: Json
}

const suffixOf = (entry: EntryFields): string | undefined => {
  const suffix = entry.index?.["suffix"]
  return typeof suffix === "string" && suffix !== "" ? suffix : undefined
}

/** `grq_<version>_<dataset>` (or `grq_<suffix>`), lower-cased like grq2 does. */
export const indexName = (entry: EntryFields, version: string): string => {
  const suffix = suffixOf(entry)
  return (suffix !== undefined ? `grq_${suffix}` : `grq_${version}_${entry.dataset}`).toLowerCase()
}

/** `index.aliases`: grq2 adds each as an alias of the document's index. */
export const aliasesOf = (entry: EntryFields): ReadonlyArray<string> => {
  const aliases = entry.index?.["aliases"]
  return Array.isArray(aliases) ? aliases.filter((a): a is string => typeof a === "string" && a !== "") : []
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$/

/**
 * ISO-8601 in UTC ending in `Z`, keeping the sub-second digits as given
 * (`.123456` stays `.123456`, none stays none), or undefined when `value` is
 * not a date. Never `+00:00Z`.
 */
export const utc = (value: unknown): string | undefined => {
  if (typeof value !== "string" || value === "") return undefined
  const m = ISO.exec(value)
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined
    const zone = m[8]!.toUpperCase()
    const offset =
      zone === "Z" ? 0 : (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2))) * 60_000
    const ms = Date.UTC(y, mo - 1, d, h, mi, s) - offset
    return Number.isNaN(ms) ? undefined : `${new Date(ms).toISOString().slice(0, 19)}${m[7] ?? ""}Z`
  }
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString()
}

/**
 * grq2's `@timestamp`: UTC, six fraction digits, `Z`. The clock here counts
 * milliseconds, so the last three digits are zeros.
 */
export const timestamp = (now: Date): string => `${now.toISOString().slice(0, 23)}000Z`

/** A `center` point at the geometry's centroid (Centroid: as shapely computes it), as grq2 adds when missing. */
export const center = (geometry: unknown): Json | undefined => {
  const c = Centroid.centroid(geometry)
  return c ? { type: "point", coordinates: c } : undefined
}

const GEOJSON_TYPES = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]

/** grq2's spelling of a GeoJSON type in the stored document: lower-case. */
const storedType = (type: unknown): unknown => {
  if (typeof type !== "string") return type
  const known = GEOJSON_TYPES.find((t) => t.toLowerCase() === type.toLowerCase())
  return (known ?? type).toLowerCase()
}

// grq2's time_utils: date and time, an ignored fraction, an optional Z; no offset.
const GRQ_TIME = /^(\d{4})[/-](\d{2})[/-](\d{2})[\s*T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z?$/
const GRQ_DAY = /^(\d{4})[/-](\d{2})[/-](\d{2})$/

const seconds = (value: string): number | undefined => {
  const m = GRQ_TIME.exec(value) ?? GRQ_DAY.exec(value)
  if (m) {
    const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number]
    return Date.UTC(y, mo - 1, d, h, mi, s) / 1000
  }
  // grq2 refuses other forms (an offset); any other ISO time is taken in UTC here.
  const iso = utc(value)
  return iso === undefined ? undefined : Math.floor(Date.parse(iso) / 1000)
}

/** grq2's `temporal_span`: whole days between start and end, a remainder of 12 h or more counting as a day. */
export const temporalSpan = (start: unknown, end: unknown): number | undefined => {
  if (typeof start !== "string" || typeof end !== "string") return undefined
  const [s, e] = [seconds(start), seconds(end)]
  if (s === undefined || e === undefined) return undefined
  const diff = Math.abs(e - s)
  return Math.floor(diff / 86_400) + (diff % 86_400 >= 43_200 ? 1 : 0)
}

/** What grq2 does to HySDS's `update_json` before storing it. */
const stored = (update: Json, now: Date): Json => {
  const { index: _index, ...doc } = PyJson.plain(update) as Json
  doc["@timestamp"] = timestamp(now)
  if (Predicate.isRecord(doc["location"])) {
    const location = doc["location"]
    doc["location"] = { ...location, type: storedType(location["type"]) }
    if (!("center" in doc)) {
      const c = center(location)
      if (c) doc["center"] = c
    }
  }
  const span = temporalSpan(doc["starttime"], doc["endtime"])
  if (span !== undefined) doc["temporal_span"] = span
  return doc
}

const withIndex = (update: Json, entry: EntryFields): Json => {
  const out: Json = { ...update }
  if (entry.index !== undefined) out["index"] = entry.index
  out["grq_index_result"] = { index: entry.index ?? null }
  return out
}

const build = (entry: EntryFields, id: string, version: string, update: Json, now: Date): Built => {
  const aliases = aliasesOf(entry)
  const full = withIndex(update, entry)
  return {
    record: { index: indexName(entry, version), id, doc: stored(full, now), ...(aliases.length > 0 ? { aliases } : {}) },
    update: full
  }
}

export interface ClassicInput {
  readonly id: string
  readonly entry: EntryFields
  /** `<id>.dataset.json` (numbers may be PyNumbers); its `version` is required (checked by the planner). */
  readonly datasetJson: Json & { readonly version: string }
  readonly met: Json
  readonly urls: ReadonlyArray<string>
  /** `[]` when the entry has no `browse`, as in HySDS. */
  readonly browseUrls: ReadonlyArray<string>
  readonly images: ReadonlyArray<Image>
  readonly prov: unknown
  readonly now: Date
}

/** HySDS's document: fixed fields first, then every key of dataset.json merged over them. */
export const classic = (input: ClassicInput): Built => {
  const base: Json = {
    id: input.id,
    objectid: input.id,
    metadata: input.met,
    dataset: input.entry.dataset,
    ipath: input.entry.ipath,
    system_version: input.datasetJson.version,
    dataset_level: input.entry.level,
    dataset_type: input.entry.type,
    urls: [...input.urls],
    browse_urls: [...input.browseUrls],
    images: input.images.map((i) => ({ ...i })),
    prov: input.prov ?? {}
  }
  return build(input.entry, input.id, input.datasetJson.version, { ...base, ...input.datasetJson }, input.now)
}

const BROWSE = /^(.+)\.browse\.png$/

/**
 * HySDS's image records for the file names of a product dir's top level:
 * one per `*browse.png`, with the matching `*browse_small.png` or null,
 * ordered by `sortOrder` (the first pattern an image matches; unmatched ones
 * last, by name). Names, not URLs: the UI prefixes them with a browse URL.
 */
export const images = (
  names: ReadonlyArray<string>,
  sortOrder: ReadonlyArray<(name: string) => boolean> = []
): Array<Image> => {
  const present = new Set(names)
  const records = names
    .filter((n) => n.endsWith("browse.png") && !n.startsWith("."))
    .sort(PyJson.compareCodePoints)
    .map((img): Image => {
      const small = img.split("browse.png").join("browse_small.png")
      return { img, small_img: present.has(small) ? small : null, tooltip: BROWSE.exec(img)?.[1] ?? "" }
    })
  if (sortOrder.length === 0) return records
  const rank = (i: Image) => {
    const r = sortOrder.findIndex((matches) => matches(i.img))
    return r === -1 ? sortOrder.length : r
  }
  return records.map((i, n) => ({ i, n, r: rank(i) })).sort((a, b) => a.r - b.r || a.n - b.n).map((x) => x.i)
}

export interface StacItemInput {
  /** The absolute-published item (hrefs already rewritten). */
  readonly item: Json
  readonly collection: string
  readonly entry: EntryFields
  readonly version: string
  /** Where the item's directory is published. */
  readonly urls: ReadonlyArray<string>
  readonly prov: unknown
  readonly now: Date
}

/**
 * The item's thumbnail and overview assets, as HySDS records browse images: a
 * file name in `images` and its directory in `browse_urls`, so the UI's
 * `browse_urls[0] + "/" + small_img` is the asset.
 */
const thumbnails = (assets: unknown): Array<{ url: string; tooltip: string }> =>
  Object.entries(Predicate.isRecord(assets) ? (assets as Record<string, Json>) : {}).flatMap(([key, asset]) => {
    const roles = Array.isArray(asset.roles) ? asset.roles : []
    if (typeof asset.href !== "string" || !roles.some((r) => r === "thumbnail" || r === "overview")) return []
    const tooltip = typeof asset.title === "string" ? asset.title : key
    return [{ url: asset.href, tooltip }]
  })

const dirOf = (url: string) => url.replace(/\/[^/]*$/, "")
const baseOf = (url: string) => url.slice(url.lastIndexOf("/") + 1)

/** One document per STAC item, with `version` always set and UTC timestamps. */
export const stacItem = (input: StacItemInput): Built => {
  const properties = (input.item.properties ?? {}) as Json
  const id = String(input.item.id)
  const start = utc(properties.start_datetime) ?? utc(properties.datetime)
  const end = utc(properties.end_datetime) ?? utc(properties.datetime)
  const thumbs = thumbnails(input.item.assets)
  const images: Array<Image> = thumbs.map((t) => ({ img: baseOf(t.url), small_img: baseOf(t.url), tooltip: t.tooltip }))
  const doc: Json = {
    id,
    objectid: id,
    dataset: input.entry.dataset,
    ipath: input.entry.ipath,
    dataset_type: input.entry.type,
    dataset_level: input.entry.level,
    version: input.version,
    system_version: input.version,
    label: typeof properties.title === "string" ? properties.title : id,
    urls: [...input.urls],
    browse_urls: [...new Set(thumbs.map((t) => dirOf(t.url)))],
    images,
    creation_timestamp: utc(properties.created) ?? timestamp(input.now),
    metadata: { properties, assets: input.item.assets ?? {} },
    prov: input.prov ?? {},
    stac_collection: input.collection,
    stac_item_id: id
  }
  if (input.item.geometry) doc.location = input.item.geometry
  if (start) doc.starttime = start
  if (end) doc.endtime = end
  return build(input.entry, id, input.version, doc, input.now)
}
