/**
 * The fields of the STAC extensions a document declares, checked before it is
 * published, offline: `eo`, `sar`, `proj`, `sat`, `file`, `view` and `raster`,
 * each version defined by us from its specification (stac-extensions/).
 *
 * An extension is matched by its `stac_extensions` schema URL, version
 * included (`https://stac-extensions.github.io/eo/v1.1.0/schema.json`): the
 * fields differ between versions (`proj:epsg` in v1, `proj:code` in v2). Any
 * other URL (another extension, or a version we do not know) is a warning:
 * its fields are published unchecked, as a STAC API would.
 *
 * Where extension fields are looked for: an item's `properties`, every asset
 * (of an item or a collection), a collection's `item_assets`, and each object
 * of a `bands` array in any of these (STAC 1.1 band objects carry
 * `eo:`/`raster:` fields). One document at a time, as it is read.
 */
import { Either, ParseResult, Predicate, Schema } from "effect"
import { type Issue, jsonPath } from "./Stac.ts"
import type { Definition, FieldSchema } from "./stac-extensions/Definition.ts"
import { Eo } from "./stac-extensions/Eo.ts"
import { File } from "./stac-extensions/File.ts"
import { Projection } from "./stac-extensions/Projection.ts"
import { Raster } from "./stac-extensions/Raster.ts"
import { Sar } from "./stac-extensions/Sar.ts"
import { Sat } from "./stac-extensions/Sat.ts"
import { View } from "./stac-extensions/View.ts"

export const DEFINITIONS: ReadonlyArray<Definition> = [Eo, Sar, Projection, Sat, File, View, Raster]

const URL = /^https:\/\/stac-extensions\.github\.io\/([a-z0-9-]+)\/(v\d+\.\d+\.\d+(?:-[A-Za-z0-9.]+)?)\/schema\.json$/

type Decoder = (u: unknown) => Either.Either<unknown, ParseResult.ParseError>

/** One declared, known extension version: its prefix and a decoder per field. */
interface Active {
  readonly label: string
  readonly prefix: string
  readonly fields: ReadonlyMap<string, Decoder>
}

/** Built once per extension version, on first use. */
const compiled = new Map<string, Active>()
const activeFor = (d: Definition, version: string): Active | undefined => {
  const key = `${d.name}/${version}`
  const known = compiled.get(key)
  if (known !== undefined) return known
  const fields = d.versions[version]
  if (fields === undefined) return undefined
  const decoders = new Map<string, Decoder>()
  for (const [name, schema] of Object.entries(fields)) {
    decoders.set(name, Schema.decodeUnknownEither(schema as FieldSchema, { errors: "all", onExcessProperty: "preserve" }))
  }
  const active = { label: `${d.name} ${version}`, prefix: d.prefix, fields: decoders }
  compiled.set(key, active)
  return active
}

export interface Checked {
  /** Fields that break their extension's definition: the document is refused. */
  readonly issues: ReadonlyArray<Issue>
  /** Extensions declared but not checked. */
  readonly warnings: ReadonlyArray<Issue>
}

const EMPTY: Checked = { issues: [], warnings: [] }

/** Which declared extensions we check, and a warning for each we cannot. */
const declared = (json: Record<string, unknown>): { readonly active: ReadonlyArray<Active>; readonly warnings: Array<Issue> } => {
  const list = json["stac_extensions"]
  const active: Array<Active> = []
  const warnings: Array<Issue> = []
  if (!Array.isArray(list)) return { active, warnings }
  const entries: ReadonlyArray<unknown> = list
  entries.forEach((entry, i) => {
    if (typeof entry !== "string") return // the schema reports it
    const m = URL.exec(entry)
    const definition = m === null ? undefined : DEFINITIONS.find((d) => d.name === m[1])
    const found = definition === undefined || m === null ? undefined : activeFor(definition, m[2]!)
    if (found !== undefined) {
      active.push(found)
      return
    }
    const why =
      definition !== undefined
        ? `version ${m![2]} of the ${definition.name} extension is not one hysds-stac knows (known: ${Object.keys(definition.versions).join(", ")})`
        : `extension ${entry} is not one hysds-stac checks (${DEFINITIONS.map((d) => d.name).join(", ")})`
    warnings.push({ path: jsonPath(["stac_extensions", i]), message: `${why}; its fields are published unchecked` })
  })
  return { active, warnings }
}

