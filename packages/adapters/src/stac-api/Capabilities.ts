/**
 * What the server at the configured URL can do: `check` (is it a STAC API
 * that takes transactions, with our credentials) and whether it serves
 * `bulk_items`.
 *
 * Observed on stac-fastapi-pgstac 7.2.0 / pgstac 0.10.0:
 * - /conformance advertises `.../ogcapi-features/extensions/transaction` and
 *   `.../collections/extensions/transaction` (ENABLE_TRANSACTIONS_EXTENSIONS).
 *   `X-Api-Key` is accepted and ignored by this deployment (no auth proxy).
 * - `POST /collections/{c}/bulk_items` is NOT advertised in /conformance; an
 *   empty request answers 200 (even for a missing collection) and writes
 *   nothing, so it is the probe.
 */
import { Effect, Predicate } from "effect"
import { randomUUID } from "node:crypto"
import type { Errors } from "@hysds-stac/core"
import { type Api, withHint } from "./RegistryContext.ts"
import { isOk } from "./Documents.ts"
import type * as Transport from "./Transport.ts"

const TRANSACTION_ITEMS = /\/ogcapi-features\/extensions\/transaction\/?$/
const TRANSACTION_COLLECTIONS = /\/collections\/extensions\/transaction\/?$/
const BULK_CONFORMANCE = /bulk[-_]?(items|transactions?)/i

export const check = (api: Api) => (): Effect.Effect<void, Errors.CatalogApiError> =>
  Effect.gen(function* () {
    const { base, http } = api
    const reach = (what: string) => ({ action: `reach the STAC API (${what})` })
    const refused = (reply: Transport.Reply, what: string) =>
      reply.status === 401 || reply.status === 403
        ? api.fail({
            message: `the STAC API at ${base.display} refused our credentials (${reply.status} on ${what})`,
            status: reply.status,
            hint: api.auth.hint
          })
        : reply.status === 404
          ? Effect.fail(withHint(http.unexpected(reply, reach(what)), "set STAC_API_URL to the STAC API's root (the URL whose answer lists conformsTo)"))
          : Effect.fail(http.unexpected(reply, reach(what)))
    const landing = yield* http.send({ method: "GET", url: base.href }, reach("GET /"))
    if (!isOk(landing.status)) return yield* refused(landing, "GET /")
    if (!Predicate.isRecord(landing.body)) {
      return yield* api.fail({
        message: `${base.display} does not answer like a STAC API: GET / is not a JSON object`,
        hint: "set STAC_API_URL to the STAC API's root (the URL whose answer lists conformsTo)"
      })
    }
    const conformance = yield* http.send({ method: "GET", url: http.url("conformance") }, reach("GET /conformance"))
    let uris: ReadonlyArray<unknown> | undefined
    if (isOk(conformance.status) && Predicate.isRecord(conformance.body) && Array.isArray(conformance.body["conformsTo"])) {
      uris = conformance.body["conformsTo"]
    } else if (conformance.status === 401 || conformance.status === 403) {
      return yield* refused(conformance, "GET /conformance")
    } else if (Array.isArray(landing.body["conformsTo"])) {
      uris = landing.body["conformsTo"]
    }
    if (uris === undefined) {
      return yield* api.fail({
        message: `${base.display} is not a STAC API: GET /conformance answered ${conformance.status} and GET / lists no conformsTo`,
        status: conformance.status,
        hint: "set STAC_API_URL to the STAC API's root"
      })
    }
    const strings = uris.filter((u): u is string => typeof u === "string")
    const missing = [
      strings.some((u) => TRANSACTION_ITEMS.test(u)) ? undefined : "item transactions (.../ogcapi-features/extensions/transaction)",
      strings.some((u) => TRANSACTION_COLLECTIONS.test(u)) ? undefined : "collection transactions (.../collections/extensions/transaction)"
    ].filter((m): m is string => m !== undefined)
    if (missing.length > 0) {
      return yield* api.fail({
        message: `the STAC API at ${base.display} does not accept transactions: its /conformance lacks ${missing.join(" and ")}`,
        hint: "set ENABLE_TRANSACTIONS_EXTENSIONS=true on the server (stac-fastapi-pgstac), or enable its Transactions extension"
      })
    }
    // Reads may be open while writes need the key: try a write that changes
    // nothing (deleting an item of a collection that does not exist).
    const probe = `hysds-stac-check-${randomUUID()}`
    const write = yield* http.send({ method: "DELETE", url: api.itemUrl(probe, probe) }, reach("a harmless DELETE"))
    if (!isOk(write.status) && write.status !== 404) return yield* refused(write, `DELETE ${api.itemUrl(probe, probe).slice(base.href.length - 1)}`)
  })

/**
 * Whether bulk_items serves `collection`'s writes: fixed by `setting` unless
 * `auto`, where it is learned once (conformance, else the empty-request probe)
 * and remembered for the life of the registry.
 */
export const bulkProbe = (api: Api, setting: "auto" | "on" | "off") => {
  let bulkAvailable: boolean | undefined = setting === "on" ? true : setting === "off" ? false : undefined
  return (collection: string): Effect.Effect<boolean, Errors.CatalogApiError> =>
    Effect.gen(function* () {
      if (bulkAvailable !== undefined) return bulkAvailable
      const { http } = api
      const purpose = { action: "find out whether the STAC API serves bulk_items", collection }
      const conformance = yield* http.send({ method: "GET", url: http.url("conformance") }, purpose)
      const uris = Predicate.isRecord(conformance.body) && Array.isArray(conformance.body["conformsTo"]) ? conformance.body["conformsTo"] : []
      if (uris.some((u) => typeof u === "string" && BULK_CONFORMANCE.test(u))) {
        bulkAvailable = true
        return true
      }
      // pgstac advertises nothing for it: ask with an empty request, which
      // writes nothing and answers 200 where the endpoint exists.
      const probe = yield* http.send({ method: "POST", url: api.bulkItemsUrl(collection), body: { items: {}, method: "insert" } }, purpose)
      if (probe.status === 401 || probe.status === 403 || probe.status >= 500) return yield* Effect.fail(http.unexpected(probe, purpose))
      const routeExists = isOk(probe.status) || (probe.status === 404 && Predicate.isRecord(probe.body) && probe.body["code"] === "NotFoundError")
      bulkAvailable = routeExists
      yield* Effect.logDebug(
        `STAC API ${api.base.display}: ${routeExists ? "bulk_items available" : `no bulk_items (${probe.status}); writing items one by one`}`
      )
      return routeExists
    })
}
