/**
 * Older STAC documents brought to STAC 1.1.0 before they are validated and
 * published, one object at a time (nothing here needs the rest of the tree,
 * so planning can migrate each document as it reads it and the publish can
 * migrate it again when it reads it back).
 *
 * Why our own rules rather than `@radiantearth/stac-migrate`: that package
 * (Apache-2.0) has runtime dependencies (`compare-versions`, and `yargs` for
 * its CLI), and core imports only `effect`, `@effect/platform` and `re2js`;
 * it also rewrites extension fields well beyond what this ingest needs. The
 * rules below are facts from the STAC changelog (0.9.0 → 1.0.0-beta/rc →
 * 1.0.0 → 1.1.0), applied only to the versions we accept:
 *
 * - 1.1.0: as is.
 * - 1.0.0: only `stac_version` changes. 1.1.0 is compatible with 1.0.0;
 *   `eo:bands`/`raster:bands` are deprecated in 1.1.0 in favour of `bands`,
 *   not removed, and stay valid under the extension versions they declare, so
 *   they are kept as written. An absolute `self` (a 1.1.0 rule) is added by
 *   publishing anyway.
 * - 0.9.x, 1.0.0-beta.x, 1.0.0-rc.x, then also:
 *   - `type` ("Catalog"/"Collection") became required on catalogs and
 *     collections (a collection is told apart by its `extent`/`license`);
 *   - `stac_extensions` became schema URLs instead of short ids (`eo` →
 *     `https://stac-extensions.github.io/eo/v1.0.0/schema.json`); `commons` was
 *     folded into the core spec and is dropped; the 1.0.0-beta schema URLs under
 *     `schemas.stacspec.org/.../extensions/<name>/` become the extension's own;
 *   - `eo:gsd` became the common field `gsd`;
 *   - an asset's `eo:bands` held indices into the item's `eo:bands`; it now
 *     holds the band objects themselves;
 *   - the `checksum` extension became the `file` extension
 *     (`checksum:multihash` → `file:checksum`);
 *   - a collection summary range `{min, max}` became `{minimum, maximum}`.
 * - Anything older than 0.9.0 is refused: too much of it changed (extents,
 *   link and field names) to be migrated without guessing.
 */
import { Either, Predicate } from "effect"

export const TARGET_VERSION = "1.1.0"

/** The oldest version migrated; the message of a refusal names it. */
export const OLDEST_MIGRATED = "0.9.0"

type Json = Record<string, unknown>

export interface Migrated {
  /** The document in STAC 1.1.0 (a copy when anything changed; the input itself when not). */
  readonly json: Json
  /** The version it was written in, when it was migrated. */
  readonly from?: string
  /** What changed, in words, for the warning. */
  readonly changes: ReadonlyArray<string>
}

/** Why a document cannot be migrated; `path` is its JSON path. */
export interface Refusal {
  readonly path: string
  readonly message: string
}

const VERSION = /^(\d+)\.(\d+)\.(\d+)(?:-(alpha|beta|rc)\.?(\d+))?$/

const EXTENSION_BASE = "https://stac-extensions.github.io"

/** Short extension ids of 0.9 / 1.0.0-beta and the extension (and version) each became in 1.0.0. */
const SHORT_IDS: Record<string, readonly [string, string] | null> = {
  eo: ["eo", "v1.0.0"],
  proj: ["projection", "v1.0.0"],
  projection: ["projection", "v1.0.0"],
  sar: ["sar", "v1.0.0"],
  sat: ["sat", "v1.0.0"],
  view: ["view", "v1.0.0"],
  scientific: ["scientific", "v1.0.0"],
  version: ["version", "v1.0.0"],
  label: ["label", "v1.0.0"],
  pointcloud: ["pointcloud", "v1.0.0"],
  datacube: ["datacube", "v1.0.0"],
  timestamps: ["timestamps", "v1.0.0"],
  "item-assets": ["item-assets", "v1.0.0"],
  asset: ["item-assets", "v1.0.0"],
  "single-file-stac": ["single-file-stac", "v1.0.0"],
  "tiled-assets": ["tiled-assets", "v1.0.0"],
  file: ["file", "v2.1.0"],
  checksum: ["file", "v2.1.0"],
  // Folded into the core spec in 1.0.0-beta.1.
  commons: null
}

