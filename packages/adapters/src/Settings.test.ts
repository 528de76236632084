import { afterAll, describe, expect, test } from "bun:test"
import { Either, Redacted } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Settings from "./Settings.ts"

const dir = mkdtempSync(path.join(tmpdir(), "hysds-stac-settings-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const resolve = (env: Settings.Source, file?: Settings.Source) => Settings.resolve({ env, stateDir: "/state", ...(file ? { file } : {}) })
const ok = (env: Settings.Source, file?: Settings.Source) => Either.getOrThrow(resolve(env, file))
const problem = (env: Settings.Source) => {
  const r = resolve(env)
  if (Either.isRight(r)) throw new Error("expected a configuration error")
  return r.left
}

describe("Settings: one variable of each class from the file, the environment over it", () => {
  test("a backend choice, a number, a URL and a secret", () => {
    const file = { HYSDS_STAC_STORE: "s3", S3_PART_SIZE_MB: "8", STAC_API_URL: "http://file.example", STAC_API_KEY: "file-key-1" }
    const fromFile = ok({}, file)
    expect(fromFile.store).toMatchObject({ kind: "s3", partSizeBytes: 8 * 1024 * 1024 })
    expect(fromFile.registry).toMatchObject({ kind: "stac-api", url: "http://file.example" })
    const env = { HYSDS_STAC_STORE: "local", S3_PART_SIZE_MB: "6", STAC_API_URL: "http://env.example", STAC_API_KEY: "env-key-2" }
    const fromEnv = ok(env, file)
    expect(fromEnv.store.kind).toBe("local")
    expect(fromEnv.registry).toMatchObject({ url: "http://env.example" })
    expect(fromEnv.registry.kind === "stac-api" && Redacted.value(fromEnv.registry.apiKey!)).toBe("env-key-2")
    expect(ok({ HYSDS_STAC_STORE: "s3", S3_PART_SIZE_MB: "6" }, file).store).toMatchObject({ partSizeBytes: 6 * 1024 * 1024 })
  })

  test("defaults with nothing set: every port embedded", () => {
    const s = ok({})
    expect([s.store.kind, s.index.kind, s.registry.kind]).toEqual(["local", "embedded", "embedded"])
  })

  test("every secret is Redacted in the settings: printing them shows none", () => {
    const keyFile = path.join(dir, "key")
    writeFileSync(keyFile, "file-held-key-9\n")
    const s = ok({
      HYSDS_STAC_STORE: "s3",
      S3_ACCESS_KEY_ID: "AKIAEXAMPLE1",
      S3_SECRET_ACCESS_KEY: "s3-secret-value-1",
      GRQ_ES_ENGINE: "opensearch",
      GRQ_ES_URL: "http://grq:url-pass-2@grq.example:9200",
      GRQ_ES_API_KEY: "grq-api-key-3",
      STAC_API_URL: "http://stac.example",
      STAC_API_TOKEN: "stac-token-4",
      STAC_API_KEY_FILE: keyFile
    })
    const printed = `${JSON.stringify(s)} ${String(s.store.kind === "s3" && s.store.credentials)}`
    for (const secret of ["s3-secret-value-1", "grq-api-key-3", "stac-token-4", "file-held-key-9"]) expect(printed).not.toContain(secret)
    // The masking list is derived from those Redacted values (and the key file's content, the URL's password).
    expect([...Settings.secretValues(s)].sort()).toEqual(["AKIAEXAMPLE1", "file-held-key-9", "grq-api-key-3", "s3-secret-value-1", "stac-token-4", "url-pass-2"].sort())
    expect(Settings.describe(s).map(([, d]) => d).join(" ")).not.toContain("url-pass-2")
  })

  test("the messages the CLI and the server have always given, naming the variable (exit 3)", () => {
    expect(problem({ GRQ_ES_ENGINE: "opensearch" })).toMatchObject({
      field: "GRQ_ES_URL",
      message: "GRQ_ES_ENGINE=opensearch is set but GRQ_ES_URL is not",
      hint: "set GRQ_ES_URL to the GRQ cluster, e.g. http://127.0.0.1:9200"
    })
    expect(problem({ HYSDS_STAC_STORE: "ftp" })).toMatchObject({ field: "HYSDS_STAC_STORE", message: "HYSDS_STAC_STORE=ftp is not one of local, s3" })
    expect(problem({ HYSDS_STAC_STORE: "s3", S3_PART_SIZE_MB: "4" }).message).toBe("S3_PART_SIZE_MB=4 is below S3's 5 MiB minimum part size")
    expect(problem({ HYSDS_STAC_STORE: "s3", S3_SECRET_ACCESS_KEY: "only-the-secret" }).field).toBe("S3_ACCESS_KEY_ID")
    expect(problem({ STAC_API_URL: "http://s", STAC_API_TIMEOUT: "-1" }).message).toBe("STAC_API_TIMEOUT=-1 is not a positive number")
    expect(problem({ STAC_API_URL: "ftp://user:pw-secret@x" })).toMatchObject({ field: "STAC_API_URL", message: "STAC_API_URL is not an http(s) URL" })
    // A port not configured is not checked: a stray S3 setting does not stop a local run.
    expect(ok({ S3_PART_SIZE_MB: "nope" }).store.kind).toBe("local")
  })
})

describe("Settings: the one retry policy", () => {
  test("defaults are core's request curve (the count left to each adapter); the file and the environment (over it) tune it", () => {
    expect(ok({}).retry).toEqual({ baseMillis: 250, maxMillis: 10_000 })
    const file = { HYSDS_STAC_RETRIES: "5", HYSDS_STAC_RETRY_BASE_MS: "100", HYSDS_STAC_RETRY_MAX_MS: "2000" }
    expect(ok({}, file).retry).toEqual({ retries: 5, baseMillis: 100, maxMillis: 2000 })
    expect(ok({ HYSDS_STAC_RETRIES: "0" }, file).retry).toEqual({ retries: 0, baseMillis: 100, maxMillis: 2000 })
  })

  test("a count that is not a whole number, or a cap below the first backoff, is refused naming the variable", () => {
    expect(problem({ HYSDS_STAC_RETRIES: "-1" }).field).toBe("HYSDS_STAC_RETRIES")
    expect(problem({ HYSDS_STAC_RETRIES: "2.5" }).message).toContain("HYSDS_STAC_RETRIES=2.5 is not a whole number")
    expect(problem({ HYSDS_STAC_RETRY_BASE_MS: "0" }).field).toBe("HYSDS_STAC_RETRY_BASE_MS")
    const capped = problem({ HYSDS_STAC_RETRY_BASE_MS: "500", HYSDS_STAC_RETRY_MAX_MS: "100" })
    expect(capped.field).toBe("HYSDS_STAC_RETRY_MAX_MS")
    expect(capped.message).toContain("below HYSDS_STAC_RETRY_BASE_MS=500")
  })
})

describe("Settings: the journal", () => {
  test("default: the state dir's file journal, leases of 120 s renewed every 15 s, 7 days of retention", () => {
    expect(ok({}).journal).toEqual({ kind: "file", lease: { ttlMs: 120_000, renewMs: 15_000 }, retentionDays: 7 })
  })

  test("HYSDS_STAC_JOURNAL names a shared one: s3://bucket/prefix or file:///dir; the file's lease settings under the environment", () => {
    const j = ok({ HYSDS_STAC_JOURNAL: "s3://ops-bucket/hysds-stac/journal", HYSDS_STAC_LEASE_TTL_SECONDS: "3" }, { HYSDS_STAC_LEASE_TTL_SECONDS: "60", HYSDS_STAC_LEASE_RENEW_SECONDS: "0.5" }).journal
    expect(j).toEqual({
      kind: "shared",
      location: "s3://ops-bucket/hysds-stac/journal",
      at: { scheme: "s3", bucket: "ops-bucket", key: "hysds-stac/journal" },
      lease: { ttlMs: 3000, renewMs: 500 },
      retentionDays: 7
    })
    expect(ok({ HYSDS_STAC_JOURNAL: "file:///mnt/shared/journal" }).journal).toMatchObject({ kind: "shared", at: { scheme: "file", path: "/mnt/shared/journal" } })
    expect(Settings.describe(ok({ HYSDS_STAC_JOURNAL: "s3://b/j" })).find(([p]) => p === "journal")?.[1]).toBe("shared journal at s3://b/j (in the local store under /state/store)")
  })

  test("a journal that is not s3:// or file://, a renewal slower than a third of the TTL, are refused naming the variable", () => {
    expect(problem({ HYSDS_STAC_JOURNAL: "https://example.org/j" }).field).toBe("HYSDS_STAC_JOURNAL")
    expect(problem({ HYSDS_STAC_JOURNAL: "s3://host:9000/b/j" }).message).toContain("names a host")
    const slow = problem({ HYSDS_STAC_LEASE_TTL_SECONDS: "30", HYSDS_STAC_LEASE_RENEW_SECONDS: "15" })
    expect(slow.field).toBe("HYSDS_STAC_LEASE_RENEW_SECONDS")
    expect(problem({ HYSDS_STAC_LEASE_TTL_SECONDS: "0" }).field).toBe("HYSDS_STAC_LEASE_TTL_SECONDS")
  })
})
