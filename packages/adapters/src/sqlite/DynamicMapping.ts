/**
 * Elasticsearch/OpenSearch dynamic mapping, emulated closely enough to fail where
 * GRQ fails. HySDS writes free-form `met.json` into `metadata.*` and lets the
 * search engine guess each field's type from the first document that sets it;
 * a later product with an object where a value was seen (or a word where a
 * number was seen) is rejected by the engine. That is one of the commonest
 * production failures of an ingest, so the embedded index reproduces it
 * without a server instead of accepting everything and surprising users later.
 *
 * What is emulated (ES 7/8, OpenSearch 1-3 defaults, GRQ's index template):
 * - the first value of a field path fixes its type: object, `long` (whole
 *   number), `float`, `boolean`, `date` (see date detection), `text` (string);
 * - coercion as ES does it: `text` takes any concrete value (numbers and
 *   booleans become strings), numbers take numeric strings (`"12"`), `boolean`
 *   takes `"true"`, `"false"` and `""`, `date` takes numbers (epoch millis) and
 *   ISO dates; `long` takes fractions (ES truncates them);
 * - `null` and `[]` set nothing; arrays are flattened, each element must fit;
 * - dotted keys (`{"a.b": 1}`) are objects (`{"a": {"b": 1}}`), as in ES;
 * - date detection (`date_detection`, on by default; GRQ's template leaves it
 *   on): a new string field that looks like `yyyy-MM-dd[THH:mm[:ss[.SSS]]][zone]`
 *   or `yyyy/MM/dd[ HH:mm:ss]` becomes a `date`, and later non-dates in it fail;
 * - `index.mapping.total_fields.limit` (1000): objects and fields count one,
 *   a string field two (its `keyword` sub-field);
 * - object paths GRQ's template declares `enabled: false` (`metadata.context`)
 *   are not parsed at all, so anything goes there;
 * - metadata fields (`_id`, `_source`, ...) at the top level are rejected.
 *
 * Not emulated: explicit template types such as `geo_shape` for `location`,
 * strict date formats beyond the shapes above, `ignore_above`, depth limits.
 */
import { Either, Predicate } from "effect"

export type FieldType = "object" | "long" | "float" | "boolean" | "date" | "text"

/** Field path (dotted) → type, for one index. */
export type Mapping = ReadonlyMap<string, FieldType>

export interface Options {
  readonly dateDetection: boolean
  readonly totalFieldsLimit: number
  readonly unmappedPaths: ReadonlyArray<string>
}

export const defaults: Options = {
  dateDetection: true,
  totalFieldsLimit: 1000,
  unmappedPaths: ["metadata.context"]
}

/** What a field costs against `total_fields.limit`: a string is `text` plus its `keyword` sub-field. */
export const fieldCost = (type: FieldType): number => (type === "text" ? 2 : 1)

export const totalFields = (mapping: Mapping): number => {
  let n = 0
  for (const type of mapping.values()) n += fieldCost(type)
  return n
}

const METADATA_FIELDS = new Set([
  "_id",
  "_index",
  "_source",
  "_routing",
  "_type",
  "_version",
  "_seq_no",
  "_primary_term",
  "_field_names",
  "_ignored",
  "_doc_count",
  "_tier",
  "_nested_path",
  "_data_stream_timestamp"
])

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/
const SLASH_DATE = /^(\d{4})\/(\d{2})\/(\d{2})(?: \d{2}:\d{2}:\d{2})?(?: ?(?:Z|[+-]\d{4}))?$/

/** The shapes ES's default `dynamic_date_formats` recognise, with month and day in range. */
export const looksLikeDate = (s: string): boolean => {
  const m = ISO_DATE.exec(s) ?? SLASH_DATE.exec(s)
  if (!m) return false
  const month = Number(m[2])
  const day = Number(m[3])
  return month >= 1 && month <= 12 && day >= 1 && day <= 31
}

/** A date field parses ISO dates, partial ones (`2020`, `2020-01`) included, and epoch millis. */
const parsesAsDate = (value: unknown): boolean =>
  typeof value === "number" ||
  (typeof value === "string" &&
    (looksLikeDate(value) || /^\d{4}(-\d{2})?$/.test(value) || /^-?\d+$/.test(value)))

const parsesAsNumber = (value: unknown): boolean =>
  typeof value === "number" || (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))

