import { describe, expect, test } from "bun:test"
import * as Centroid from "./Centroid.ts"

// Expected values: shapely 2 (`shape(g).centroid`), which grq2 uses, run once with Python 3.11.
const cases: Array<[string, unknown, [number, number]]> = [
  ["a rectangle", { type: "Polygon", coordinates: [[[14.9, 37.6], [15.2, 37.6], [15.2, 37.9], [14.9, 37.9], [14.9, 37.6]]] }, [15.049999999999999, 37.75]],
  ["a polygon with a hole", { type: "Polygon", coordinates: [[[0, 0], [10, 0], [10, 4], [0, 4], [0, 0]], [[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]] }, [5.089743589743589, 2.0128205128205128]],
  ["a clockwise quadrilateral", { type: "Polygon", coordinates: [[[-118.2, 34.1], [-118.5, 35.6], [-116.8, 35.2], [-117.1, 33.9], [-118.2, 34.1]]] }, [-117.65595238095237, 34.75127551020408]],
  ["a multipolygon split at the antimeridian (area-weighted, planar)", { type: "MultiPolygon", coordinates: [[[[170, -10], [180, -10], [180, 10], [170, 10], [170, -10]]], [[[-180, -10], [-175, -10], [-175, 10], [-180, 10], [-180, -10]]]] }, [57.5, 0]],
  ["a line (length-weighted)", { type: "LineString", coordinates: [[0, 0], [3, 0], [3, 4]] }, [2.357142857142857, 1.1428571428571428]],
  ["points (averaged)", { type: "MultiPoint", coordinates: [[0, 0], [3, 0], [3, 4]] }, [2, 1.3333333333333333]],
  ["a point", { type: "point", coordinates: [1.5, 2.5] }, [1.5, 2.5]]
]

describe("Centroid", () => {
  for (const [name, geometry, [x, y]] of cases) {
    test(`${name}: as shapely, to 1e-9`, () => {
      const c = Centroid.centroid(geometry)!
      expect(Math.abs(c[0] - x)).toBeLessThan(1e-9)
      expect(Math.abs(c[1] - y)).toBeLessThan(1e-9)
    })
  }
  test("nothing to average: undefined", () => {
    expect(Centroid.centroid({ type: "Polygon", coordinates: [] })).toBeUndefined()
    expect(Centroid.centroid(null)).toBeUndefined()
  })
})
