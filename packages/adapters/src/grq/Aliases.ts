/**
 * The aliases a datasets.json entry's `index.aliases` asks for, as grq2 adds
 * them after indexing: read (`aliasesOf`), added in one `_aliases` request,
 * removed one by one so that an alias or index already gone counts as removed
 * (undo can be repeated).
 */
import { Effect, Option } from "effect"
import type { GrqIndex } from "@hysds-stac/core"
import type { Calls } from "./GrqCalls.ts"

export const aliasesOf =
  (g: Calls): GrqIndex.GrqIndexShape["aliasesOf"] =>
  (index) =>
    g.callOrMissing(`read the aliases of ${index}`, g.engine.getAliases(index)).pipe(Effect.map(Option.getOrElse(() => [])))

export const addAliases =
  (g: Calls): GrqIndex.GrqIndexShape["addAliases"] =>
  (refs) =>
    refs.length === 0
      ? Effect.void
      : g.call(
          `add the alias(es) ${refs.map((r) => `${r.alias} to ${r.index}`).join(", ")}`,
          g.engine.updateAliases(refs.map((r) => ({ add: { index: r.index, alias: r.alias } })))
        )

export const removeAliases =
  (g: Calls): GrqIndex.GrqIndexShape["removeAliases"] =>
  (refs) =>
    Effect.forEach(refs, (r) => g.callOrMissing(`remove the alias ${r.alias} from ${r.index}`, g.engine.deleteAlias(r.index, r.alias)), {
      discard: true
    })
