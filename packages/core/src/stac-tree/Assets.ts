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

/**
 * Checks each asset in order. Undefined when every verdict was known at once
 * (the planning index answered them all, as it nearly always does); otherwise
 * the Effect that finishes the checks, from the first that asks the file
 * system, in the same order, so the reports come in asset order either way.
 */
export const check = (r: Reading, file: string, json: Record<string, unknown>): Effect.Effect<void> | undefined => {
  const assets = json["assets"]
  if (!Predicate.isRecord(assets)) return undefined
  const entries = Object.entries(assets)
  const from = (start: number): Effect.Effect<void> | undefined => {
    for (let i = start; i < entries.length; i++) {
      const [name, asset] = entries[i]!
      if (!Predicate.isRecord(asset) || typeof asset["href"] !== "string") continue // schema reports it
      const href = asset["href"]
      const checked = Hrefs.check(
        r,
        file,
        href,
        () => ({ jsonPath: Stac.jsonPath(["assets", name, "href"]), what: `asset ${JSON.stringify(name)} href` }),
        true,
        (scheme) =>
          Stac.REMOTE_ASSET_SCHEMES.includes(scheme)
            ? undefined
            : `asset ${JSON.stringify(name)} uses an unsupported URL scheme "${scheme}:" (${href}); use a relative path or one of ${Stac.REMOTE_ASSET_SCHEMES.map((s) => s + ":").join(", ")}`
      )
      if (Effect.isEffect(checked)) return Effect.flatMap(checked, () => from(i + 1) ?? Effect.void)
    }
    return undefined
  }
  return from(0)
}
