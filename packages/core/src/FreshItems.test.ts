import { describe, expect, test } from "bun:test"
import * as FreshItems from "./FreshItems.ts"
import * as Steps from "./steps/index.ts"

describe("FreshItems", () => {
  test("a tracker answers every id noted for a collection, batch after batch, and nothing for another", () => {
    const t = FreshItems.tracker()
    t.add("a", ["a1", "a2"])
    t.add("b", ["b1"])
    t.add("a", ["a3"])
    expect(t.of("a")).toEqual(["a1", "a2", "a3"])
    expect(t.of("b")).toEqual(["b1"])
    expect(t.of("c")).toEqual([])
  })

  test("from a journal's intents: only RegisterItems batches marked fresh count", () => {
    const found = FreshItems.fromActions([
      Steps.RegisterCollection.make({ id: "a" }),
      Steps.RegisterItems.make({ collection: "a", ids: ["a1", "a2"], previous: [], fresh: true }),
      // Replaced another writer's item: undone by its own batch, so not the collection's to delete.
      Steps.RegisterItems.make({ collection: "a", ids: ["x1"], previous: [{ type: "Feature", id: "x1" }] }),
      // A record from before `fresh` existed.
      Steps.RegisterItems.make({ collection: "b", ids: ["b1"], previous: [] }),
      Steps.RegisterItems.make({ collection: "a", ids: ["a3"], previous: [], fresh: true })
    ])
    expect(found.of("a")).toEqual(["a1", "a2", "a3"])
    expect(found.of("b")).toEqual([])
  })
})
