/**
 * Every piece of text that leaves the process (response bodies, log lines)
 * goes through core's `Redact` with the secrets known right now: the backend
 * secrets from the settings and the API keys, read afresh so a key added by
 * rotation is masked from its first use.
 */
import { Redact } from "@hysds-stac/core"
import { Context, Redacted } from "effect"
import type { ApiKeysShape } from "./ApiKeys.ts"

export interface RedactorShape {
  readonly text: (text: string) => string
  readonly deep: (value: unknown) => unknown
}

export class Redactor extends Context.Tag("@hysds-stac/server/Redactor")<Redactor, RedactorShape>() {}

/** `secrets` as the settings hold them (Redacted), unwrapped here only to be masked in text. */
export const make = (secrets: ReadonlyArray<Redacted.Redacted<string> | string>, keys?: ApiKeysShape): RedactorShape => {
  const fixed = secrets.map((s) => (Redacted.isRedacted(s) ? Redacted.value(s) : s))
  const all = () => (keys ? [...fixed, ...keys.current()] : fixed)
  return {
    text: (text) => Redact.redact(text, all()),
    deep: (value) => Redact.redactDeep(value, all())
  }
}
