/** Synthetic-Aperture Radar (`sar`), v1.x. */
import { Schema } from "effect"
import { type Definition, nonNegative } from "./Definition.ts"

const fields = {
  "sar:instrument_mode": Schema.String,
  "sar:frequency_band": Schema.Literal("P", "L", "S", "C", "X", "Ku", "K", "Ka"),
  "sar:center_frequency": Schema.Number,
  "sar:polarizations": Schema.Array(Schema.Literal("HH", "VV", "HV", "VH")),
  "sar:product_type": Schema.String,
  "sar:resolution_range": nonNegative,
  "sar:resolution_azimuth": nonNegative,
  "sar:pixel_spacing_range": nonNegative,
  "sar:pixel_spacing_azimuth": nonNegative,
  "sar:looks_range": nonNegative,
  "sar:looks_azimuth": nonNegative,
  "sar:looks_equivalent_number": nonNegative,
  "sar:observation_direction": Schema.Literal("left", "right")
}

export const Sar: Definition = { name: "sar", prefix: "sar:", versions: { "v1.0.0": fields, "v1.1.0": fields } }
