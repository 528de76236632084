import { describe, expect, test } from "bun:test"
import * as Valve from "./Valve.ts"

const MiB = 1024 * 1024

/** A valve over a scripted RSS: each collection frees what `freed` says. */
const scripted = (budget: number, freed: (rss: number) => number) => {
  let rss = 0
  const collections: Array<number> = []
  const check = Valve.make({
    budget,
    rss: () => rss,
    collect: () => {
      collections.push(rss)
      rss = freed(rss)
    }
  })
  return {
    collections,
    at: (mib: number) => {
      rss = mib * MiB
      check()
    }
  }
}

describe("Valve", () => {
  test("collects only once the RSS is past the budget", () => {
    const v = scripted(256 * MiB, (rss) => rss - 40 * MiB)
    for (const mib of [100, 200, 255]) v.at(mib)
    expect(v.collections).toEqual([])
    v.at(256)
    expect(v.collections).toEqual([256 * MiB])
  })

  test("after a collection that left the RSS below the budget, the budget is the threshold again", () => {
    const v = scripted(256 * MiB, () => 200 * MiB)
    v.at(260)
    v.at(250)
    expect(v.collections).toHaveLength(1)
    v.at(257)
    expect(v.collections).toHaveLength(2)
  })

  test("after one that left it above, the next waits until it has grown a step past what was left", () => {
    // Memory the engine keeps: a collection frees only 4 MiB.
    const v = scripted(256 * MiB, (rss) => rss - 4 * MiB)
    v.at(280) // collects, leaves 276: the next at 276 + 16
    for (const mib of [276, 280, 291]) v.at(mib)
    expect(v.collections).toEqual([280 * MiB])
    v.at(292)
    expect(v.collections).toEqual([280 * MiB, 292 * MiB])
  })

  test("a step of its own", () => {
    const v = { collections: [] as Array<number>, rss: 0 }
    const check = Valve.make({ budget: 10, step: 5, rss: () => v.rss, collect: () => void v.collections.push(v.rss) })
    for (const rss of [10, 14, 15, 19, 20]) {
      v.rss = rss
      check()
    }
    // Nothing freed: 10 -> next at 15 -> next at 20.
    expect(v.collections).toEqual([10, 15, 20])
  })
})
