/**
 * Items are checked here against pgstac's rules before anything is sent (ids,
 * geometry, datetime, collection, duplicates): bulk_items would write the
 * valid part of a batch and report the rest with 200, which breaks
 * all-or-nothing, so nothing of a request may reach the server unless all of
 * it will be accepted.
 *
 * Observed on stac-fastapi-pgstac 7.2.0 / pgstac 0.10.0 for one item:
 * an item whose `collection` differs → 400; a null geometry → 400 "Geometry
 * is required in pgstac"; a Feature with a geometry but no `bbox` → 400
 * (pydantic, listed once as Item and once as ItemCollection since the endpoint
 * takes either). In a bulk request an item failing validation (null geometry,
 * reserved characters, foreign collection) is reported in `errors` with
 * status 200 while the other items ARE written (see ItemWrites); an item
 * without a datetime makes the whole bulk request a bare 500.
 * The id and geometry rules are the server's (`api.rules`, see Flavor.ts):
 * stac-fastapi-opensearch takes a null geometry and refuses only `/`.
 */
import { Effect, Predicate } from "effect"
import type { Api } from "./RegistryContext.ts"
import { idProblem, type Json, quote, serverName } from "./Documents.ts"

/** An item that passed the checks, with its id and its `collection` set. */
export interface Prepared {
  readonly id: string
  readonly json: Json
}

export const prepare = (api: Api, collection: string, items: ReadonlyArray<Json>) =>
  Effect.gen(function* () {
    const seen = new Set<string>()
    const prepared: Array<Prepared> = []
    for (const item of items) {
      const id = item["id"]
      const refuse = (message: string, hint: string) =>
        api.fail({ message, collection, ...(typeof id === "string" ? { item: id } : {}), status: 400, hint })
      const problem = idProblem(id, api.rules, serverName(api.flavor))
      if (problem !== undefined || typeof id !== "string") {
        return yield* refuse(`item ${problem ?? "has no id"}`, "rename the item in the catalog")
      }
      if (api.rules.geometryRequired && (item["geometry"] === null || item["geometry"] === undefined)) {
        return yield* refuse(
          `item ${quote(id)} has no geometry; pgstac does not accept items with a null geometry`,
          "give the item a geometry (its footprint, or at least a point)"
        )
      }
      const properties = item["properties"]
      const datetime = Predicate.isRecord(properties) ? properties["datetime"] : undefined
      const ranged =
        Predicate.isRecord(properties) && typeof properties["start_datetime"] === "string" && typeof properties["end_datetime"] === "string"
      if (typeof datetime !== "string" && !(datetime === null && ranged)) {
        // pgstac answers a bulk request holding such an item with a bare 500.
        return yield* refuse(
          `item ${quote(id)} has no properties.datetime (nor null with start_datetime and end_datetime), which STAC requires`,
          "give the item a datetime"
        )
      }
      if (item["collection"] !== undefined && item["collection"] !== collection) {
        return yield* refuse(
          `item ${quote(id)} says it belongs to collection ${JSON.stringify(item["collection"])}, not ${quote(collection)}`,
          "fix the item's collection field or publish it into its own collection"
        )
      }
      if (seen.has(id)) {
        return yield* refuse(`item ${quote(id)} appears twice in one request`, "item ids must be unique within a collection")
      }
      seen.add(id)
      prepared.push({ id, json: { ...item, collection } })
    }
    return prepared
  })
