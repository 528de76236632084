/**
 * The `Authentication` middleware of the contract (Api.ts), implemented
 * against the current API keys. Each scheme checks the same keys; HttpApi
 * tries them in turn and answers 401 only when none matched. The message
 * never echoes what was sent.
 */
import { Effect, Layer, Redacted } from "effect"
import { Authentication } from "./Api.ts"
import { Unauthorized } from "./ApiErrors.ts"
import { ApiKeys } from "./ApiKeys.ts"

export const MESSAGE = "a valid API key is required: send it in the X-Api-Key header, or as a bearer token in the Authorization header"

export const layer = Layer.effect(
  Authentication,
  Effect.gen(function* () {
    const keys = yield* ApiKeys
    const check = (key: Redacted.Redacted<string>) =>
      keys.verify(Redacted.value(key)) ? Effect.void : Effect.fail(new Unauthorized({ message: MESSAGE }))
    return Authentication.of({
      apiKey: check,
      bearer: check,
      basic: (credentials) => check(credentials.password)
    })
  })
)
