/**
 * What one STAC extension version defines, as we check it: the extension's
 * field prefix and, per field name, the schema of its value. Written by us
 * from the field tables of each extension's specification
 * (https://github.com/stac-extensions/<name>); nothing is fetched at run time.
 *
 * Only the type, range and allowed values of a field that is present are
 * checked: which fields an extension requires differs between versions and
 * between Items and Collections, and an ingest refusing a catalog every STAC
 * validator accepts would be worse than one that lets a missing optional
 * field through.
 */
import { Schema } from "effect"

export type FieldSchema = Schema.Schema<any, any, never>

export interface Definition {
  /** The extension's name in its schema URL (`projection`, not `proj`). */
  readonly name: string
  /** Field name prefix, with the colon (`proj:`). */
  readonly prefix: string
  /** Versions as they appear in the schema URL (`v1.0.0`), each with its fields. */
  readonly versions: Readonly<Record<string, Readonly<Record<string, FieldSchema>>>>
}

/** Keeps fields a band or object struct does not name: extensions nest others' fields. */
export const Rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

export const between = (min: number, max: number) => Schema.Number.pipe(Schema.between(min, max))
export const nonNegative = Schema.Number.pipe(Schema.nonNegative())
export const positiveInt = Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))
export const nonNegativeInt = Schema.Int.pipe(Schema.nonNegative())
export const percent = between(0, 100)

/** Raster data types (raster and file extensions; common metadata in STAC 1.1). */
export const DataType = Schema.Literal(
  "int8",
  "int16",
  "int32",
  "int64",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
  "float16",
  "float32",
  "float64",
  "cint16",
  "cint32",
  "cfloat32",
  "cfloat64",
  "other"
)

/** A no-data value: a number, or one of the strings JSON cannot write as a number. */
export const NoData = Schema.Union(Schema.Number, Schema.Literal("nan", "inf", "-inf"))

/** `fields` extended by `more`, for a version that adds to the one before. */
export const plus = (fields: Readonly<Record<string, FieldSchema>>, more: Readonly<Record<string, FieldSchema>>) => ({ ...fields, ...more })
