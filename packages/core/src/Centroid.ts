/**
 * The centroid of a GeoJSON geometry, as GEOS (and so shapely, which grq2
 * uses to add a missing `center`) computes it: planar, in the coordinates as
 * given (degrees), of the highest dimension present. Areas weigh polygons
 * (holes subtract), lengths weigh lines, points count equally. The sums are
 * accumulated in GEOS's order (triangles fanned from the first shell's first
 * point) so the result agrees with shapely to the last few bits.
 *
 * Planar means an antimeridian-crossing geometry split into two polygons at
 * ±180 gets its centre between them, far from both (see the README).
 */
import { Predicate } from "effect"

type Point = readonly [number, number]

const pointOf = (p: unknown): Point | undefined =>
  Array.isArray(p) && typeof p[0] === "number" && typeof p[1] === "number" ? [p[0], p[1]] : undefined

const pointsOf = (ps: unknown): Array<Point> =>
  Array.isArray(ps) ? ps.flatMap((p) => { const q = pointOf(p); return q ? [q] : [] }) : []

/** Twice the signed area (shoelace); positive for counter-clockwise. */
const signedArea2 = (ring: ReadonlyArray<Point>): number => {
  let s = 0
  for (let i = 0; i + 1 < ring.length; i++) s += ring[i]![0] * ring[i + 1]![1] - ring[i + 1]![0] * ring[i]![1]
  return s
}

class Sums {
  base: Point | undefined
  area2 = 0
  areaX = 0
  areaY = 0
  length = 0
  lineX = 0
  lineY = 0
  count = 0
  pointX = 0
  pointY = 0

  point(p: Point) {
    this.count += 1
    this.pointX += p[0]
    this.pointY += p[1]
  }

  line(pts: ReadonlyArray<Point>) {
    let len = 0
    for (let i = 0; i + 1 < pts.length; i++) {
      const [a, b] = [pts[i]!, pts[i + 1]!]
      const seg = Math.hypot(b[0] - a[0], b[1] - a[1])
      if (seg === 0) continue
      len += seg
      this.lineX += seg * ((a[0] + b[0]) / 2)
      this.lineY += seg * ((a[1] + b[1]) / 2)
    }
    this.length += len
    if (len === 0 && pts.length > 0) this.point(pts[0]!)
  }

  ring(pts: ReadonlyArray<Point>, positive: boolean) {
    const base = this.base!
    const sign = positive ? 1 : -1
    for (let i = 0; i + 1 < pts.length; i++) {
      const [p1, p2] = [pts[i]!, pts[i + 1]!]
      const a2 = (p1[0] - base[0]) * (p2[1] - base[1]) - (p2[0] - base[0]) * (p1[1] - base[1])
      this.areaX += sign * a2 * (base[0] + p1[0] + p2[0])
      this.areaY += sign * a2 * (base[1] + p1[1] + p2[1])
      this.area2 += sign * a2
    }
    this.line(pts)
  }

  polygon(rings: unknown) {
    if (!Array.isArray(rings) || rings.length === 0) return
    const shell = pointsOf(rings[0])
    if (shell.length === 0) return
    this.base ??= shell[0]
    // GEOS: a clockwise shell adds, a counter-clockwise hole adds; the sign cancels in the ratio.
    this.ring(shell, signedArea2(shell) <= 0)
    for (const hole of rings.slice(1).map(pointsOf)) this.ring(hole, signedArea2(hole) > 0)
  }

  add(g: unknown): void {
    if (!Predicate.isRecord(g)) return
    const c = g["coordinates"]
    switch (String(g["type"]).toLowerCase()) {
      case "point": {
        const p = pointOf(c)
        if (p) this.point(p)
        return
      }
      case "multipoint":
        return pointsOf(c).forEach((p) => this.point(p))
      case "linestring":
        return this.line(pointsOf(c))
      case "multilinestring":
        return Array.isArray(c) ? c.forEach((l) => this.line(pointsOf(l))) : undefined
      case "polygon":
        return this.polygon(c)
      case "multipolygon":
        return Array.isArray(c) ? c.forEach((p) => this.polygon(p)) : undefined
      case "geometrycollection":
        return Array.isArray(g["geometries"]) ? g["geometries"].forEach((x) => this.add(x)) : undefined
    }
  }
}

/** `[x, y]` of the geometry's centroid, or undefined for an empty or unreadable geometry. */
export const centroid = (geometry: unknown): [number, number] | undefined => {
  const s = new Sums()
  s.add(geometry)
  if (Math.abs(s.area2) > 0) return [s.areaX / 3 / s.area2, s.areaY / 3 / s.area2]
  if (s.length > 0) return [s.lineX / s.length, s.lineY / s.length]
  if (s.count > 0) return [s.pointX / s.count, s.pointY / s.count]
  return undefined
}
