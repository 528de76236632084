/**
 * `_datasets.json`'s entries (HySDS's `update_json` of each document) in the
 * order HySDS writes them, made batch by batch: STAC items first, in tree
 * order (HySDS's STAC branch), then classic products in the order `os.walk`
 * with sorted names finds them. A classic product's entry is in the plan; a
 * STAC item's is made again from its file (StacSource), checked to be the
 * file planning read, so it is the document that was indexed. Written as
 * Python's `json.dump(prods, f, indent=2, sort_keys=True)` (PyJson), piece by
 * piece.
 */
import type { FileSystem, Path } from "@effect/platform"
import { Chunk, Effect, Stream } from "effect"
import type { StorageError } from "./Errors.ts"
import type * as Plan from "./Plan.ts"
import * as PyJson from "./PyJson.ts"
import * as StacSource from "./StacSource.ts"

type Json = Readonly<Record<string, unknown>>

type Ref = { readonly doc: Json } | { readonly stac: Plan.StacPlan; readonly item: StacSource.PlannedItem }

/** os.walk (top-down, names sorted by code point) reaches a dir before what is inside it, siblings by name. */
const walkOrder = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = PyJson.compareCodePoints(a[i]!, b[i]!)
    if (d !== 0) return d
  }
  return a.length - b.length
}

/** STAC products first (plan order), then classic products in os.walk order. */
const products = (plan: Plan.Plan, path: Path.Path): ReadonlyArray<Plan.PlannedProduct> => {
  const segments = (p: Plan.PlannedProduct) => path.relative(plan.jobDir, p.dir).split(path.sep)
  const classic = plan.products.filter((p) => p.kind === "classic").map((p) => ({ p, s: segments(p) }))
  classic.sort((a, b) => walkOrder(a.s, b.s))
  return [...plan.products.filter((p) => p.kind === "stac"), ...classic.map((c) => c.p)]
}

/** An item's GRQ document and `_datasets.json` entry, from its file's JSON. */
const itemDocument = (stac: Plan.StacPlan, item: StacSource.PlannedItem, json: Json) =>
  StacSource.document(item, StacSource.registered(item, StacSource.published(item, json, stac.baseUrl), stac.baseUrl), stac)

/** The entries of a batch: its items read again in one go (StacSource.readMany), the classic ones as planned. */
const entries = (batch: ReadonlyArray<Ref>, concurrency: number) => {
  const items = batch.flatMap((r) => ("item" in r ? [r.item] : []))
  return Effect.map(StacSource.readMany(items, concurrency), (jsons) => {
    let next = 0
    return batch.map((r) => ("doc" in r ? r.doc : itemDocument(r.stac, r.item, jsons[next++]!).update))
  })
}

/** The entries in HySDS's order, `batchSize` at a time. */
export const ordered = (
  plan: Plan.Plan,
  path: Path.Path,
  batchSize: number,
  concurrency: number
): Stream.Stream<ReadonlyArray<Json>, StorageError, FileSystem.FileSystem> => {
  const refs = function* (): Generator<Ref> {
    for (const p of products(plan, path)) {
      if (p.stac) for (const item of p.stac.items) yield { stac: p.stac, item }
      for (const doc of p.datasetsJson) yield { doc }
    }
  }
  return Stream.fromIterable({ [Symbol.iterator]: refs }).pipe(
    Stream.grouped(Math.max(1, batchSize)),
    Stream.mapEffect((batch) => entries(Chunk.toReadonlyArray(batch), concurrency))
  )
}

/** The file's text, as `PyJson.dump(entries)` would give it (no final newline, as json.dump), in pieces. */
export const text = <E, R>(batches: Stream.Stream<ReadonlyArray<Json>, E, R>): Stream.Stream<string, E, R> => {
  let count = 0
  const body = Stream.map(batches, (docs) => {
    let out = ""
    // An entry at depth one: its dump with every line after the first indented once more.
    for (const d of docs) out += `${count++ === 0 ? "[\n" : ",\n"}  ${PyJson.dump(d, "  ")}`
    return out
  })
  return Stream.concat(body, Stream.suspend(() => Stream.make(count === 0 ? "[]" : "\n]")))
}
