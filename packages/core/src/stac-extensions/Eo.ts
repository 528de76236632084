/**
 * Electro-Optical (`eo`). v1.x (STAC 1.0): `eo:cloud_cover`, `eo:snow_cover`
 * (v1.1) and `eo:bands`, an array of band objects. v2.0.0 (STAC 1.1): bands
 * moved to the common `bands`, so the band fields are `eo:`-prefixed and may
 * stand in properties, assets or band objects.
 */
import { Schema } from "effect"
import { type Definition, nonNegative, percent, plus, Rest } from "./Definition.ts"

const bandV1 = {
  name: Schema.optional(Schema.String),
  common_name: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  center_wavelength: Schema.optional(Schema.Number),
  full_width_half_max: Schema.optional(Schema.Number)
}

const v1_0 = {
  "eo:cloud_cover": percent,
  "eo:bands": Schema.Array(Schema.Struct(bandV1, Rest))
}

const v1_1 = plus(v1_0, {
  "eo:snow_cover": percent,
  "eo:bands": Schema.Array(Schema.Struct({ ...bandV1, solar_illumination: Schema.optional(nonNegative) }, Rest))
})

const v2_0 = {
  "eo:cloud_cover": percent,
  "eo:snow_cover": percent,
  "eo:common_name": Schema.String,
  "eo:center_wavelength": Schema.Number,
  "eo:full_width_half_max": Schema.Number,
  "eo:solar_illumination": nonNegative
}

export const Eo: Definition = { name: "eo", prefix: "eo:", versions: { "v1.0.0": v1_0, "v1.1.0": v1_1, "v2.0.0": v2_0 } }
