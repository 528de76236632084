import { describe, expect, test } from "bun:test"
import { Deferred, Effect, FiberId, Option } from "effect"
import type { IngestState } from "../ApiSchemas.ts"
import * as IngestRecord from "../IngestRecord.ts"
import * as SecretMask from "../SecretMask.ts"
import type { Config } from "../ServerConfig.ts"
import * as History from "./History.ts"
import * as State from "./State.ts"

// Only `history` is read here; the rest of the server's configuration plays no part.
const stateWith = (history: number) => State.make({ history } as Config, SecretMask.make([]))

const add = (state: State.State, id: string, to: IngestState) => {
  const e = IngestRecord.make({
    id,
    request: { jobDir: `/jobs/${id}`, force: false, dryRun: false, noStac: false },
    jobDir: `/jobs/${id}`,
    done: Deferred.unsafeMake(FiberId.none)
  })
  e.state = to
  state.entries.set(id, e)
  if (to === "queued") state.queue.push(e)
  return e
}

const ids = (state: State.State, filter?: IngestState) => Effect.runSync(History.list(state, filter)).map((s) => s.id)

describe("the ingests' history", () => {
  test("keeps the last `history` finished ones, forgets the oldest first, never a queued or running one", () => {
    const state = stateWith(2)
    add(state, "f1", "failed")
    add(state, "r1", "running")
    add(state, "f2", "rolled_back")
    add(state, "q1", "queued")
    add(state, "f3", "succeeded")
    History.forget(state)
    expect(ids(state)).toEqual(["f3", "q1", "f2", "r1"])
    add(state, "f4", "succeeded")
    History.forget(state)
    expect(ids(state)).toEqual(["f4", "f3", "q1", "r1"])
  })

  test("listing is newest first and filters by state; status finds one by id with its place in the queue", () => {
    const state = stateWith(10)
    add(state, "a", "succeeded")
    add(state, "b", "queued")
    add(state, "c", "queued")
    expect(ids(state)).toEqual(["c", "b", "a"])
    expect(ids(state, "queued")).toEqual(["c", "b"])
    expect(ids(state, "failed")).toEqual([])
    const c = Option.getOrThrow(Effect.runSync(History.status(state, "c")))
    expect([c.state, c.queuePosition]).toEqual(["queued", 2])
    expect(Option.isNone(Effect.runSync(History.status(state, "nope")))).toBe(true)
  })

  test("waiting for the end of an unknown ingest fails with NotFound; of a known one, gives its final status", async () => {
    const state = stateWith(10)
    const missing = await Effect.runPromise(Effect.flip(History.awaitEnd(state, "nope")))
    expect(missing._tag).toBe("NotFound")
    const e = add(state, "x", "running")
    const waiting = Effect.runPromise(History.awaitEnd(state, "x"))
    IngestRecord.settle(e, { _tag: "Failed", error: { category: "index", message: "down" } })
    Effect.runSync(Deferred.succeed(e.done, State.view(state, e)))
    expect((await waiting).state).toBe("failed")
  })
})