const extensionUrl = ([name, version]: readonly [string, string]) => `${EXTENSION_BASE}/${name}/${version}/schema.json`

/** `https://schemas.stacspec.org/v1.0.0-beta.2/extensions/eo/json-schema/schema.json` → `eo`. */
const BETA_SCHEMA_URL = /^https?:\/\/schemas\.stacspec\.org\/v[^/]+\/extensions\/([a-z0-9-]+)\/json-schema\/schema\.json$/i

export const FILE_EXTENSION = extensionUrl(["file", "v2.1.0"])

const isOlderThan09 = (major: number, minor: number) => major === 0 && minor < 9

/**
 * `json` in STAC 1.1.0, or why it cannot be. A document whose `stac_version`
 * is missing or not a string is returned unchanged: the schema reports it.
 */
export const migrate = (json: Json): Either.Either<Migrated, Refusal> => {
  const version = json["stac_version"]
  if (typeof version !== "string" || version === TARGET_VERSION) return Either.right({ json, changes: [] })
  const m = VERSION.exec(version)
  if (m === null) return Either.left(unsupported(version))
  const major = Number(m[1])
  const minor = Number(m[2])
  const patch = Number(m[3])
  const pre = m[4]
  if (isOlderThan09(major, minor)) {
    return Either.left({
      path: "$.stac_version",
      message: `stac_version ${JSON.stringify(version)} is older than ${OLDEST_MIGRATED}, the oldest version hysds-stac migrates; write STAC 1.1.0 (or 1.0.0), or migrate the catalog first (e.g. with stac-migrate)`
    })
  }
  const is09 = major === 0 && minor === 9
  const is100 = major === 1 && minor === 0 && patch === 0
  if (!is09 && !(is100 && (pre === undefined || pre === "beta" || pre === "rc"))) return Either.left(unsupported(version))

  const out = structuredClone(json)
  const changes: Array<string> = []
  if (is09 || pre !== undefined) beforeOne(out, changes)
  out["stac_version"] = TARGET_VERSION
  return Either.right({ json: out, from: version, changes })
}

const unsupported = (version: string): Refusal => ({
  path: "$.stac_version",
  message: `unsupported stac_version ${JSON.stringify(version)}: hysds-stac reads STAC 1.1.0 and 1.0.0, and migrates 0.9.x, 1.0.0-beta.x and 1.0.0-rc.x to 1.1.0`
})

/** The 0.9 / 1.0.0-beta / 1.0.0-rc → 1.0.0 rules, in place on a copy. */
const beforeOne = (json: Json, changes: Array<string>): void => {
  if (json["type"] === undefined) {
    const type = json["extent"] !== undefined || json["license"] !== undefined ? "Collection" : "Catalog"
    json["type"] = type
    changes.push(`type "${type}" added`)
  }
  const movedToFile = migrateChecksums(json, changes)
  migrateExtensions(json, changes, movedToFile)
  const properties = json["properties"]
  if (Predicate.isRecord(properties)) {
    renameField(properties, "eo:gsd", "gsd", "properties", changes)
    migrateAssetBands(json, properties, changes)
  }
  for (const [key, asset] of assetsOf(json)) renameField(asset, "eo:gsd", "gsd", `assets.${key}`, changes)
  migrateSummaries(json, changes)
}

const assetsOf = (json: Json): Array<readonly [string, Json]> => {
  const assets = json["assets"]
  if (!Predicate.isRecord(assets)) return []
  return Object.entries(assets).filter((e): e is [string, Json] => Predicate.isRecord(e[1]))
}

