/**
 * Warnings, not errors: an item whose time or footprint lies outside its
 * collection's declared extent. STAC asks a collection's extent to cover its
 * items, but a registry accepts the item anyway and searches still find it by
 * its own time and bbox; refusing valid data over a stale extent would block a
 * job for no gain. So the ingest goes on and says what to fix.
 *
 * The overall extent is the first `bbox` and the first `interval` (STAC:
 * the first describes all items; later ones are sub-extents). A collection
 * bbox whose west edge is east of its east edge crosses the antimeridian.
 *
 * The warnings go to the reading's one warning channel (Warning.ts), with
 * those of migrated documents and unchecked extensions.
 */
import { Effect, Predicate } from "effect"
import * as EventLoop from "../EventLoop.ts"
import type { StacNode } from "../StacTree.ts"
import type { Reading } from "./Reading.ts"

const time = (v: unknown): number | undefined => {
  if (typeof v !== "string") return undefined
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : t
}

const numbers = (v: unknown): ReadonlyArray<number> | undefined =>
  Array.isArray(v) && v.every((n) => typeof n === "number") ? (v as ReadonlyArray<number>) : undefined

/** [west, south, east, north] of a 2D or 3D bbox. */
const corners = (b: ReadonlyArray<number>): readonly [number, number, number, number] | undefined =>
  b.length === 4 ? [b[0]!, b[1]!, b[2]!, b[3]!] : b.length === 6 ? [b[0]!, b[1]!, b[3]!, b[4]!] : undefined

const overall = (collection: StacNode) => {
  const extent = Predicate.isRecord(collection.json.extent) ? collection.json.extent : {}
  const spatial = Predicate.isRecord(extent.spatial) && Array.isArray(extent.spatial.bbox) ? numbers(extent.spatial.bbox[0]) : undefined
  const interval =
    Predicate.isRecord(extent.temporal) && Array.isArray(extent.temporal.interval) && Array.isArray(extent.temporal.interval[0])
      ? (extent.temporal.interval[0] as ReadonlyArray<unknown>)
      : undefined
  return { bbox: spatial ? corners(spatial) : undefined, interval }
}

/**
 * The item's longitudes `[w, e]` inside the collection's `[cw, ce]`; a range
 * whose west is east of its east crosses the antimeridian (`[cw, 180] + [-180, ce]`).
 */
const lonInside = (w: number, e: number, cw: number, ce: number): boolean => {
  if (cw <= ce) return w <= e && w >= cw && e <= ce
  return w <= e ? w >= cw || e <= ce : w >= cw && e <= ce
}

/** One warning per item and kind, naming the item's file, the field and the collection. */
export const check = (r: Reading, nodes: ReadonlyArray<StacNode>): Effect.Effect<void> =>
  Effect.gen(function* () {
    const due = yield* EventLoop.pace
    const byId = new Map(nodes.filter((n) => n.type === "Collection").map((c) => [c.id, c] as const))
    for (let i = 0; i < nodes.length; i++) {
      if (due()) yield* EventLoop.turn
      const item = nodes[i]!
      if (item.type !== "Feature") continue
      const collection = item.collection === undefined ? undefined : byId.get(item.collection)
      if (collection === undefined) continue
      const { bbox, interval } = overall(collection)
      const props = Predicate.isRecord(item.json.properties) ? item.json.properties : {}
      if (interval !== undefined) {
        const start = time(interval[0])
        const end = time(interval[1])
        const from = time(props.start_datetime) ?? time(props.datetime)
        const to = time(props.end_datetime) ?? time(props.datetime)
        const field = props.datetime !== null && props.datetime !== undefined ? "$.properties.datetime" : "$.properties.start_datetime"
        if ((from !== undefined && start !== undefined && from < start) || (to !== undefined && end !== undefined && to > end)) {
          r.warn(
            item.file,
            field,
            `the item's time lies outside the temporal extent of its collection ${collection.id} (${String(interval[0])} .. ${String(interval[1])}); published anyway: widen the collection's extent.temporal`
          )
        }
      }
      const own = numbers(item.json.bbox)
      const ib = own ? corners(own) : undefined
      if (bbox !== undefined && ib !== undefined) {
        const [w, s, e, n] = ib
        const [cw, cs, ce, cn] = bbox
        if (!(s >= cs && n <= cn && lonInside(w, e, cw, ce))) {
          r.warn(
            item.file,
            "$.bbox",
            `the item's bbox [${ib.join(", ")}] is not inside the spatial extent of its collection ${collection.id} [${bbox.join(", ")}]; published anyway: widen the collection's extent.spatial`
          )
        }
      }
    }
  })
