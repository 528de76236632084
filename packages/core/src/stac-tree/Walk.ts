/**
 * The walk of the link graph: from the root document, depth-first and in link
 * order, through `child` and `item` links, reading and checking each document
 * once.
 *
 * Why documents are keyed by real path: two hrefs (or a symlink) naming the
 * same file are one document, so a cycle or a second parent is found however
 * the file is named. Each document must have a single parent, because its
 * place in the tree decides where it is published and which collection its
 * items belong to; a cycle would never end.
 *
 * `root`, `parent` and `collection` links are checked to stay inside the
 * catalog here; whether their target is a document of the tree may need the
 * whole tree, so those that do not pass yet are kept as late links
 * (LateLinks.ts). Items are leaves: a `child`/`item` link on one is not part
 * of the tree.
 */
import type { FileSystem } from "@effect/platform"
import { Effect, Predicate } from "effect"
import * as EventLoop from "../EventLoop.ts"
import * as JsonFile from "../JsonFile.ts"
import * as Stac from "../Stac.ts"
import * as StacExtensions from "../StacExtensions.ts"
import * as StacMigrate from "../StacMigrate.ts"
import * as Assets from "./Assets.ts"
import * as Extents from "./Extents.ts"
import * as Hrefs from "./Hrefs.ts"
import * as ItemCollection from "./ItemCollection.ts"
import * as LateLinks from "./LateLinks.ts"
import * as Outline from "./Outline.ts"
import { type Graph, type LateLink, type Reading, Visited } from "./Reading.ts"
import { Visits } from "../Visits.ts"

/** Links whose targets are part of this tree and must therefore be local and readable. */
const TREE_RELS = new Set(["root", "parent", "child", "item", "collection"])
const FOLLOWED_RELS = new Set(["child", "item"])

/** What a `child`/`item` link may point at. */
const EXPECTED: Record<string, ReadonlyArray<Stac.StacType>> = {
  child: ["Catalog", "Collection"],
  item: ["Feature"]
}

/**
 * Where the local child/item links of `file` lead, as named (checked only when followed). Made as
 * the reads reach them (TreeIndex.expect): a collection's 100,000 item paths at once were 15 MB.
 */
function* followedTargets(r: Reading, file: string, links: ReadonlyArray<unknown>): Generator<string> {
  const dir = r.path.dirname(file)
  for (const link of links) {
    if (!Predicate.isRecord(link) || typeof link["href"] !== "string" || !FOLLOWED_RELS.has(String(link["rel"]))) continue
    const kind = Stac.classifyHref(link["href"])
    if (kind._tag === "Relative") yield r.path.resolve(dir, kind.path)
  }
}

