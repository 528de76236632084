/**
 * Projection (`proj`). v1.x: the CRS as `proj:epsg` (an integer EPSG code or
 * null). v2.0.0 replaced it by `proj:code` (`"EPSG:32633"`, or null).
 */
import { Schema } from "effect"
import * as Stac from "../Stac.ts"
import type { Definition } from "./Definition.ts"

const common = {
  "proj:wkt2": Schema.NullOr(Schema.String),
  "proj:projjson": Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  "proj:geometry": Stac.Geometry,
  "proj:bbox": Stac.Bbox,
  "proj:centroid": Schema.Struct({
    lat: Schema.Number.pipe(Schema.between(-90, 90)),
    lon: Schema.Number.pipe(Schema.between(-180, 180))
  }),
  "proj:shape": Schema.Array(Schema.Int).pipe(Schema.itemsCount(2)),
  "proj:transform": Schema.Array(Schema.Number).pipe(
    Schema.filter((a) => a.length === 6 || a.length === 9 || `a transform has 6 or 9 numbers, got ${a.length}`)
  )
}

const v1 = { "proj:epsg": Schema.NullOr(Schema.Int), ...common }
const v2 = { "proj:code": Schema.NullOr(Schema.String), ...common }

export const Projection: Definition = {
  name: "projection",
  prefix: "proj:",
  versions: { "v1.0.0": v1, "v1.1.0": v1, "v1.2.0": v1, "v2.0.0": v2 }
}
