/**
 * A path from a request, confined to the allowed roots (see AllowedRoots.ts),
 * as the handlers need it: the real path, or the API error to answer. A
 * refusal is logged with both the path asked for and where it really leads,
 * so an operator sees an escape attempt (a symlink out of the roots) as such.
 * The path asked for is request input: echoed and logged as received,
 * escaped, never redacted (RequestInput.ts).
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as AllowedRoots from "../AllowedRoots.ts"
import { Forbidden, InvalidRequest } from "../ApiErrors.ts"
import * as Metrics from "../Metrics.ts"
import * as RequestInput from "../RequestInput.ts"

export const confine = (
  roots: ReadonlyArray<AllowedRoots.Root>,
  requested: string,
  options: { readonly what: string; readonly directory: boolean }
): Effect.Effect<string, Forbidden | InvalidRequest> =>
  Effect.gen(function* () {
    const r = AllowedRoots.resolve(roots, requested)
    const shown = RequestInput.escape(requested)
    switch (r._tag) {
      case "NotAbsolute":
        return yield* new InvalidRequest({ message: `the ${options.what} must be an absolute path` })
      case "Outside":
        yield* Metrics.reject("forbidden")
        yield* Effect.logWarning(`refused: the ${options.what} is outside the allowed roots`).pipe(
          Effect.annotateLogs({ requested: RequestInput.verbatim(requested), ...(r.real !== undefined ? { resolvesTo: RequestInput.verbatim(r.real) } : {}) })
        )
        return yield* new Forbidden({
          message: `the ${options.what} ${shown} is not under an allowed root${r.real !== undefined ? " (once its symlinks are resolved)" : ""}`
        })
      case "Missing":
        return yield* new InvalidRequest({ message: `the ${options.what} ${shown} does not exist` })
      case "Allowed":
        if (options.directory && !isDirectory(r.real)) {
          return yield* new InvalidRequest({ message: `the ${options.what} ${shown} is not a directory` })
        }
        return r.real
    }
  })

const isDirectory = (p: string): boolean => {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}
