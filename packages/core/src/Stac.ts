/**
 * The STAC 1.0.0 / 1.1.0 documents a job writes (Catalog, Collection, Item) as
 * `effect/Schema` schemas, plus how a link or asset `href` is interpreted.
 *
 * The schemas check only what ingest depends on (types, ids, links, assets,
 * geometry/bbox, datetimes). Every struct carries an index signature so fields we
 * do not model — extensions, user properties — survive decoding unchanged: we
 * never drop user data. Failures become `Issue`s with a JSON path
 * (`$.properties.datetime`, `$.links[2].href`) so a user can find them.
 */
import { Either, ParseResult, Predicate, Schema } from "effect"
import type { StacRules } from "./StacRegistry.ts"

// ---------------------------------------------------------------------------
// Building blocks

/** Keeps every field a struct does not name, untouched. */
const Rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

export const SUPPORTED_VERSIONS = ["1.0.0", "1.1.0"] as const

/** 1.1.0 is current; 1.0.0 is still what many writers emit, so both are accepted on input. */
export const StacVersion = Schema.Literal(...SUPPORTED_VERSIONS).annotations({
  message: (issue) => ({
    message: `unsupported stac_version ${JSON.stringify(issue.actual)} (supported: ${SUPPORTED_VERSIONS.join(", ")})`,
    override: true
  })
})

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i

/** STAC requires RFC 3339 date-times; anything else is rejected by the catalog APIs later,
 * so it is cheaper to say so now, with the path. */
export const DateTime = Schema.String.pipe(
  Schema.filter((s) => (RFC3339.test(s) && !Number.isNaN(Date.parse(s))) || `expected an RFC 3339 date-time, got ${JSON.stringify(s)}`)
)

/** 2D (4 numbers) or 3D (6 numbers) bounding box. */
export const Bbox = Schema.Array(Schema.Number).pipe(
  Schema.filter((a) => a.length === 4 || a.length === 6 || `a bbox has 4 or 6 numbers, got ${a.length}`)
)

export const Link = Schema.Struct(
  {
    href: Schema.NonEmptyString,
    rel: Schema.NonEmptyString,
    type: Schema.optional(Schema.String),
    title: Schema.optional(Schema.String)
  },
  Rest
)
export type Link = typeof Link.Type

export const Asset = Schema.Struct(
  {
    href: Schema.NonEmptyString,
    type: Schema.optional(Schema.String),
    title: Schema.optional(Schema.String),
    description: Schema.optional(Schema.String),
    roles: Schema.optional(Schema.Array(Schema.String))
  },
  Rest
)
export type Asset = typeof Asset.Type

// ---------------------------------------------------------------------------
// GeoJSON geometry (RFC 7946)

const Position = Schema.Array(Schema.Number).pipe(Schema.minItems(2))
const geometry = <T extends string, C extends Schema.Schema.Any>(type: T, coordinates: C) =>
  Schema.Struct({ type: Schema.Literal(type), coordinates }, Rest)

export const Point = geometry("Point", Position)
export const MultiPoint = geometry("MultiPoint", Schema.Array(Position))
export const LineString = geometry("LineString", Schema.Array(Position).pipe(Schema.minItems(2)))
export const MultiLineString = geometry("MultiLineString", Schema.Array(Schema.Array(Position)))
/** Rings are closed, so a valid ring has at least four positions. */
const LinearRing = Schema.Array(Position).pipe(Schema.minItems(4))
export const Polygon = geometry("Polygon", Schema.Array(LinearRing))
export const MultiPolygon = geometry("MultiPolygon", Schema.Array(Schema.Array(LinearRing)))

export interface GeometryCollection {
  readonly type: "GeometryCollection"
  readonly geometries: ReadonlyArray<Geometry>
  readonly [key: string]: unknown
}
export type Geometry =
  | typeof Point.Type
  | typeof MultiPoint.Type
  | typeof LineString.Type
  | typeof MultiLineString.Type
  | typeof Polygon.Type
  | typeof MultiPolygon.Type
  | GeometryCollection

export const GeometryCollection: Schema.Schema<GeometryCollection> = Schema.Struct(
  {
    type: Schema.Literal("GeometryCollection"),
    geometries: Schema.Array(Schema.suspend((): Schema.Schema<Geometry> => Geometry))
  },
  Rest
)