export const walk = (r: Reading): Effect.Effect<Graph, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const due = yield* EventLoop.pace
    const rootKey = (yield* r.tree.resolve(r.rootAbs))?.real ?? r.rootAbs
    const visited = new Visits<Visited>(r.tree)
    const order: Array<Visited> = []
    const late: Array<LateLink> = []
    const collectionLinks = new Map<string, string>()
    const known = { rootKey, visited }

    const visit = (
      file: string,
      key: string,
      via: { readonly from: string; readonly index: number; readonly rel: string } | undefined,
      owner: Visited["owner"],
      stack: ReadonlyArray<string>
    ): Effect.Effect<void, never, FileSystem.FileSystem> =>
      Effect.gen(function* () {
        if (due()) yield* EventLoop.turn
        // Links were checked to stay inside; this also covers the root document itself.
        const read = yield* JsonFile.read(file, { within: r.realRootDir, tree: r.tree }).pipe(Effect.either)
        if (read._tag === "Left") {
          r.problems.push(read.left)
          return
        }
        if (!Predicate.isRecord(read.right)) {
          r.report(file, "$", "expected a JSON object (a STAC Catalog, Collection or Item)")
          return
        }
        // Older STAC is brought to 1.1.0 first: what is checked is what gets published.
        const migrated = StacMigrate.migrate(read.right)
        const json = migrated._tag === "Right" ? migrated.right.json : read.right
        if (migrated._tag === "Left") {
          // Its fields follow another spec: checking them as 1.1 would only add noise.
          r.report(file, migrated.left.path, migrated.left.message)
        } else {
          if (migrated.right.from !== undefined) r.warn(file, "$.stac_version", StacMigrate.describe(migrated.right))
          const decoded = Stac.decode(json)
          if (decoded._tag === "Left") for (const i of decoded.left) r.report(file, i.path, i.message)
          const extensions = StacExtensions.check(json)
          for (const i of extensions.issues) r.report(file, i.path, i.message)
          for (const w of extensions.warnings) r.warn(file, w.path, w.message)
        }

        const type = Stac.STAC_TYPES.find((t) => t === json["type"])
        const id = typeof json["id"] === "string" ? json["id"] : undefined
        if (via !== undefined && type !== undefined) {
          const expected = EXPECTED[via.rel] ?? []
          if (!expected.includes(type)) {
            r.report(
              via.from,
              `$.links[${via.index}].href`,
              `${via.rel} link points at a ${type} (${r.rel(file)}); expected ${expected.join(" or ")}`
            )
          }
        }
        if (via === undefined && type === "Feature") {
          r.report(file, "$.type", "the root document must be a Catalog or Collection, not an Item")
        }

        if (type === "Feature") ItemCollection.checkItem(r, { file, json, owner }, via)
        // Its collection is known now: its time and bbox are checked against its extent here, not kept.
        if (type === "Feature" && owner !== undefined) Extents.checkItem(r, file, json, owner.extent)
        // Each document is checked whole here, with its links and assets below; the tree keeps its outline.
        const self = new Visited(r, file, key, type === "Feature" ? Outline.item(json, owner !== undefined) : Outline.parent(json), type, id, via?.from, owner)
        visited.set(key, self)
        order.push(self)

        const childOwner = type === "Collection" && id !== undefined ? { id, file, extent: Extents.extentOf(id, json) } : owner
        const here = [...stack, key]
        const links = Array.isArray(json["links"]) ? json["links"] : []
        // The documents this one's child/item links lead to are read next: say so, so that
        // they are read in batches (a collection's thousands of items), not one at a time.
        if (type !== "Feature") yield* r.tree.expect(followedTargets(r, file, links))
        for (let index = 0; index < links.length; index++) {
          const link: unknown = links[index]
          if (!Predicate.isRecord(link) || typeof link["href"] !== "string") continue // schema reports it
          const relName = typeof link["rel"] === "string" ? link["rel"] : ""
          // Made for a report only: nearly every link passes.
          const jsonPath = () => `$.links[${index}].href`
          const href = link["href"]
          // Remote `self` and non-tree links (license, via, ...) are metadata; tree links
          // to a foreign catalog cannot be followed, so its documents would go unchecked.
          const checked = Hrefs.check(r, file, href, () => ({ jsonPath: jsonPath(), what: `${relName || "link"} href` }), false, () =>
            TREE_RELS.has(relName)
              ? `${relName} link points at a remote document (${href}); only a local catalog can be read, so it cannot be validated or published; make it a relative path inside the catalog`
              : undefined
          )
          const target = Effect.isEffect(checked) ? yield* checked : checked
          if (target === undefined) continue
          if (FOLLOWED_RELS.has(relName)) {
            // Items are leaves: a child/item link on one is not part of the tree.
            if (type === "Feature") continue
            const cycleStart = here.indexOf(target.real)
            if (cycleStart >= 0) {
              const cycle = [...here.slice(cycleStart), target.real].map((k) => r.rel(visited.get(k)?.file ?? k))
              r.report(file, jsonPath(), `link cycle: ${cycle.join(" → ")}`)
              continue
            }
            const seen = visited.get(target.real)
            if (seen !== undefined) {
              r.report(
                file,
                jsonPath(),
                `${r.rel(target.abs)} is reached twice through child/item links (already linked from ${seen.parent ? r.rel(seen.parent) : "the root"}); each document must have a single parent`
              )
              continue
            }
            // One string for both when no symlink is on the way: the tree keeps them for every item.
            yield* visit(target.abs, target.real === target.abs ? target.abs : target.real, { from: file, index, rel: relName }, childOwner, here)
          } else if (TREE_RELS.has(relName)) {
            const link: LateLink = { from: file, fromKey: key, fromType: type, index, rel: relName, target: target.abs, targetKey: target.real }
            if (!LateLinks.passes(r, known, link)) late.push(link)
            // Only an item with no Collection above it is placed by its link (ItemCollection.collectionOf), so
            // only its link is kept: a catalog's 100,000 items under their collection need none. The target's
            // key as the tree already holds it, when it does: one string for all its items.
            if (relName === "collection" && type === "Feature" && owner === undefined && !collectionLinks.has(key)) {
              collectionLinks.set(key, visited.get(target.real)?.key ?? target.real)
            }
          }
        }

        const assets = Assets.check(r, file, json)
        if (assets !== undefined) yield* assets
      })

    yield* visit(r.rootAbs, rootKey, undefined, undefined, [])
    return { rootKey, visited, order, late, collectionLinks }
  })
