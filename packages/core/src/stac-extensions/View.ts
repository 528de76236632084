/** View geometry (`view`): angles of the sensor, sun (and moon, v1.1.0) in degrees. */
import { between, type Definition, plus } from "./Definition.ts"

const v1_0 = {
  "view:off_nadir": between(0, 90),
  "view:incidence_angle": between(0, 90),
  "view:azimuth": between(0, 360),
  "view:sun_azimuth": between(0, 360),
  "view:sun_elevation": between(-90, 90)
}

const v1_1 = plus(v1_0, { "view:moon_azimuth": between(0, 360), "view:moon_elevation": between(-90, 90) })

export const View: Definition = { name: "view", prefix: "view:", versions: { "v1.0.0": v1_0, "v1.1.0": v1_1 } }