export const Geometry: Schema.Schema<Geometry> = Schema.Union(
  Point,
  MultiPoint,
  LineString,
  MultiLineString,
  Polygon,
  MultiPolygon,
  GeometryCollection
)

// ---------------------------------------------------------------------------
// Catalog, Collection, Item

const common = {
  stac_version: StacVersion,
  stac_extensions: Schema.optional(Schema.Array(Schema.String)),
  id: Schema.NonEmptyString,
  links: Schema.Array(Link)
}

export const Catalog = Schema.Struct(
  {
    type: Schema.Literal("Catalog"),
    ...common,
    title: Schema.optional(Schema.String),
    description: Schema.String
  },
  Rest
)
export type Catalog = typeof Catalog.Type

const Interval = Schema.Tuple(Schema.NullOr(DateTime), Schema.NullOr(DateTime))

export const Extent = Schema.Struct(
  {
    spatial: Schema.Struct({ bbox: Schema.Array(Bbox).pipe(Schema.minItems(1)) }, Rest),
    temporal: Schema.Struct({ interval: Schema.Array(Interval).pipe(Schema.minItems(1)) }, Rest)
  },
  Rest
)

export const Collection = Schema.Struct(
  {
    type: Schema.Literal("Collection"),
    ...common,
    title: Schema.optional(Schema.String),
    description: Schema.String,
    license: Schema.String,
    extent: Extent,
    assets: Schema.optional(Schema.Record({ key: Schema.String, value: Asset }))
  },
  Rest
)
export type Collection = typeof Collection.Type

/** Pure cross-field rule for item properties, shared by the schema and by `decode`. */
const datetimeRule = (properties: unknown): ReadonlyArray<Issue> => {
  if (!Predicate.isRecord(properties) || properties["datetime"] !== null) return []
  const missing = ["start_datetime", "end_datetime"].filter((k) => properties[k] === undefined || properties[k] === null)
  return missing.length === 0
    ? []
    : [{ path: "$.properties.datetime", message: `is null, so start_datetime and end_datetime are required (missing: ${missing.join(", ")})` }]
}

export const ItemProperties = Schema.Struct(
  {
    datetime: Schema.NullOr(DateTime),
    start_datetime: Schema.optional(DateTime),
    end_datetime: Schema.optional(DateTime)
  },
  Rest
).pipe(
  Schema.filter((p) => datetimeRule(p).map((i) => ({ path: ["datetime"], message: i.message })))
)

/** Pure cross-field rule for items: GeoJSON makes `bbox` mandatory once there is a geometry. */
const bboxRule = (item: unknown): ReadonlyArray<Issue> =>
  Predicate.isRecord(item) && item["geometry"] !== null && item["geometry"] !== undefined && item["bbox"] === undefined
    ? [{ path: "$.bbox", message: "is required when geometry is not null" }]
    : []

export const Item = Schema.Struct(
  {
    type: Schema.Literal("Feature"),
    ...common,
    geometry: Schema.NullOr(Geometry),
    bbox: Schema.optional(Bbox),
    properties: ItemProperties,
    assets: Schema.Record({ key: Schema.String, value: Asset }),
    collection: Schema.optional(Schema.NonEmptyString)
  },
  Rest
).pipe(Schema.filter((item) => bboxRule(item).map((i) => ({ path: ["bbox"], message: i.message }))))
export type Item = typeof Item.Type

export type StacObject = Catalog | Collection | Item
export type StacType = StacObject["type"]
export const STAC_TYPES: ReadonlyArray<StacType> = ["Catalog", "Collection", "Feature"]

// ---------------------------------------------------------------------------
// Decoding with JSON paths

