/**
 * Checks of `root`, `parent` and `collection` links, which may need to know
 * every document of the tree. A `root` link must name the root document, a
 * `parent` link a document of the tree, a `collection` link a Collection of the
 * tree whose id the item's `collection` field repeats. Published, these links
 * are rewritten to absolute URLs of the same documents (StacPublish), so a
 * target outside the tree would become a broken link.
 *
 * Why a link that already passes is dropped during the walk (Walk.ts) rather
 * than kept for the end: in a normal catalog every such link names a document
 * the walk has already reached (the root, the parent, the collection above), and
 * keeping three links per item until the walk ended was most of the memory a
 * 100,000-item plan held. A link that passes once passes at the end too (the
 * walk only adds documents), so only the others are kept, and they are
 * reported at the end, in the order the walk met them, as before.
 */
import type { Problem } from "../Errors.ts"
import type { Graph, LateLink, Reading } from "./Reading.ts"

/** What a late link's check reads of the graph: enough to ask while the walk is still going. */
type Known = Pick<Graph, "rootKey" | "visited">

/** The link's problem given the documents known so far; undefined when it passes. */
const problemOf = (r: Reading, graph: Known, link: LateLink): Problem | undefined => {
  const at = (file: string, jsonPath: string, message: string): Problem => ({ file, path: jsonPath, message })
  const jsonPath = `$.links[${link.index}].href`
  const target = graph.visited.get(link.targetKey)
  switch (link.rel) {
    case "root":
      return link.targetKey === graph.rootKey
        ? undefined
        : at(link.from, jsonPath, `root link points at ${r.rel(link.target)}, not at the root document ${r.rel(r.rootAbs)}`)
    case "parent":
      return target !== undefined
        ? undefined
        : at(link.from, jsonPath, `parent link points at ${r.rel(link.target)}, which is not a document of this catalog tree`)
    case "collection": {
      if (target === undefined || target.type !== "Collection") {
        return at(link.from, jsonPath, `collection link points at ${r.rel(link.target)}, which is not a Collection of this catalog tree`)
      }
      const field = graph.visited.get(link.fromKey)?.json["collection"]
      if (link.fromType === "Feature" && typeof field === "string" && target.id !== undefined && field !== target.id) {
        return at(link.from, "$.collection", `is "${field}", but the rel=collection link points at collection "${target.id}" (${r.rel(target.file)})`)
      }
      return undefined
    }
  }
  return undefined
}

/** Whether the link already passes, so the end of the walk need not check it again. */
export const passes = (r: Reading, known: Known, link: LateLink): boolean => problemOf(r, known, link) === undefined

/** The links kept by the walk, in the order it met them, against the whole tree. */
export const check = (r: Reading, graph: Graph): void => {
  for (const link of graph.late) {
    const problem = problemOf(r, graph, link)
    if (problem !== undefined) r.problems.push(problem)
  }
}
