import { describe, expect, test } from "bun:test"
import { Effect, Layer, type Scope } from "effect"
import * as Journal from "./Journal.ts"
import { Progress } from "./Progress.ts"
import * as Step from "./Step.ts"
import { PutObjects } from "./steps/PutObjects.ts"

/**
 * A finished step stays registered (its undo) until the ingest ends, so what
 * it keeps is kept for the whole run: its record, never the data its work
 * sent. Seen before this held: a 10,000-item ingest's heap grew by every
 * item and document it had published.
 */
describe("a step's finalizer", () => {
  /** Made out of `stepWithPayload`: a closure made there would keep its payload (the caller's side of the same rule). */
  const makerOf =
    <A>(action: A) =>
    () =>
      action

  /** A step whose work uses a large payload, reachable from nothing else; a weak reference to it. */
  const stepWithPayload = (record: "value" | "function") => {
    const payload = { bytes: new Uint8Array(8 * 1024 * 1024), items: Array.from({ length: 1000 }, (_, i) => ({ id: `item-${i}` })) }
    const ref = new WeakRef(payload)
    const action = PutObjects.make({ product: "p", urls: ["s3://bucket/p/a.json"] })
    const effect = Effect.sync(() => payload.bytes.length + payload.items.length)
    const run = Step.run(PutObjects, record === "value" ? action : makerOf(action), effect)
    // The scope here ends in success, so the step's undo (which needs the backends) never runs.
    return { ref, run: run as Effect.Effect<number, never, Scope.Scope | Step.Transaction | Journal.Journal | Progress> }
  }

  /** Fills a stretch of the stack with plain numbers, so stale words left there by earlier calls point at nothing. */
  const scrubStack = (depth: number): number => {
    const words = [depth, depth + 1, depth + 2, depth + 3, depth + 4, depth + 5, depth + 6, depth + 7]
    return depth === 0 ? words.length : scrubStack(depth - 1) + words[depth % 8]!
  }

  /** Whether the payload was freed after the step ran, while its scope (the ingest) is still open. */
  const freedWhileOpen = (record: "value" | "function") =>
    Effect.gen(function* () {
      // Made and run out of this generator's frame, which would otherwise keep the step's effect.
      const ref = yield* Effect.suspend(() => {
        const { ref, run } = stepWithPayload(record)
        return Effect.as(run, ref)
      })
      // Off this stack, so no stale register still points at the payload. The
      // collector scans the stack conservatively: a stale word can keep it
      // through a few collections (in a whole-suite run, through 20 of them
      // once in 3 runs), while a finalizer that keeps it keeps it through all
      // of them. So: collections until it is gone or a deadline passes, with
      // the stack overwritten before each.
      const deadline = Date.now() + 3_000
      while (ref.deref() !== undefined && Date.now() < deadline) {
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
        scrubStack(64)
        Bun.gc(true)
      }
      return ref.deref() === undefined
    }).pipe(
      Effect.scoped,
      Effect.provideServiceEffect(Step.Transaction, Step.makeTransaction("tx-test")),
      Effect.provide(Layer.merge(Journal.memory(), Progress.none)),
      Effect.runPromise
    )

  test("keeps a record given as a value, not the work's data", async () => {
    expect(await freedWhileOpen("value")).toBe(true)
  })

  test("keeps a record maker, not the work's data", async () => {
    expect(await freedWhileOpen("function")).toBe(true)
  })
})