const accepts = (type: Exclude<FieldType, "object">, value: string | number | boolean): boolean => {
  switch (type) {
    case "text":
      return true
    case "long":
    case "float":
      return parsesAsNumber(value)
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false" || value === ""
    case "date":
      return typeof value !== "boolean" && parsesAsDate(value)
  }
}

const preview = (value: unknown): string => {
  const s = typeof value === "string" ? value : JSON.stringify(value)
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

class Rejected {
  constructor(readonly reason: string) {}
}

/**
 * Parses one document against `mapping` the way ES's document parser does.
 * Right: the field paths this document adds (empty when it adds none); they
 * must be persisted only if the document is accepted, as ES discards the
 * dynamic updates of a rejected document. Left: the reason, worded like ES.
 */
export const parse = (
  mapping: Mapping,
  id: string,
  doc: Readonly<Record<string, unknown>>,
  options: Options = defaults
): Either.Either<ReadonlyMap<string, FieldType>, string> => {
  const added = new Map<string, FieldType>()
  const typeOf = (path: string) => added.get(path) ?? mapping.get(path)
  const unmapped = (path: string) => options.unmappedPaths.some((u) => path === u || path.startsWith(`${u}.`))
  const cannotParse = (path: string, type: FieldType, value: unknown) =>
    new Rejected(
      `mapper_parsing_exception: failed to parse field [${path}] of type [${type}] in document with id '${id}'. ` +
        `Preview of field's value: '${preview(value)}'`
    )

  const visitObject = (obj: Readonly<Record<string, unknown>>, prefix: string): void => {
    for (const [key, value] of Object.entries(obj)) {
      if (key === "") throw new Rejected("mapper_parsing_exception: field name cannot be an empty string")
      if (prefix === "" && METADATA_FIELDS.has(key)) {
        throw new Rejected(
          `mapper_parsing_exception: Field [${key}] is a metadata field and cannot be added inside a document. ` +
            "Use the index API request parameters."
        )
      }
      const parts = key.split(".")
      if (parts.some((p) => p === "")) {
        throw new Rejected(
          `illegal_argument_exception: object field starting or ending with a [.] makes object resolution ambiguous: [${key}]`
        )
      }
      let path = prefix
      for (const part of parts.slice(0, -1)) {
        path = path === "" ? part : `${path}.${part}`
        if (unmapped(path)) break
        const type = typeOf(path)
        if (type === undefined) added.set(path, "object")
        else if (type !== "object") {
          throw new Rejected(
            `mapper_parsing_exception: Could not dynamically add mapping for field [${prefix === "" ? key : `${prefix}.${key}`}]. ` +
              `Existing mapping for [${path}] must be of type object but found [${type}].`
          )
        }
      }
      if (unmapped(path)) continue
      const leaf = parts[parts.length - 1]!
      visitValue(path === "" ? leaf : `${path}.${leaf}`, leaf, value)
    }
  }

  const visitValue = (path: string, name: string, value: unknown): void => {
    if (unmapped(path) || value === null || value === undefined) return
    if (Array.isArray(value)) {
      for (const element of value) visitValue(path, name, element)
      return
    }
    const type = typeOf(path)
    if (Predicate.isRecord(value)) {
      if (type === undefined) added.set(path, "object")
      else if (type !== "object") throw cannotParse(path, type, value)
      visitObject(value, path)
      return
    }
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw cannotParse(path, type ?? "text", String(value))
    }
    if (type === "object") {
      throw new Rejected(
        `mapper_parsing_exception: object mapping for [${path}] tried to parse field [${name}] as object, but found a concrete value`
      )
    }
    if (type === undefined) added.set(path, detect(value, options))
    else if (!accepts(type, value)) throw cannotParse(path, type, value)
  }

  try {
    visitObject(doc, "")
  } catch (e) {
    if (e instanceof Rejected) return Either.left(e.reason)
    throw e
  }
  const current = totalFields(mapping)
  const more = totalFields(added)
  if (more > 0 && current + more > options.totalFieldsLimit) {
    return Either.left(
      `illegal_argument_exception: Limit of total fields [${options.totalFieldsLimit}] has been exceeded ` +
        `while adding new fields [${more}]`
    )
  }
  return Either.right(added)
}

const detect = (value: string | number | boolean, options: Options): Exclude<FieldType, "object"> => {
  if (typeof value === "boolean") return "boolean"
  if (typeof value === "number") return Number.isInteger(value) ? "long" : "float"
  return options.dateDetection && looksLikeDate(value) ? "date" : "text"
}
