/**
 * Checks of `root`, `parent` and `collection` links, which need to know every
 * document of the tree: the walk keeps them (Walk.ts) and they are checked
 * once it is done. A `root` link must name the root document, a `parent` link
 * a document of the tree, a `collection` link a Collection of the tree whose
 * id the item's `collection` field repeats. Published, these links are
 * rewritten to absolute URLs of the same documents (StacPublish), so a target
 * outside the tree would become a broken link.
 */
import type { Graph, LateLink, Reading } from "./Reading.ts"

const checkOne = (r: Reading, graph: Graph, link: LateLink): void => {
  const jsonPath = `$.links[${link.index}].href`
  const target = graph.visited.get(link.targetKey)
  switch (link.rel) {
    case "root":
      if (link.targetKey !== graph.rootKey) {
        r.report(link.from, jsonPath, `root link points at ${r.rel(link.target)}, not at the root document ${r.rel(r.rootAbs)}`)
      }
      return
    case "parent":
      if (target === undefined) {
        r.report(link.from, jsonPath, `parent link points at ${r.rel(link.target)}, which is not a document of this catalog tree`)
      }
      return
    case "collection": {
      if (target === undefined || target.type !== "Collection") {
        r.report(
          link.from,
          jsonPath,
          `collection link points at ${r.rel(link.target)}, which is not a Collection of this catalog tree`
        )
        return
      }
      const field = graph.visited.get(link.fromKey)?.json["collection"]
      if (link.fromType === "Feature" && typeof field === "string" && target.id !== undefined && field !== target.id) {
        r.report(link.from, "$.collection", `is "${field}", but the rel=collection link points at collection "${target.id}" (${r.rel(target.file)})`)
      }
      return
    }
  }
}

/** In the order the walk met the links. */
export const check = (r: Reading, graph: Graph): void => {
  for (const link of graph.late) checkOne(r, graph, link)
}
