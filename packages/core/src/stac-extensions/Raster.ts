/**
 * Raster (`raster`). v1.x: `raster:bands`, an array of band objects. v2.0.0
 * (STAC 1.1): bands moved to the common `bands` and `nodata`, `data_type`,
 * `statistics` and `unit` became common metadata; what stays raster's is
 * `raster:`-prefixed, in properties, assets or band objects.
 */
import { Schema } from "effect"
import { DataType, type Definition, NoData, percent, positiveInt, Rest } from "./Definition.ts"

const Statistics = Schema.Struct(
  {
    mean: Schema.optional(Schema.Number),
    minimum: Schema.optional(Schema.Number),
    maximum: Schema.optional(Schema.Number),
    stddev: Schema.optional(Schema.Number),
    valid_percent: Schema.optional(percent)
  },
  Rest
)

const Sampling = Schema.Literal("area", "point")
const Histogram = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const BandV1 = Schema.Struct(
  {
    nodata: Schema.optional(NoData),
    sampling: Schema.optional(Sampling),
    data_type: Schema.optional(DataType),
    bits_per_sample: Schema.optional(positiveInt),
    spatial_resolution: Schema.optional(Schema.Number),
    statistics: Schema.optional(Statistics),
    unit: Schema.optional(Schema.String),
    scale: Schema.optional(Schema.Number),
    offset: Schema.optional(Schema.Number),
    histogram: Schema.optional(Histogram)
  },
  Rest
)

const v1 = { "raster:bands": Schema.Array(BandV1) }

const v2 = {
  "raster:sampling": Sampling,
  "raster:bits_per_sample": positiveInt,
  "raster:spatial_resolution": Schema.Number,
  "raster:scale": Schema.Number,
  "raster:offset": Schema.Number,
  "raster:histogram": Histogram
}

export const Raster: Definition = { name: "raster", prefix: "raster:", versions: { "v1.0.0": v1, "v1.1.0": v1, "v2.0.0": v2 } }
