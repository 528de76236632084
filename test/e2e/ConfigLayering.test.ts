/**
 * End-to-end: every setting the CLI's flags fall back to is taken from the
 * config file too, with flags > environment > file, as the README says. Each
 * variable is set by the file alone, then by the environment over the file,
 * then by the flag over both, and the run shows which one won.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { DATASETS, TIMEOUT, type Sandbox, cli, describeRun, parseJson, sandbox } from "../support/State.ts"

let sb: Sandbox
let job: string

beforeAll(() => {
  sb = sandbox("config")
  job = sb.copyExample("mixed-job")
  // Three datasets.json that differ only in where the STAC catalog is published.
  for (const source of ["file", "env", "flag"]) {
    const text = readFileSync(DATASETS, "utf8").replace("default('hysds-stac-catalogs')", `default('bucket-from-${source}')`)
    writeFileSync(sb.path(`datasets-${source}.json`), text)
  }
})
afterAll(() => sb.cleanup())

const configFile = (settings: Record<string, string>) => {
  const file = sb.path(`config-${Object.values(settings).join("-").replace(/[^a-z0-9-]/gi, "_")}.json`)
  writeFileSync(file, JSON.stringify(settings))
  return file
}

/** A dry run (it opens the state dir, publishes nothing) with `args`, in `env`. */
const dryRun = async (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const r = await cli(["ingest", job, "--dry-run", "--json", ...args], { env })
  if (r.exitCode !== 0) throw new Error(describeRun(r))
  return parseJson<{ products: Array<{ kind: string; location: string }>; totals: { collections: number } }>(r)
}

const stacLocation = (out: Awaited<ReturnType<typeof dryRun>>) => out.products.find((p) => p.kind === "stac")?.location

describe("config file < environment < flags", () => {
  test(
    "HYSDS_DATASETS_CFG",
    async () => {
      const base = ["--state-dir", sb.path("state-datasets")]
      const file = configFile({ HYSDS_DATASETS_CFG: sb.path("datasets-file.json") })
      expect(stacLocation(await dryRun([...base, "--config", file]))).toContain("bucket-from-file")
      expect(stacLocation(await dryRun([...base, "--config", file], { HYSDS_DATASETS_CFG: sb.path("datasets-env.json") }))).toContain("bucket-from-env")
      expect(
        stacLocation(
          await dryRun([...base, "--config", file, "--datasets", sb.path("datasets-flag.json")], { HYSDS_DATASETS_CFG: sb.path("datasets-env.json") })
        )
      ).toContain("bucket-from-flag")
    },
    TIMEOUT
  )

  test(
    "HYSDS_STAC_HOME",
    async () => {
      const args = ["--datasets", DATASETS]
      const file = configFile({ HYSDS_STAC_HOME: sb.path("home-file") })
      await dryRun([...args, "--config", file])
      expect(existsSync(sb.path("home-file"))).toBe(true)
      await dryRun([...args, "--config", file], { HYSDS_STAC_HOME: sb.path("home-env") })
      expect(existsSync(sb.path("home-env"))).toBe(true)
      await dryRun([...args, "--config", file, "--state-dir", sb.path("home-flag")], { HYSDS_STAC_HOME: sb.path("home-env-2") })
      expect(existsSync(sb.path("home-flag"))).toBe(true)
      expect(existsSync(sb.path("home-env-2"))).toBe(false)
    },
    TIMEOUT
  )

  test(
    "HYSDS_STAC_DISABLE (and HYSDS_STAC_CONFIG naming the file)",
    async () => {
      const base = ["--datasets", DATASETS, "--state-dir", sb.path("state-disable")]
      expect((await dryRun(base)).totals.collections).toBe(1)
      const file = configFile({ HYSDS_STAC_DISABLE: "1" })
      expect((await dryRun([...base, "--config", file])).totals.collections).toBe(0)
      expect((await dryRun(base, { HYSDS_STAC_CONFIG: file })).totals.collections).toBe(0)
      // The environment wins over the file: "false" turns STAC back on...
      expect((await dryRun([...base, "--config", file], { HYSDS_STAC_DISABLE: "false" })).totals.collections).toBe(1)
      // ...and the flag wins over both.
      expect((await dryRun([...base, "--config", file, "--no-stac"], { HYSDS_STAC_DISABLE: "false" })).totals.collections).toBe(0)
    },
    TIMEOUT
  )

  test(
    "a backend variable (GRQ_ES_ENGINE) and an unknown key: file, then the environment over it (no flag exists)",
    async () => {
      const base = ["ingest", job, "--dry-run", "--datasets", DATASETS, "--state-dir", sb.path("state-backend")]
      const file = configFile({ GRQ_ES_ENGINE: "opensearch" })
      const fromFile = await cli([...base, "--config", file])
      expect(fromFile.exitCode).toBe(3)
      expect(fromFile.stderr).toContain("GRQ_ES_ENGINE=opensearch is set but GRQ_ES_URL is not")
      const fromEnv = await cli([...base, "--config", file], { env: { GRQ_ES_ENGINE: "elasticsearch" } })
      expect(fromEnv.exitCode).toBe(3)
      expect(fromEnv.stderr).toContain("GRQ_ES_ENGINE=elasticsearch is set but GRQ_ES_URL is not")
      const unknown = await cli([...base, "--config", configFile({ GRQ_ES_ENGIN: "opensearch" })])
      expect(unknown.exitCode).toBe(3)
      expect(unknown.stderr).toContain("unknown setting GRQ_ES_ENGIN")
    },
    TIMEOUT
  )

  test(
    "secrets from the file and the environment appear in no output: check's text and --json, a --json error",
    async () => {
      const secrets = { fileKey: "file-stac-key-8f3a91", envToken: "env-stac-token-2c77d0", urlPass: "url-pass-5e19b4" }
      const file = configFile({ STAC_API_URL: `http://user:${secrets.urlPass}@127.0.0.1:9/`, STAC_API_KEY: secrets.fileKey, STAC_API_TIMEOUT: "2" })
      const env = { STAC_API_TOKEN: secrets.envToken }
      const state = ["--state-dir", sb.path("state-secrets")]
      const runs = [
        await cli(["check", ...state, "--config", file], { env }),
        await cli(["check", "--json", ...state, "--config", file], { env }),
        await cli(["ingest", job, "--json", "--datasets", DATASETS, ...state, "--config", file], { env })
      ]
      for (const r of runs) {
        expect(r.exitCode).not.toBe(0)
        // The runs did reach the STAC API setting (so the assertion below is about real output).
        expect(r.stdout + r.stderr).toContain("127.0.0.1:9")
        for (const secret of Object.values(secrets)) expect(r.stdout + r.stderr).not.toContain(secret)
      }
    },
    TIMEOUT
  )

  test(
    "an unreadable config file is a configuration error naming it (exit 3)",
    async () => {
      const bad = sb.path("broken-config.json")
      writeFileSync(bad, "{ not json")
      const r = await cli(["ingest", job, "--dry-run", "--datasets", DATASETS, "--state-dir", sb.path("s"), "--config", bad])
      expect(r.exitCode).toBe(3)
      expect(r.stderr).toContain(path.basename(bad))
    },
    TIMEOUT
  )
})
