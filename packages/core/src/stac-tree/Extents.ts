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
 *
 * An item reached from a Collection is checked by the walk, with its whole
 * document at hand (`checkItem`), so that the tree need not keep its time and
 * bbox; one whose collection is known only once the whole tree is (through
 * its `collection` link or field) is checked at the end (`check`).
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

/** A collection's overall extent, as the checks use it. */
export interface Extent {
  readonly id: string
  readonly bbox: readonly [number, number, number, number] | undefined
  readonly interval: ReadonlyArray<unknown> | undefined
}

export const extentOf = (id: string, json: Record<string, unknown>): Extent => {
  const extent = Predicate.isRecord(json.extent) ? json.extent : {}
  const spatial = Predicate.isRecord(extent.spatial) && Array.isArray(extent.spatial.bbox) ? numbers(extent.spatial.bbox[0]) : undefined
  const interval =
    Predicate.isRecord(extent.temporal) && Array.isArray(extent.temporal.interval) && Array.isArray(extent.temporal.interval[0])
      ? (extent.temporal.interval[0] as ReadonlyArray<unknown>)
      : undefined
  return { id, bbox: spatial ? corners(spatial) : undefined, interval }
}

/**
 * The item's longitudes `[w, e]` inside the collection's `[cw, ce]`; a range
 * whose west is east of its east crosses the antimeridian (`[cw, 180] + [-180, ce]`).
 */
const lonInside = (w: number, e: number, cw: number, ce: number): boolean => {
  if (cw <= ce) return w <= e && w >= cw && e <= ce
  return w <= e ? w >= cw || e <= ce : w >= cw && e <= ce
}

/** One warning per kind, naming the item's file, the field and the collection. Items lacking a time or bbox get none. */
export const checkItem = (r: Reading, file: string, json: Record<string, unknown>, collection: Extent): void => {
  const { bbox, interval } = collection
  const props = Predicate.isRecord(json.properties) ? json.properties : {}
  if (interval !== undefined) {
    const start = time(interval[0])
    const end = time(interval[1])
    const from = time(props.start_datetime) ?? time(props.datetime)
    const to = time(props.end_datetime) ?? time(props.datetime)
    const field = props.datetime !== null && props.datetime !== undefined ? "$.properties.datetime" : "$.properties.start_datetime"
    if ((from !== undefined && start !== undefined && from < start) || (to !== undefined && end !== undefined && to > end)) {
      r.warn(
        file,
        field,
        `the item's time lies outside the temporal extent of its collection ${collection.id} (${String(interval[0])} .. ${String(interval[1])}); published anyway: widen the collection's extent.temporal`
      )
    }
  }
  const own = numbers(json.bbox)
  const ib = own ? corners(own) : undefined
  if (bbox !== undefined && ib !== undefined) {
    const [w, s, e, n] = ib
    const [cw, cs, ce, cn] = bbox
    if (!(s >= cs && n <= cn && lonInside(w, e, cw, ce))) {
      r.warn(
        file,
        "$.bbox",
        `the item's bbox [${ib.join(", ")}] is not inside the spatial extent of its collection ${collection.id} [${bbox.join(", ")}]; published anyway: widen the collection's extent.spatial`
      )
    }
  }
}

/**
 * The items the walk could not check: their outlines still hold their time and
 * bbox (Outline.ts); the others' do not, and get no second warning here.
 */
export const check = (r: Reading, nodes: ReadonlyArray<StacNode>): Effect.Effect<void> =>
  Effect.gen(function* () {
    const due = yield* EventLoop.pace
    const byId = new Map(nodes.filter((n) => n.type === "Collection").map((c) => [c.id, extentOf(c.id, c.json)] as const))
    for (let i = 0; i < nodes.length; i++) {
      if (due()) yield* EventLoop.turn
      const item = nodes[i]!
      if (item.type !== "Feature") continue
      const collection = item.collection === undefined ? undefined : byId.get(item.collection)
      if (collection !== undefined) checkItem(r, item.file, item.json, collection)
    }
  })
