/**
 * Where settings come from, for the CLI and the server alike: one Effect
 * `ConfigProvider` layering, lowest priority first, the defaults (each `Config`
 * carries its own `withDefault`), a config file (`--config FILE` or
 * `HYSDS_STAC_CONFIG`: one JSON object of the variable names), then the
 * environment. Flags sit on top: @effect/cli's `withFallbackConfig` consults this
 * provider only when the flag is absent.
 *
 * Every setting is read as text and checked by our own `Config` helpers
 * (`text`, `secret`, `problem`), so an invalid environment value is an error
 * naming the variable rather than a silent fall through to the file's value
 * (the provider's `orElse` falls back on any failure, not only on a missing key).
 *
 * Effect's `ConfigError` is translated into ours (`Errors.ConfigError`, exit 3)
 * in one place, `toConfigErrors`.
 */
import { Errors } from "@hysds-stac/core"
import { Config, ConfigError, ConfigProvider, Effect, Either, Option, Redacted } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"

export type Source = Readonly<Record<string, string | undefined>>

/** Names any config file may hold besides the backend variables (Settings.VARIABLES adds those). */
export const COMMON = ["HYSDS_STAC_HOME", "HYSDS_DATASETS_CFG", "HYSDS_STAC_DISABLE", "HYSDS_STAC_JOURNAL_RETENTION_DAYS"] as const

/** Reads a config file: a JSON object whose keys are all in `known`; any other key is an error naming it. */
export const readFile = (file: string, known: ReadonlySet<string>): Either.Either<Record<string, string>, Errors.ConfigError> => {
  let text: string
  try {
    text = fs.readFileSync(file, "utf8")
  } catch {
    return Either.left(new Errors.ConfigError({ message: `cannot read config file ${file}`, file, hint: "check --config / HYSDS_STAC_CONFIG" }))
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return Either.left(
      new Errors.ConfigError({ message: `config file ${file} is not valid JSON: ${(e as Error).message}`, file, hint: "it must be one JSON object of settings" })
    )
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return Either.left(new Errors.ConfigError({ message: `config file ${file} must be a JSON object`, file, hint: 'e.g. {"GRQ_ES_ENGINE": "opensearch"}' }))
  }
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(json)) {
    if (!known.has(k)) {
      return Either.left(new Errors.ConfigError({ message: `config file ${file}: unknown setting ${k}`, file, field: k, hint: "see the README's configuration table" }))
    }
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      return Either.left(new Errors.ConfigError({ message: `config file ${file}: ${k} must be a string, number or boolean`, file, field: k }))
    }
    out[k] = String(v)
  }
  return Either.right(out)
}

const fromRecord = (record: Source): ConfigProvider.ConfigProvider =>
  ConfigProvider.fromMap(new Map(Object.entries(record).filter((e): e is [string, string] => e[1] !== undefined)))

/** The environment over the file's settings (either may be empty). */
export const layered = (env: Source, file: Source = {}): ConfigProvider.ConfigProvider =>
  fromRecord(env).pipe(ConfigProvider.orElse(() => fromRecord(file)))

/** The config file named, relative to `cwd`, or none. */
export const configFile = (env: Source, cwd: string, flag?: string): string | undefined => {
  const given = flag ?? env["HYSDS_STAC_CONFIG"]?.trim()
  return given === undefined || given === "" ? undefined : path.resolve(cwd, given)
}

/**
 * The provider for a process: `env` over the config file (`flag`, else
 * `HYSDS_STAC_CONFIG`). A file that cannot be read, or holds a key not in
 * `known`, is the error.
 */
export const make = (options: {
  readonly env: Source
  readonly known: ReadonlySet<string>
  readonly cwd?: string
  readonly flag?: string
}): Either.Either<ConfigProvider.ConfigProvider, Errors.ConfigError> => {
  const file = configFile(options.env, options.cwd ?? process.cwd(), options.flag)
  if (file === undefined) return Either.right(layered(options.env))
  return Either.map(readFile(file, options.known), (settings) => layered(options.env, settings))
}

// ---------------------------------------------------------------------------
// Config helpers: every value is text, trimmed; an empty value is unset (and an
// empty environment variable still hides the file's value, as `{...file, ...env}` did).

/** The variable's trimmed text, or none when unset or empty. */
export const text = (name: string): Config.Config<Option.Option<string>> =>
  Config.string(name).pipe(
    Config.option,
    Config.map(Option.flatMap((v) => (v.trim() === "" ? Option.none() : Option.some(v.trim()))))
  )

/** A secret: `Redacted` from the moment it is read, so it prints as `<redacted>`. */
export const secret = (name: string): Config.Config<Option.Option<Redacted.Redacted<string>>> =>
  text(name).pipe(Config.map(Option.map(Redacted.make)))

const HINT = "\u0000hint:"

/** An invalid value of `name`: our message and hint, carried through Effect's `ConfigError`. */
export const problem = (name: string, message: string, hint?: string): ConfigError.ConfigError =>
  ConfigError.InvalidData([name], hint === undefined ? message : `${message}${HINT}${hint}`)

/**
 * Effect's `ConfigError` as ours: one per problem, in the order the settings
 * were declared, each naming its variable. A missing required value (none of
 * ours: every `Config` here has a default or is optional) reads as "is not set".
 */
export const toConfigErrors = (error: ConfigError.ConfigError): ReadonlyArray<Errors.ConfigError> => {
  const leaves = (e: ConfigError.ConfigError): ReadonlyArray<ConfigError.ConfigError> =>
    e._op === "And" || e._op === "Or" ? [...leaves(e.left), ...leaves(e.right)] : [e]
  const out: Array<Errors.ConfigError> = []
  const seen = new Set<string>()
  for (const leaf of leaves(error)) {
    if (leaf._op === "And" || leaf._op === "Or") continue
    // A `mapOrFail` prefixes the path with the Config's own name: the variable is the last segment.
    const field = leaf.path[leaf.path.length - 1] ?? ""
    const raw = leaf._op === "MissingData" ? `${field} is not set` : leaf.message
    if (seen.has(raw)) continue
    seen.add(raw)
    const [message, hint] = raw.split(HINT)
    out.push(new Errors.ConfigError({ message: message!, ...(field ? { field } : {}), ...(hint ? { hint } : {}) }))
  }
  return out
}

/** The first problem of `error` (the CLI reports one, as it always has). */
export const toConfigError = (error: ConfigError.ConfigError): Errors.ConfigError =>
  toConfigErrors(error)[0] ?? new Errors.ConfigError({ message: String(error) })

/** Reads `config` from `provider` synchronously (every provider here is in memory). */
export const load = <A>(provider: ConfigProvider.ConfigProvider, config: Config.Config<A>): Either.Either<A, ConfigError.ConfigError> =>
  Effect.runSync(Effect.either(provider.load(config)))