/** One thing wrong inside a document; `path` is a JSON path such as `$.links[0].href`. */
export interface Issue {
  readonly path: string
  readonly message: string
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** `["links", 2, "href"]` → `$.links[2].href`; odd keys use bracket notation (`$.assets["a b"]`). */
export const jsonPath = (segments: ReadonlyArray<PropertyKey>): string =>
  "$" +
  segments
    .map((s) =>
      typeof s === "number" ? `[${s}]` : typeof s === "string" && IDENTIFIER.test(s) ? `.${s}` : `[${JSON.stringify(String(s))}]`
    )
    .join("")

const decoders = {
  Catalog: Schema.decodeUnknownEither(Catalog, { errors: "all", onExcessProperty: "preserve" }),
  Collection: Schema.decodeUnknownEither(Collection, { errors: "all", onExcessProperty: "preserve" }),
  Feature: Schema.decodeUnknownEither(Item, { errors: "all", onExcessProperty: "preserve" })
} as const

// ---------------------------------------------------------------------------
// The common item, checked without Schema

const isString = (u: unknown): boolean => typeof u === "string"
const isNonEmpty = (u: unknown): boolean => typeof u === "string" && u.length > 0
const optionalString = (u: unknown): boolean => u === undefined || typeof u === "string"
const isDateTime = (u: unknown): boolean => typeof u === "string" && RFC3339.test(u) && !Number.isNaN(Date.parse(u))
/** An array of at least `min` elements, each passing `f`; by index, as Array.every would skip a hole. */
const every = (u: unknown, f: (v: unknown) => boolean, min = 0): boolean => {
  if (!Array.isArray(u) || u.length < min) return false
  for (let i = 0; i < u.length; i++) if (!f(u[i])) return false
  return true
}
const isNumber = (u: unknown): boolean => typeof u === "number"
const isNumbers = (u: unknown, min: number): u is ReadonlyArray<number> => every(u, isNumber, min)
const isLink = (u: unknown): boolean =>
  Predicate.isRecord(u) && isNonEmpty(u["href"]) && isNonEmpty(u["rel"]) && optionalString(u["type"]) && optionalString(u["title"])
const isAsset = (u: unknown): boolean =>
  Predicate.isRecord(u) &&
  isNonEmpty(u["href"]) &&
  optionalString(u["type"]) &&
  optionalString(u["title"]) &&
  optionalString(u["description"]) &&
  (u["roles"] === undefined || every(u["roles"], isString))
const isPosition = (u: unknown) => isNumbers(u, 2)
const isRing = (u: unknown) => every(u, isPosition, 4)
/** GeometryCollection is left to the schema (its recursion is where the schema's depth care matters). */
const isSimpleGeometry = (u: unknown): boolean => {
  if (!Predicate.isRecord(u)) return false
  const c = u["coordinates"]
  switch (u["type"]) {
    case "Point":
      return isPosition(c)
    case "MultiPoint":
      return every(c, isPosition)
    case "LineString":
      return every(c, isPosition, 2)
    case "MultiLineString":
      return every(c, (l) => every(l, isPosition))
    case "Polygon":
      return every(c, isRing)
    case "MultiPolygon":
      return every(c, (p) => every(p, isRing))
    default:
      return false
  }
}

/**
 * True only for an item the Item schema certainly accepts (every field it
 * declares checked the same way, and its two cross-field rules); anything else,
 * valid or not, is for the schema to judge and word. Why: decoding through
 * Schema cost about 0.2 ms per item, most of a 10,000-item plan's CPU once the
 * file system calls were gone, and nearly every item of a real catalog is
 * valid. A test holds the two to the same verdicts (Stac.test.ts).
 */
export const isPlainValidItem = (json: Record<string, unknown>): boolean => {
  const properties = json["properties"]
  const assets = json["assets"]
  const geometry = json["geometry"]
  const bbox = json["bbox"]
  return (
    json["type"] === "Feature" &&
    (SUPPORTED_VERSIONS as ReadonlyArray<unknown>).includes(json["stac_version"]) &&
    (json["stac_extensions"] === undefined || every(json["stac_extensions"], isString)) &&
    isNonEmpty(json["id"]) &&
    every(json["links"], isLink) &&
    (geometry === null || isSimpleGeometry(geometry)) &&
    (bbox === undefined ? geometry === null : isNumbers(bbox, 4) && (bbox.length === 4 || bbox.length === 6)) &&
    Predicate.isRecord(properties) &&
    (properties["datetime"] === null
      ? isDateTime(properties["start_datetime"]) && isDateTime(properties["end_datetime"])
      : isDateTime(properties["datetime"]) &&
        (properties["start_datetime"] === undefined || isDateTime(properties["start_datetime"])) &&
        (properties["end_datetime"] === undefined || isDateTime(properties["end_datetime"]))) &&
    Predicate.isRecord(assets) &&
    Object.values(assets).every(isAsset) &&
    (json["collection"] === undefined || isNonEmpty(json["collection"]))
  )
}

const isStacType = (u: unknown): u is StacType => typeof u === "string" && (STAC_TYPES as ReadonlyArray<string>).includes(u)

/**
 * Validates a parsed JSON document against the schema its `type` names. All issues are
 * returned, not just the first. Cross-field rules (bbox, null datetime) are also run on
 * the raw input when the schema fails elsewhere, because schema refinements only run
 * once the rest of the struct is valid and we want every problem in one report.
 */
export const decode = (json: unknown): Either.Either<StacObject, ReadonlyArray<Issue>> => {
  if (!Predicate.isRecord(json)) return Either.left([{ path: "$", message: "expected a JSON object" }])
  const type = json["type"]
  if (!isStacType(type)) {
    return Either.left([
      {
        path: "$.type",
        message:
          type === undefined
            ? `is missing (expected "Catalog", "Collection" or "Feature")`
            : `unknown STAC type ${JSON.stringify(type)} (expected "Catalog", "Collection" or "Feature")`
      }
    ])
  }
  if (type === "Feature" && isPlainValidItem(json)) {
    const ranges = coordinateRules(type, json)
    return ranges.length === 0 ? Either.right(json as unknown as Item) : Either.left(ranges)
  }
  // A catalog's or collection's links, when each is plainly valid, are left out of the schema's
  // work and put back after: a collection links each of its items, and decoding 100,000 links
  // through Schema was about a second of a plan. Any link not plainly valid leaves the whole
  // document to the schema, so its issues are worded and placed as always.
  const linksApart = type !== "Feature" && Array.isArray(json["links"]) && every(json["links"], isLink)
  const decoded: Either.Either<StacObject, ParseResult.ParseError> = decoders[type](linksApart ? { ...json, links: [] } : json)
  const result = linksApart && Either.isRight(decoded) ? Either.right({ ...decoded.right, links: json["links"] } as StacObject) : decoded
  if (Either.isRight(result)) {
    const ranges = coordinateRules(type, json)
    return ranges.length === 0 ? Either.right(result.right) : Either.left(ranges)
  }
  const raw = ParseResult.ArrayFormatter.formatErrorSync(result.left).map((i) => ({
    path: jsonPath(i.path),
    message: i.message === "is missing" ? "required field is missing" : i.message
  }))
  // A `NullOr(X)` failure also reports "Expected null" next to X's own issue; that half
  // only adds noise, so it is kept only when it is the sole issue at or below its path.
  const issues = raw.filter(
    (i) =>
      !i.message.startsWith("Expected null, actual") ||
      !raw.some((o) => o !== i && (o.path === i.path || o.path.startsWith(i.path + ".") || o.path.startsWith(i.path + "[")))
  )
  if (type === "Feature") {
    for (const extra of [...bboxRule(json), ...datetimeRule(json["properties"])]) {
      if (!issues.some((i) => i.path === extra.path && i.message === extra.message)) issues.push(extra)
    }
  }
  // The schema already said what is wrong with a malformed position; the range
  // rule would only repeat it at the same path.
  for (const extra of coordinateRules(type, json)) if (!issues.some((i) => i.path === extra.path)) issues.push(extra)
  return Either.left(issues)
}

// ---------------------------------------------------------------------------
// Coordinates

/**
 * Range rules the schema does not express: every position of the geometry and
 * every bbox is WGS84 longitude/latitude (RFC 7946). Out-of-range values pass
 * pgstac but are refused by GRQ's geo_shape mapping, i.e. after the files were
 * published; checking them while planning refuses them before anything is touched.
 */
const coordinateRules = (type: StacType, json: Record<string, unknown>): ReadonlyArray<Issue> => {
  if (type === "Feature") return [...geometryIssues(json["geometry"], ["geometry"]), ...bboxIssues(json["bbox"], ["bbox"])]
  if (type !== "Collection" || !Predicate.isRecord(json["extent"]) || !Predicate.isRecord(json["extent"]["spatial"])) return []
  const boxes = json["extent"]["spatial"]["bbox"]
  return Array.isArray(boxes) ? boxes.flatMap((b, i) => bboxIssues(b, ["extent", "spatial", "bbox", i])) : []
}

/** Arrays nested deeper than a MultiPolygon's (and collections deeper than this) are not geometry, and recursing into them is how a hostile file exhausts the stack. */
const MAX_COORDINATE_DEPTH = 4
const MAX_COLLECTION_DEPTH = 8

const lonLatProblem = (lon: unknown, lat: unknown): string | undefined => {
  if (typeof lon !== "number" || !Number.isFinite(lon)) return `longitude ${JSON.stringify(lon) ?? String(lon)} is not a finite number`
  if (typeof lat !== "number" || !Number.isFinite(lat)) return `latitude ${JSON.stringify(lat) ?? String(lat)} is not a finite number`
  if (lon < -180 || lon > 180) return `longitude ${lon} is outside [-180, 180]`
  if (lat < -90 || lat > 90) return `latitude ${lat} is outside [-90, 90]`
  return undefined
}

/**
 * The first bad position of a GeoJSON geometry (positions are `[longitude,
 * latitude, ...]`, at least 2 finite numbers, in WGS84 ranges), with its JSON
 * path under `at`. Only the first is reported: a file with swapped axes would
 * otherwise list every vertex. Walks `coordinates` by shape rather than by
 * `type`, so it also covers HySDS dataset.json `location` objects (whose types
 * may be lower-case); `null` or a non-object is left to the caller's schema.
 */
export const geometryIssues = (geometry: unknown, at: ReadonlyArray<PropertyKey>): ReadonlyArray<Issue> => {
  const walkGeometry = (g: unknown, path: ReadonlyArray<PropertyKey>, depth: number): Issue | undefined => {
    if (!Predicate.isRecord(g)) return undefined
    if (Array.isArray(g["geometries"])) {
      if (depth >= MAX_COLLECTION_DEPTH) return { path: jsonPath(path), message: `geometry collections nested deeper than ${MAX_COLLECTION_DEPTH}` }
      const list: ReadonlyArray<unknown> = g["geometries"]
      for (let i = 0; i < list.length; i++) {
        const found = walkGeometry(list[i], [...path, "geometries", i], depth + 1)
        if (found) return found
      }
      return undefined
    }
    if (!("coordinates" in g)) return undefined
    return walkCoordinates(g["coordinates"], [...path, "coordinates"], 0)
  }
  const walkCoordinates = (c: unknown, path: ReadonlyArray<PropertyKey>, depth: number): Issue | undefined => {
    if (!Array.isArray(c)) return { path: jsonPath(path), message: "expected an array of coordinates" }
    const list: ReadonlyArray<unknown> = c
    if (list.length > 0 && list.every((x) => !Array.isArray(x))) {
      // A position.
      if (list.length < 2) return { path: jsonPath(path), message: `a position needs at least 2 numbers ([longitude, latitude]), got ${list.length}` }
      const wrong = lonLatProblem(list[0], list[1]) ?? list.slice(2).map((x) => (typeof x === "number" && Number.isFinite(x) ? undefined : `${JSON.stringify(x) ?? String(x)} is not a finite number`)).find((m) => m !== undefined)
      return wrong === undefined
        ? undefined
        : { path: jsonPath(path), message: `position ${JSON.stringify(list)}: ${wrong} (GeoJSON positions are [longitude, latitude], WGS84)` }
    }
    if (depth >= MAX_COORDINATE_DEPTH) return { path: jsonPath(path), message: `coordinates nested deeper than a MultiPolygon's` }
    for (let i = 0; i < list.length; i++) {
      const found = walkCoordinates(list[i], [...path, i], depth + 1)
      if (found) return found
    }
    return undefined
  }
  const found = walkGeometry(geometry, at, 0)
  return found === undefined ? [] : [found]
}

/**
 * Range rules of a bbox: `[west, south, east, north]` or `[west, south, minz,
 * east, north, maxz]`, longitudes in [-180, 180], latitudes in [-90, 90], south
 * <= north (west > east is allowed: it crosses the antimeridian). A bbox of the
 * wrong shape is left to the schema.
 */
export const bboxIssues = (bbox: unknown, at: ReadonlyArray<PropertyKey>): ReadonlyArray<Issue> => {
  if (!Array.isArray(bbox) || (bbox.length !== 4 && bbox.length !== 6)) return []
  const b: ReadonlyArray<unknown> = bbox
  const half = b.length / 2
  const [west, south, east, north] = [0, 1, half, half + 1]
  for (const [lon, lat] of [[west, south], [east, north]] as const) {
    const wrong = lonLatProblem(b[lon], b[lat])
    if (wrong !== undefined) {
      const index = wrong.startsWith("longitude") ? lon : lat
      return [{ path: jsonPath([...at, index]), message: `${wrong} (a bbox is [west, south, ${half === 3 ? "minz, " : ""}east, north${half === 3 ? ", maxz" : ""}])` }]
    }
  }
  for (const index of half === 3 ? [2, 5] : []) {
    const z = b[index]
    if (typeof z !== "number" || !Number.isFinite(z)) return [{ path: jsonPath([...at, index]), message: `${JSON.stringify(z) ?? String(z)} is not a finite number` }]
  }
  if ((b[south] as number) > (b[north] as number)) {
    return [{ path: jsonPath(at), message: `south ${String(b[south])} is greater than north ${String(b[north])}` }]
  }
  return []
}

// ---------------------------------------------------------------------------
// Registry rules

/**
 * Why a registry with `rules` would refuse `id` for a collection or an item, or
 * undefined when it accepts it.
 */
export const idProblem = (id: string, rules: StacRules): string | undefined => {
  for (const c of id) {
    if (rules.forbiddenIdChars.includes(c)) {
      return `id ${JSON.stringify(id)} contains '${c}', which the STAC registry does not allow in ids (${rules.forbiddenIdChars.split("").join(" ")})`
    }
  }
  if (rules.maxIdLength !== undefined && id.length > rules.maxIdLength) {
    return `id ${JSON.stringify(id.slice(0, 40))}... is ${id.length} characters long; the STAC registry allows at most ${rules.maxIdLength}`
  }
  return undefined
}

// ---------------------------------------------------------------------------
// Hrefs

/** Schemes an asset may use to point at data we do not ship (metadata only). */
export const REMOTE_ASSET_SCHEMES: ReadonlyArray<string> = ["http", "https", "s3", "gs"]

/** Links that make up the catalog tree; `child` and `item` are followed when reading. */
export const STRUCTURAL_RELS: ReadonlyArray<string> = ["root", "parent", "child", "item", "collection", "self"]

export type Href =
  /** `scheme:...` other than `file:`; `scheme` is lower-case without the colon. */
  | { readonly _tag: "Url"; readonly scheme: string }
  /** `file:` URL: points at the local machine. */
  | { readonly _tag: "FileUrl" }
  /** `/x`, `\x`, `//host/x` or `C:\x`: a path on the local machine, not relative to the catalog. */
  | { readonly _tag: "AbsolutePath" }
  /** A path relative to the document, percent-decoded (`a%20b.tif` → `a b.tif`), `/`-separated. */
  | { readonly _tag: "Relative"; readonly path: string }

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/

/**
 * How an href is interpreted. Relative hrefs are URI references, so they are
 * percent-decoded to find the file; publishing re-encodes the same path, so the two
 * sides agree. A malformed escape (`100%.tif`) is taken literally rather than refused.
 */
export const classifyHref = (href: string): Href => {
  const m = SCHEME.exec(href)
  if (m) {
    const scheme = m[1]!.toLowerCase()
    // A one-letter "scheme" is a Windows drive letter.
    if (scheme.length === 1) return { _tag: "AbsolutePath" }
    return scheme === "file" ? { _tag: "FileUrl" } : { _tag: "Url", scheme }
  }
  if (href.startsWith("/") || href.startsWith("\\")) return { _tag: "AbsolutePath" }
  // Without a `%` there is nothing to decode (most hrefs: this runs for every link and asset).
  if (!href.includes("%")) return { _tag: "Relative", path: href }
  let path = href
  try {
    path = decodeURIComponent(href)
  } catch {
    // keep it literal
  }
  return { _tag: "Relative", path }
}