const EXPECTED = /^Expected (.+), actual (.+)$/s

/**
 * One message per path: a union (allowed values, number or null) reports each
 * member's miss at the same path; `Expected "HH", actual "XX"` four times reads
 * better as `Expected "HH" or "VV" or ..., actual "XX"`.
 */
const onePerPath = (issues: ReadonlyArray<ParseResult.ArrayFormatterIssue>): Array<readonly [ReadonlyArray<PropertyKey>, string]> => {
  const groups = new Map<string, { path: ReadonlyArray<PropertyKey>; messages: Array<string> }>()
  for (const i of issues) {
    const key = JSON.stringify(i.path.map(String))
    const group = groups.get(key)
    if (group === undefined) groups.set(key, { path: i.path, messages: [i.message] })
    else if (!group.messages.includes(i.message)) group.messages.push(i.message)
  }
  return [...groups.values()].map(({ path, messages }) => {
    const parsed = messages.map((m) => EXPECTED.exec(m))
    if (messages.length === 1 || parsed.some((m) => m === null)) return [path, messages.join("; ")] as const
    return [path, `Expected ${parsed.map((m) => m![1]).join(" or ")}, actual ${parsed[0]![2]}`] as const
  })
}

/** Checks every extension field of one object (`at` is its path) against the declared extensions. */
const checkFields = (o: Record<string, unknown>, at: ReadonlyArray<PropertyKey>, active: ReadonlyArray<Active>, issues: Array<Issue>): void => {
  for (const [key, value] of Object.entries(o)) {
    const colon = key.indexOf(":")
    if (colon <= 0) continue
    const prefix = key.slice(0, colon + 1)
    for (const ext of active) {
      if (ext.prefix !== prefix) continue
      const decode = ext.fields.get(key)
      if (decode === undefined) continue
      const result = decode(value)
      if (Either.isRight(result)) continue
      for (const [path, message] of onePerPath(ParseResult.ArrayFormatter.formatErrorSync(result.left))) {
        issues.push({ path: jsonPath([...at, key, ...path]), message: `${key} (${ext.label}): ${message}` })
      }
    }
  }
  // STAC 1.1 band objects carry extension fields too.
  const bands = o["bands"]
  if (Array.isArray(bands)) {
    const list: ReadonlyArray<unknown> = bands
    list.forEach((band, i) => {
      if (Predicate.isRecord(band)) checkFields(band, [...at, "bands", i], active, issues)
    })
  }
}

const eachObject = (json: Record<string, unknown>, f: (o: Record<string, unknown>, at: ReadonlyArray<PropertyKey>) => void): void => {
  const properties = json["properties"]
  if (json["type"] === "Feature" && Predicate.isRecord(properties)) f(properties, ["properties"])
  for (const container of ["assets", "item_assets"] as const) {
    const assets = json[container]
    if (!Predicate.isRecord(assets)) continue
    for (const [key, asset] of Object.entries(assets)) if (Predicate.isRecord(asset)) f(asset, [container, key])
  }
}

/** The extension problems and warnings of one STAC document (already migrated to 1.1). */
export const check = (json: Record<string, unknown>): Checked => {
  if (json["stac_extensions"] === undefined) return EMPTY
  const { active, warnings } = declared(json)
  const issues: Array<Issue> = []
  if (active.length > 0) eachObject(json, (o, at) => checkFields(o, at, active, issues))
  return issues.length === 0 && warnings.length === 0 ? EMPTY : { issues, warnings }
}
