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
 */
import { Settings } from "@hysds-stac/adapters"
import { ConfigProvider, Either } from "effect"
import * as path from "node:path"

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

/** The environment, then the config file's settings. */
export const provider = (argv: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>>): ConfigProvider.ConfigProvider => {
  const fromEnv = ConfigProvider.fromEnv()
  const file = pathFromArgv(argv) ?? env["HYSDS_STAC_CONFIG"]
  if (file === undefined || file === "") return fromEnv
  const settings = Settings.readFile(path.resolve(file))
  if (Either.isLeft(settings)) return fromEnv
  return fromEnv.pipe(ConfigProvider.orElse(() => ConfigProvider.fromJson(settings.right)))
}
