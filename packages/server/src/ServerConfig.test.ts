import { afterAll, describe, expect, test } from "bun:test"
import { Either } from "effect"
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
      apiKeys: ["k1", "k2"],
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
