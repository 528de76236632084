import { describe, expect, test } from "bun:test"
import { Effect, Logger } from "effect"
import * as JsonLogger from "./JsonLogger.ts"
import * as SecretMask from "./SecretMask.ts"
import * as RequestInput from "./RequestInput.ts"

const SECRET = "very-secret-value"

const capture = (effect: Effect.Effect<void>) => {
  const lines: Array<Record<string, unknown>> = []
  const logger = JsonLogger.make(SecretMask.make([SECRET]), (l) => void lines.push(JSON.parse(l)))
  Effect.runSync(effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger))))
  return lines
}

describe("level names: debug, info, warn, error", () => {
  test("Effect's warning level is written `warn`", () => {
    const lines = capture(Effect.logWarning("careful"))
    expect(lines[0]!.level).toBe("warn")
  })
  test("the other levels", () => {
    const lines = capture(Effect.all([Effect.logInfo("i"), Effect.logError("e")]).pipe(Effect.asVoid))
    expect(lines.map((l) => l.level)).toEqual(["info", "error"])
  })
  test("the level names are exactly the configuration's", () => {
    expect(JsonLogger.LEVELS).toEqual(["debug", "info", "warn", "error"])
  })
})

describe("redaction: our text is masked, request input is not", () => {
  test("annotations are redacted", () => {
    const lines = capture(Effect.logInfo(`failed at ${SECRET}`).pipe(Effect.annotateLogs({ reason: `url with ${SECRET}` })))
    expect(JSON.stringify(lines[0])).not.toContain(SECRET)
  })
  test("request input (Verbatim) is written as received, escaped", () => {
    const lines = capture(Effect.logInfo("request").pipe(Effect.annotateLogs({ path: RequestInput.verbatim(`/${SECRET}\n`) })))
    expect(lines[0]!.path).toBe(`/${SECRET}\\n`)
  })
})
