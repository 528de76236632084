/**
 * Where the real test services are (written by `test/services/services.sh start`
 * to `test/services/.run/services.env`). Integration tests use `services()`:
 * when the file is missing they are skipped with a visible reason, unless
 * HYSDS_STAC_REQUIRE_SERVICES=1 (set by `bun run test` after starting the
 * services), where a missing file fails the run instead of hiding the tests.
 */
import * as fs from "node:fs"
import * as path from "node:path"

export const ENV_FILE = path.resolve(import.meta.dir, "..", "..", "..", "..", "test", "services", ".run", "services.env")

export type ServicesEnv = Readonly<Record<string, string>>

const parse = (text: string): ServicesEnv =>
  Object.fromEntries(
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#") && l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])
  )

/** The services' endpoints, or undefined (tests skip) when they were not started. */
export const services = (): ServicesEnv | undefined => {
  if (fs.existsSync(ENV_FILE)) return parse(fs.readFileSync(ENV_FILE, "utf8"))
  if (process.env.HYSDS_STAC_REQUIRE_SERVICES === "1") {
    throw new Error(`HYSDS_STAC_REQUIRE_SERVICES=1 but ${ENV_FILE} is missing: run test/services/services.sh start`)
  }
  console.warn(`integration tests skipped: ${ENV_FILE} not found (run test/services/services.sh start)`)
  return undefined
}

/** One endpoint, failing clearly when the services file lacks it. */
export const endpoint = (env: ServicesEnv, name: string): string => {
  const value = env[name]
  if (!value) throw new Error(`${ENV_FILE} has no ${name}`)
  return value
}

/** A name unique to this test run, for buckets, indexes and collections on shared servers. */
export const unique = (prefix: string): string =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
