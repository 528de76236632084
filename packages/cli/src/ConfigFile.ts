/**
 * The config file (`--config FILE` or `HYSDS_STAC_CONFIG`) as the layer under
 * the environment, for every setting a flag falls back to (`HYSDS_STAC_HOME`,
 * `HYSDS_DATASETS_CFG`, `HYSDS_STAC_DISABLE`, ...): flags > environment > file >
 * defaults, as the README promises.
 *
 * The flags' fallbacks are read while @effect/cli parses the command line, so
 * the file must be known before parsing: its path is found in argv here. A file
 * that cannot be read is not reported here; `Shared.settings` reads it again
 * and reports it as the configuration error (exit 3) with its hint.
 * The provider itself is adapters' ConfigSource, the same the server uses.
 */
import { ConfigSource, Settings, Tracing } from "@hysds-stac/adapters"
import { type ConfigProvider, Either } from "effect"

/** The value of `--config FILE` or `--config=FILE`, if given. */
export const pathFromArgv = (argv: ReadonlyArray<string>): string | undefined => {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--") return undefined
    if (arg === "--config") return argv[i + 1]
    if (arg.startsWith("--config=")) return arg.slice("--config=".length)
  }
  return undefined
}

/** The environment over the config file's settings (ConfigSource's provider; the flags sit on top). */
export const provider = (argv: ReadonlyArray<string>, env: ConfigSource.Source): ConfigProvider.ConfigProvider => {
  const flag = pathFromArgv(argv)
  const made = ConfigSource.make({ env, known: Settings.KNOWN, ...(flag !== undefined ? { flag } : {}) })
  return Either.getOrElse(made, () => ConfigSource.layered(env))
}

/**
 * The text of every secret this process is configured with, for masking what it
 * prints: derived from the settings' Redacted values (and the trace exporter's
 * headers), computed once, on first use. Settings that do not resolve give none:
 * the process then stops at the configuration error, whose text quotes no secret.
 */
export const secrets = (() => {
  let known: ReadonlyArray<string> | undefined
  return (): ReadonlyArray<string> => {
    if (known !== undefined) return known
    const settings = ConfigSource.load(provider(process.argv, process.env), Settings.config("."))
    const tracing = Tracing.fromEnv(process.env)
    known = [
      ...(Either.isRight(settings) ? Settings.secretValues(settings.right) : []),
      ...(Either.isRight(tracing) ? Tracing.secretsOf(tracing.right) : [])
    ]
    return known
  }
})()
