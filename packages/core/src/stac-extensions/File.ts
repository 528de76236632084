/**
 * File info (`file`): size, checksum (a hex multihash), byte order. v1.0.0
 * also had the raster-like `file:data_type`, `file:nodata`,
 * `file:bits_per_sample` and `file:unpacked_size`, dropped in v2.0.0;
 * v2.1.0 added `file:local_path`.
 */
import { Schema } from "effect"
import { DataType, type Definition, nonNegativeInt, plus, positiveInt } from "./Definition.ts"

const common = {
  "file:size": nonNegativeInt,
  "file:checksum": Schema.String.pipe(Schema.pattern(/^[a-f0-9]+$/i, { message: () => "a file:checksum is a multihash in hex digits" })),
  "file:header_size": nonNegativeInt,
  "file:byte_order": Schema.Literal("big-endian", "little-endian"),
  "file:values": Schema.Array(Schema.Struct({ values: Schema.Array(Schema.Unknown).pipe(Schema.minItems(1)), summary: Schema.String }))
}

const v1 = plus(common, {
  "file:data_type": DataType,
  "file:nodata": Schema.Array(Schema.Unknown),
  "file:bits_per_sample": positiveInt,
  "file:unpacked_size": nonNegativeInt
})

export const File: Definition = {
  name: "file",
  prefix: "file:",
  versions: { "v1.0.0": v1, "v2.0.0": common, "v2.1.0": plus(common, { "file:local_path": Schema.String }) }
}
