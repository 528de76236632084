/**
 * A document's assets. Relative ones are shipped with the catalog, so they
 * must exist inside it (Hrefs); remote ones stay where they are and are only
 * accepted with a scheme a consumer can fetch (Stac.REMOTE_ASSET_SCHEMES).
 * A malformed asset (no string href) is left to the schema check, which
 * already reports it.
 */
import { Effect, Predicate } from "effect"
import * as Stac from "../Stac.ts"
import * as Hrefs from "./Hrefs.ts"
import type { Reading } from "./Reading.ts"

export const check = (r: Reading, file: string, json: Record<string, unknown>): Effect.Effect<void> =>
  Effect.gen(function* () {
    const assets = json["assets"]
    if (!Predicate.isRecord(assets)) return
    for (const [name, asset] of Object.entries(assets)) {
      if (!Predicate.isRecord(asset) || typeof asset["href"] !== "string") continue // schema reports it
      const href = asset["href"]
      yield* Hrefs.check(r, file, `${Stac.jsonPath(["assets", name, "href"])}`, href, `asset ${JSON.stringify(name)} href`, true, (scheme) =>
        Stac.REMOTE_ASSET_SCHEMES.includes(scheme)
          ? undefined
          : `asset ${JSON.stringify(name)} uses an unsupported URL scheme "${scheme}:" (${href}); use a relative path or one of ${Stac.REMOTE_ASSET_SCHEMES.map((s) => s + ":").join(", ")}`
      )
    }
  })
