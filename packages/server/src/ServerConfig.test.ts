import { afterAll, describe, expect, test } from "bun:test"
import { Either, Redacted } from "effect"
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as ServerConfig from "./ServerConfig.ts"

const base = realpathSync(mkdtempSync(path.join(tmpdir(), "hysds-stac-config-")))
const jobs = path.join(base, "jobs")
const more = path.join(base, "more")
mkdirSync(jobs)
mkdirSync(more)
const datasets = path.join(base, "datasets.json")
writeFileSync(datasets, '{"datasets": []}')
afterAll(() => rmSync(base, { recursive: true, force: true }))

const minimal = { HYSDS_DATASETS_CFG: datasets, HYSDS_STAC_ALLOWED_ROOTS: jobs, HYSDS_STAC_API_KEYS: "k1, k2" }

describe("ServerConfig.fromEnv", () => {
  test("defaults around the three required settings", () => {
    const c = Either.getOrThrow(ServerConfig.fromEnv(minimal, base))
    expect(c).toMatchObject({
      host: "127.0.0.1",
      port: 8090,
      maxConcurrent: 2,
      queueLength: 16,
      graceMillis: 30_000,
      maxBodyBytes: 65_536,
      datasetsFile: datasets,
      stateDir: path.join(base, ".hysds-stac"),
      stac: true,
      allowedRoots: [{ given: jobs, real: jobs }]
    })
    expect(c.settings.store.kind).toBe("local")
    // Redacted as read: the keys print as <redacted>, their values are there for the comparison.
    expect(c.apiKeys.map(Redacted.value)).toEqual(["k1", "k2"])
    expect(String(c.apiKeys[0])).toBe("<redacted>")
    expect(JSON.stringify(c)).not.toContain("k1")
  })

  test("log levels are named as the log lines name them: warn, not warning", () => {
    for (const level of ["debug", "info", "warn", "error", "WARN"]) {
      expect(Either.getOrThrow(ServerConfig.fromEnv({ ...minimal, HYSDS_STAC_LOG_LEVEL: level }, base)).logLevel).toBe(level.toLowerCase() as never)
    }
    const refused = ServerConfig.fromEnv({ ...minimal, HYSDS_STAC_LOG_LEVEL: "warning" }, base)
    expect(Either.isLeft(refused) && refused.left.message).toContain("HYSDS_STAC_LOG_LEVEL=warning is not one of debug, info, warn, error")
  })

  test("colon-separated roots, numbers and flags", () => {
    const c = Either.getOrThrow(
      ServerConfig.fromEnv(
        {
          ...minimal,
          HYSDS_STAC_ALLOWED_ROOTS: `${jobs}:${more}:`,
          HYSDS_STAC_SERVER_PORT: "0",
          HYSDS_STAC_MAX_CONCURRENT: "4",
          HYSDS_STAC_QUEUE_LENGTH: "0",
          HYSDS_STAC_GRACE_SECONDS: "5",
          HYSDS_STAC_DISABLE: "1",
          HYSDS_STAC_HOME: "state"
        },
        base
      )
    )
    expect(c.allowedRoots.map((r) => r.real)).toEqual([jobs, more])
    expect([c.port, c.maxConcurrent, c.queueLength, c.graceMillis, c.stac, c.stateDir]).toEqual([0, 4, 0, 5000, false, path.join(base, "state")])
  })

  test("every problem at once, naming each variable", () => {
    const r = ServerConfig.fromEnv({ HYSDS_STAC_MAX_CONCURRENT: "0", HYSDS_STAC_SERVER_PORT: "http" }, base)
    expect(Either.isLeft(r)).toBe(true)
    const message = Either.isLeft(r) ? r.left.message : ""
    for (const name of ["HYSDS_STAC_API_KEYS", "HYSDS_DATASETS_CFG", "HYSDS_STAC_ALLOWED_ROOTS", "HYSDS_STAC_MAX_CONCURRENT", "HYSDS_STAC_SERVER_PORT"]) {
      expect(message).toContain(name)
    }
  })

  test("roots must be absolute existing directories; a keys file must exist", () => {
    const r = ServerConfig.fromEnv({ ...minimal, HYSDS_STAC_ALLOWED_ROOTS: `jobs:${path.join(base, "nope")}`, HYSDS_STAC_API_KEYS_FILE: path.join(base, "keys") }, base)
    const message = Either.isLeft(r) ? r.left.message : ""
    expect(message).toContain("allowed root jobs is not an absolute path")
    expect(message).toContain("is not an existing directory")
    expect(message).toContain("HYSDS_STAC_API_KEYS_FILE")
  })

  test("a backend that Settings refuses is a configuration problem too", () => {
    const r = ServerConfig.fromEnv({ ...minimal, HYSDS_STAC_STORE: "ftp" }, base)
    expect(Either.isLeft(r) ? r.left.message : "").toContain("HYSDS_STAC_STORE")
  })
})

