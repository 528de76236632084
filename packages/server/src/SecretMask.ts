/**
 * The secret mask: every piece of text that leaves the process (response
 * bodies, log lines) goes through core's `Redact` with the secrets known right
 * now: the backend secrets from the settings and the API keys, read afresh so
 * a key added by rotation is masked from its first use. (Named apart from
 * core's `Redact`, which is the masking itself; this is the server's use of
 * it, with the server's secrets.)
 */
import { Redact } from "@hysds-stac/core"
import { Context, Redacted } from "effect"
import type { ApiKeysShape } from "./ApiKeys.ts"

export interface SecretMaskShape {
  readonly text: (text: string) => string
  readonly deep: (value: unknown) => unknown
}

export class SecretMask extends Context.Tag("@hysds-stac/server/SecretMask")<SecretMask, SecretMaskShape>() {}

/** `secrets` as the settings hold them (Redacted), unwrapped here only to be masked in text. */
export const make = (secrets: ReadonlyArray<Redacted.Redacted<string> | string>, keys?: ApiKeysShape): SecretMaskShape => {
  const fixed = secrets.map((s) => (Redacted.isRedacted(s) ? Redacted.value(s) : s))
  const all = () => (keys ? [...fixed, ...keys.current()] : fixed)
  return {
    text: (text) => Redact.redact(text, all()),
    deep: (value) => Redact.redactDeep(value, all())
  }
}
