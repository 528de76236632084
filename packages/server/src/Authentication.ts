/**
 * The `Authentication` and `PageAuthentication` middlewares of the contract
 * (Api.ts), implemented against the current API keys. Each scheme checks the
 * same keys; HttpApi tries them in turn and answers 401 only when none
 * matched. The message never echoes what was sent.
 *
 * Basic auth is accepted on BASIC_ROUTES only (see Api.ts for why).
 */
import { Effect, Layer, Redacted } from "effect"
import { Authentication, PageAuthentication } from "./Api.ts"
import { Unauthorized } from "./ApiErrors.ts"
import { ApiKeys, type ApiKeysShape } from "./ApiKeys.ts"

export const MESSAGE = "a valid API key is required: send it in the X-Api-Key header, or as a bearer token in the Authorization header"

/** The read-only pages a browser opens, where Basic auth is accepted (and offered in a 401's challenge). */
export const BASIC_ROUTES: ReadonlySet<string> = new Set(["/docs", "/openapi.json"])

const checker = (keys: ApiKeysShape) => (key: Redacted.Redacted<string>) =>
  keys.verify(Redacted.value(key)) ? Effect.void : Effect.fail(new Unauthorized({ message: MESSAGE }))

export const apiLayer = Layer.effect(
  Authentication,
  Effect.map(ApiKeys, (keys) => {
    const check = checker(keys)
    return Authentication.of({ apiKey: check, bearer: check })
  })
)

export const pageLayer = Layer.effect(
  PageAuthentication,
  Effect.map(ApiKeys, (keys) => {
    const check = checker(keys)
    return PageAuthentication.of({ apiKey: check, bearer: check, basic: (credentials) => check(credentials.password) })
  })
)

export const layer = Layer.merge(apiLayer, pageLayer)

const BEARER = /^bearer\s+(.+)$/i

/**
 * Whether a request carries a current key the way the API takes it (X-Api-Key
 * or bearer, never Basic), for a route open to everyone that shows more to a
 * caller with a key (/readyz).
 */
export const hasKey = (keys: ApiKeysShape, headers: Readonly<Record<string, string | undefined>>): boolean => {
  const given = headers["x-api-key"]
  if (given !== undefined && keys.verify(given)) return true
  const bearer = BEARER.exec(headers.authorization ?? "")?.[1]?.trim()
  return bearer !== undefined && keys.verify(bearer)
}
