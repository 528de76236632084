/**
 * The GRQ document of a product: HySDS's layout for classic products, and the
 * same core fields for STAC items so GRQ queries, facets and the GRQ UI find
 * them like any other dataset.
 */
import type { GrqRecord } from "./GrqIndex.ts"

type Json = Record<string, unknown>

/** What a datasets.json entry contributes to every document it matches. */
export interface EntryFields {
  readonly ipath: string
  readonly dataset: string
  readonly type: string
  readonly level: string
  /** `index.suffix`: a custom index `grq_<suffix>`. */
  readonly indexSuffix?: string
}

export interface Image {
  readonly img: string
  readonly small_img: string
  readonly tooltip: string
}

/** `grq_<version>_<dataset>` (or `grq_<suffix>`), lower-cased like GRQ does. */
export const indexName = (entry: EntryFields, version: string): string =>
  (entry.indexSuffix ? `grq_${entry.indexSuffix}` : `grq_${version}_${entry.dataset}`).toLowerCase()

/** ISO-8601 UTC with a `Z`, or undefined when `value` is not a date. Never `+00:00Z`. */
export const utc = (value: unknown): string | undefined => {
  if (typeof value !== "string" || value === "") return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString()
}

const positions = (coordinates: unknown): Array<[number, number]> => {
  if (!Array.isArray(coordinates)) return []
  if (coordinates.length >= 2 && typeof coordinates[0] === "number" && typeof coordinates[1] === "number") {
    return [[coordinates[0], coordinates[1]]]
  }
  return coordinates.flatMap(positions)
}

/** A Point at the middle of the geometry's bounding box, as GRQ adds when `center` is missing. */
export const center = (geometry: unknown): Json | undefined => {
  if (typeof geometry !== "object" || geometry === null) return undefined
  const g = geometry as Json
  const points =
    g.type === "GeometryCollection" && Array.isArray(g.geometries)
      ? g.geometries.flatMap((c) => positions((c as Json).coordinates))
      : positions(g.coordinates)
  if (points.length === 0) return undefined
  const xs = points.map((p) => p[0])
  const ys = points.map((p) => p[1])
  return {
    type: "Point",
    coordinates: [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2]
  }
}

/** Whole days between start and end, as GRQ's `temporal_span`. */
export const temporalSpan = (start: unknown, end: unknown): number | undefined => {
  const s = typeof start === "string" ? Date.parse(start) : NaN
  const e = typeof end === "string" ? Date.parse(end) : NaN
  return Number.isNaN(s) || Number.isNaN(e) ? undefined : Math.floor((e - s) / 86_400_000)
}

/** What GRQ itself adds on ingest: `@timestamp`, `center` when missing, `temporal_span`. */
const finish = (doc: Json, now: Date): Json => {
  const out: Json = { ...doc, "@timestamp": now.toISOString() }
  if (out.center === undefined) {
    const c = center(out.location)
    if (c) out.center = c
  }
  const span = temporalSpan(out.starttime, out.endtime)
  if (span !== undefined) out.temporal_span = span
  return out
}

export interface ClassicInput {
  readonly id: string
  readonly entry: EntryFields
  /** `<id>.dataset.json`; its `version` is required (checked by the planner). */
  readonly datasetJson: Json & { readonly version: string }
  readonly met: Json
  readonly urls: ReadonlyArray<string>
  readonly browseUrls: ReadonlyArray<string>
  readonly images: ReadonlyArray<Image>
  readonly prov: unknown
  readonly now: Date
}

/** HySDS's document: fixed fields first, then every key of dataset.json merged over them. */
export const classic = (input: ClassicInput): GrqRecord => {
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
    images: [...input.images],
    prov: input.prov ?? {}
  }
  return {
    index: indexName(input.entry, input.datasetJson.version),
    id: input.id,
    doc: finish({ ...base, ...input.datasetJson }, input.now)
  }
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

const thumbnails = (assets: unknown): Array<Image> =>
  Object.entries(typeof assets === "object" && assets !== null ? (assets as Record<string, Json>) : {}).flatMap(
    ([key, asset]) => {
      const roles = Array.isArray(asset.roles) ? asset.roles : []
      if (typeof asset.href !== "string" || !roles.some((r) => r === "thumbnail" || r === "overview")) return []
      const tooltip = typeof asset.title === "string" ? asset.title : key
      return [{ img: asset.href, small_img: asset.href, tooltip }]
    }
  )

/** One document per STAC item, with `version` always set and UTC timestamps. */
export const stacItem = (input: StacItemInput): GrqRecord => {
  const properties = (input.item.properties ?? {}) as Json
  const id = String(input.item.id)
  const start = utc(properties.start_datetime) ?? utc(properties.datetime)
  const end = utc(properties.end_datetime) ?? utc(properties.datetime)
  const images = thumbnails(input.item.assets)
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
    browse_urls: images.length > 0 ? [...new Set(images.map((i) => i.img.replace(/\/[^/]*$/, "")))] : [...input.urls],
    images,
    creation_timestamp: utc(properties.created) ?? input.now.toISOString(),
    metadata: { properties, assets: input.item.assets ?? {} },
    prov: input.prov ?? {},
    stac_collection: input.collection,
    stac_item_id: id
  }
  if (input.item.geometry) doc.location = input.item.geometry
  if (start) doc.starttime = start
  if (end) doc.endtime = end
  return { index: indexName(input.entry, input.version), id, doc: finish(doc, input.now) }
}
