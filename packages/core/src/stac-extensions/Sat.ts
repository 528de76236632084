/** Satellite (`sat`): orbit of the platform. */
import { Schema } from "effect"
import * as Stac from "../Stac.ts"
import { type Definition, plus, positiveInt } from "./Definition.ts"

const v1_0 = {
  "sat:platform_international_designator": Schema.String,
  "sat:orbit_state": Schema.Literal("ascending", "descending", "geostationary"),
  "sat:absolute_orbit": positiveInt,
  "sat:relative_orbit": positiveInt,
  "sat:anx_datetime": Stac.DateTime
}

const v1_1 = plus(v1_0, {
  "sat:orbit_cycle": positiveInt,
  "sat:orbit_state_vectors": Schema.Record({ key: Schema.String, value: Schema.Array(Schema.Number) })
})

export const Sat: Definition = { name: "sat", prefix: "sat:", versions: { "v1.0.0": v1_0, "v1.1.0": v1_1 } }
