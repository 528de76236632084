import { describe, expect, test } from "bun:test"
import { Effect, Fiber, Ref, TestClock, TestContext } from "effect"
import * as Retry from "./Retry.ts"

const policy: Retry.Policy = { retries: 3, baseMillis: 100, maxMillis: 1_000 }

/** An effect failing with `error` on every try, counting the tries. */
const failing = <E>(tries: Ref.Ref<number>, error: E) => Ref.update(tries, (n) => n + 1).pipe(Effect.zipRight(Effect.fail(error)))

/** Runs `body` on the test clock: time moves only when the test says. */
const onTestClock = <A, E>(body: Effect.Effect<A, E>) => Effect.runPromise(body.pipe(Effect.provide(TestContext.TestContext)))

describe("Retry.delayMillis", () => {
  test("doubles from base, half fixed and half random, capped", () => {
    expect(Retry.delayMillis(policy, 1, () => 0)).toBe(50)
    expect(Retry.delayMillis(policy, 1, () => 1)).toBe(100)
    expect(Retry.delayMillis(policy, 2, () => 1)).toBe(200)
    expect(Retry.delayMillis(policy, 3, () => 0.5)).toBe(300)
    expect(Retry.delayMillis(policy, 10, () => 1)).toBe(1_000)
    expect(Retry.delayMillis(policy, 10, () => 0)).toBe(500)
  })

  test("Retry-After is waited at least, never beyond the cap", () => {
    expect(Retry.withRetryAfter(policy, 50, undefined)).toBe(50)
    expect(Retry.withRetryAfter(policy, 50, 700)).toBe(700)
    expect(Retry.withRetryAfter(policy, 400, 10)).toBe(400)
    expect(Retry.withRetryAfter(policy, 50, 3_600_000)).toBe(1_000)
  })

  test("Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z")
    expect(Retry.parseRetryAfter("3", now)).toBe(3_000)
    expect(Retry.parseRetryAfter("Thu, 01 Jan 2026 00:00:02 GMT", now)).toBe(2_000)
    expect(Retry.parseRetryAfter("soon", now)).toBeUndefined()
    expect(Retry.parseRetryAfter(undefined, now)).toBeUndefined()
  })
})

describe("Retry.schedule", () => {
  test("tries 1 + retries times, then fails with the last error", async () => {
    const result = await onTestClock(
      Effect.gen(function* () {
        const tries = yield* Ref.make(0)
        const fiber = yield* Effect.fork(Effect.either(Retry.retry(failing(tries, "boom"), policy)))
        yield* TestClock.adjust("1 minute")
        return { outcome: yield* Fiber.join(fiber), tries: yield* Ref.get(tries) }
      })
    )
    expect(result.tries).toBe(4)
    expect(result.outcome._tag).toBe("Left")
  })

  test("retries: 0 tries once", async () => {
    const tries = await onTestClock(
      Effect.gen(function* () {
        const tries = yield* Ref.make(0)
        yield* Effect.either(Retry.retry(failing(tries, "boom"), { ...policy, retries: 0 }))
        return yield* Ref.get(tries)
      })
    )
    expect(tries).toBe(1)
  })

  test("an error `while` refuses is not retried", async () => {
    const tries = await onTestClock(
      Effect.gen(function* () {
        const tries = yield* Ref.make(0)
        const fiber = yield* Effect.fork(Effect.either(Retry.retry(failing(tries, { status: 404 }), policy, { while: (e) => e.status >= 500 })))
        yield* TestClock.adjust("1 minute")
        yield* Fiber.join(fiber)
        return yield* Ref.get(tries)
      })
    )
    expect(tries).toBe(1)
  })

  test("waits no less than the server's Retry-After, and no more than the cap", async () => {
    const seen = await onTestClock(
      Effect.gen(function* () {
        const tries = yield* Ref.make(0)
        const fiber = yield* Effect.fork(Effect.either(Retry.retry(failing(tries, { retryAfter: 800 }), policy, { retryAfter: (e) => e.retryAfter })))
        const at: Array<number> = []
        yield* TestClock.adjust("0 millis")
        at.push(yield* Ref.get(tries))
        yield* TestClock.adjust("799 millis")
        at.push(yield* Ref.get(tries)) // the curve alone would have retried by now (at most 100 ms)
        yield* TestClock.adjust("1 millis")
        at.push(yield* Ref.get(tries))
        yield* TestClock.adjust("1 minute")
        yield* Fiber.join(fiber)
        at.push(yield* Ref.get(tries))
        return at
      })
    )
    expect(seen).toEqual([1, 1, 2, 4])
  })

  test("a Retry-After beyond the cap waits the cap", async () => {
    const seen = await onTestClock(
      Effect.gen(function* () {
        const tries = yield* Ref.make(0)
        const fiber = yield* Effect.fork(Effect.either(Retry.retry(failing(tries, "slow"), policy, { retryAfter: () => 3_600_000 })))
        yield* TestClock.adjust("999 millis")
        const before = yield* Ref.get(tries)
        yield* TestClock.adjust("1 millis")
        const after = yield* Ref.get(tries)
        yield* Fiber.interrupt(fiber)
        return [before, after]
      })
    )
    expect(seen).toEqual([1, 2])
  })

  test("undo retries by the UndoPolicy in force", async () => {
    const tries = await onTestClock(
      Effect.gen(function* () {
        const tries = yield* Ref.make(0)
        const fiber = yield* Effect.fork(
          Effect.either(Retry.undo(failing(tries, "down"))).pipe(Effect.provideService(Retry.UndoPolicy, { retries: 2, baseMillis: 1, maxMillis: 1 }))
        )
        yield* TestClock.adjust("1 minute")
        yield* Fiber.join(fiber)
        return yield* Ref.get(tries)
      })
    )
    expect(tries).toBe(3)
  })
})