const renameField = (o: Json, from: string, to: string, where: string, changes: Array<string>): boolean => {
  if (!(from in o)) return false
  if (!(to in o)) o[to] = o[from]
  delete o[from]
  changes.push(`${where}.${from} → ${to}`)
  return true
}

const migrateChecksums = (json: Json, changes: Array<string>): boolean => {
  let moved = false
  const properties = json["properties"]
  if (Predicate.isRecord(properties)) moved = renameField(properties, "checksum:multihash", "file:checksum", "properties", changes) || moved
  for (const [key, asset] of assetsOf(json)) moved = renameField(asset, "checksum:multihash", "file:checksum", `assets.${key}`, changes) || moved
  return moved
}

const migrateExtensions = (json: Json, changes: Array<string>, needsFile: boolean): void => {
  const list = json["stac_extensions"]
  if (!Array.isArray(list)) {
    if (needsFile && list === undefined) {
      json["stac_extensions"] = [FILE_EXTENSION]
      changes.push(`stac_extensions: ${FILE_EXTENSION} added`)
    }
    return
  }
  const out: Array<unknown> = []
  for (const entry of list as ReadonlyArray<unknown>) {
    if (typeof entry !== "string") {
      out.push(entry)
      continue
    }
    const beta = BETA_SCHEMA_URL.exec(entry)
    const short = beta !== null ? beta[1]!.toLowerCase() : entry
    const known = Object.hasOwn(SHORT_IDS, short) ? SHORT_IDS[short] : undefined
    if (known === undefined) {
      out.push(entry)
    } else if (known === null) {
      changes.push(`stac_extensions: ${JSON.stringify(entry)} dropped (part of the core spec since 1.0.0)`)
    } else {
      const url = extensionUrl(known)
      if (!out.includes(url)) out.push(url)
      changes.push(`stac_extensions: ${JSON.stringify(entry)} → ${url}`)
    }
  }
  if (needsFile && !out.some((e) => typeof e === "string" && e.startsWith(`${EXTENSION_BASE}/file/`))) {
    out.push(FILE_EXTENSION)
    changes.push(`stac_extensions: ${FILE_EXTENSION} added`)
  }
  json["stac_extensions"] = out
}

/** 0.9: an asset's `eo:bands` lists indices into the item's `eo:bands`; 1.0 wants the bands themselves. */
const migrateAssetBands = (json: Json, properties: Json, changes: Array<string>): void => {
  const bands = properties["eo:bands"]
  if (!Array.isArray(bands)) return
  const all: ReadonlyArray<unknown> = bands
  for (const [key, asset] of assetsOf(json)) {
    const refs = asset["eo:bands"]
    if (!Array.isArray(refs) || refs.length === 0) continue
    const indices: ReadonlyArray<unknown> = refs
    if (!indices.every((i) => typeof i === "number" && Number.isInteger(i) && i >= 0 && i < all.length)) continue
    asset["eo:bands"] = indices.map((i) => structuredClone(all[i as number]))
    changes.push(`assets.${key}.eo:bands indices → band objects`)
  }
}

const migrateSummaries = (json: Json, changes: Array<string>): void => {
  const summaries = json["summaries"]
  if (!Predicate.isRecord(summaries)) return
  for (const [key, value] of Object.entries(summaries)) {
    if (!Predicate.isRecord(value) || !("min" in value) || !("max" in value) || "minimum" in value || "maximum" in value) continue
    const { min, max, ...rest } = value
    summaries[key] = { minimum: min, maximum: max, ...rest }
    changes.push(`summaries.${key} {min, max} → {minimum, maximum}`)
  }
}

/** The warning a migrated object gets. */
export const describe = (m: Migrated): string =>
  `migrated from STAC ${m.from ?? "?"} to ${TARGET_VERSION}${m.changes.length > 0 ? ` (${m.changes.join("; ")})` : ""}; it is validated and published as ${TARGET_VERSION}`