describe("the server's config file (HYSDS_STAC_CONFIG), the CLI's layering: file < environment", () => {
  const file = (name: string, settings: Record<string, unknown>) => {
    const f = path.join(base, name)
    writeFileSync(f, JSON.stringify(settings))
    return f
  }

  test("a server variable and a backend variable from the file, the environment over each", () => {
    const f = file("server-config.json", { HYSDS_STAC_MAX_CONCURRENT: 5, GRQ_ES_ENGINE: "opensearch", GRQ_ES_URL: "http://file.example:9200", HYSDS_STAC_API_KEYS: "from-file" })
    const fromFile = Either.getOrThrow(ServerConfig.fromEnv({ HYSDS_DATASETS_CFG: datasets, HYSDS_STAC_ALLOWED_ROOTS: jobs, HYSDS_STAC_CONFIG: f }, base))
    expect(fromFile.maxConcurrent).toBe(5)
    expect(fromFile.apiKeys.map(Redacted.value)).toEqual(["from-file"])
    expect(fromFile.settings.index).toMatchObject({ kind: "opensearch", url: "http://file.example:9200" })
    const overridden = Either.getOrThrow(
      ServerConfig.fromEnv({ ...minimal, HYSDS_STAC_CONFIG: f, HYSDS_STAC_MAX_CONCURRENT: "3", GRQ_ES_URL: "http://env.example:9200" }, base)
    )
    expect(overridden.maxConcurrent).toBe(3)
    expect(overridden.apiKeys.map(Redacted.value)).toEqual(["k1", "k2"])
    expect(overridden.settings.index).toMatchObject({ kind: "opensearch", url: "http://env.example:9200" })
  })

  test("an unknown key in the file refuses the start, naming it; so does a file that is not JSON", () => {
    const unknown = ServerConfig.fromEnv({ ...minimal, HYSDS_STAC_CONFIG: file("unknown.json", { HYSDS_STAC_MAX_CONCURENT: 5 }) }, base)
    expect(Either.isLeft(unknown) ? unknown.left.message : "").toContain("unknown setting HYSDS_STAC_MAX_CONCURENT")
    writeFileSync(path.join(base, "broken.json"), "{ nope")
    const broken = ServerConfig.fromEnv({ ...minimal, HYSDS_STAC_CONFIG: "broken.json" }, base)
    expect(Either.isLeft(broken) ? broken.left.message : "").toContain("broken.json is not valid JSON")
  })

  test("an invalid environment value is refused even when the file has a valid one (no silent fall-through)", () => {
    const f = file("valid-port.json", { HYSDS_STAC_SERVER_PORT: 9000 })
    const r = ServerConfig.fromEnv({ ...minimal, HYSDS_STAC_CONFIG: f, HYSDS_STAC_SERVER_PORT: "http" }, base)
    expect(Either.isLeft(r) ? r.left.message : "").toContain("HYSDS_STAC_SERVER_PORT=http is not a whole number")
  })

  test("secrets are Redacted in the settings and the problems list quotes none", () => {
    const c = Either.getOrThrow(ServerConfig.fromEnv({ ...minimal, STAC_API_URL: "http://u:url-pass-9@stac.example", STAC_API_KEY: "stac-key-123" }, base))
    expect(JSON.stringify(c)).not.toContain("stac-key-123")
    const r = ServerConfig.fromEnv({ HYSDS_STAC_API_KEYS: "server-key-77", S3_SECRET_ACCESS_KEY: "s3-secret-55", HYSDS_STAC_STORE: "s3" }, base)
    const message = Either.isLeft(r) ? r.left.message : ""
    expect(message).toContain("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together")
    expect(message).not.toContain("server-key-77")
    expect(message).not.toContain("s3-secret-55")
  })
})
