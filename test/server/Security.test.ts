/**
 * Security of the ingest service, one server process: API keys (from the
 * environment and from a file rotated while the server runs), the open probe
 * routes, confinement of paths to the allowed roots (text and symlinks), and
 * sanitized errors (request input echoed as received, never masked: masking it
 * would confirm a guessed secret; no stack traces). The hostile cases of
 * issue 8 are in test/security/Server.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { copyExample, isEmpty, sandbox, snapshot } from "../support/State.ts"
import { type Json, type Reply, type Server, KEY, TIMEOUT, job, startServer, waitFor } from "./Harness.ts"

/** A backend secret the settings know (GRQ_ES_PASSWORD is collected even with the embedded index). */
const SECRET = "Sup3rSecretGrqPassw0rd"
const FILE_KEY_1 = "rotating-key-number-one"
const FILE_KEY_2 = "rotating-key-number-two"

let server: Server
let keysFile: string
let outside: string
const replies: Array<Reply> = []

const call = async (method: string, route: string, options: Parameters<Server["request"]>[2] = {}) => {
  const r = await server.request(method, route, options)
  replies.push(r)
  return r
}

/** Rewrites the keys file the way an operator's tooling would: a new file renamed over the old. */
const writeKeys = (content: string) => {
  const tmp = `${keysFile}.tmp`
  writeFileSync(tmp, content)
  renameSync(tmp, keysFile)
}

beforeAll(async () => {
  const sb = sandbox("security")
  keysFile = path.join(sb.root, "api-keys")
  writeFileSync(keysFile, `# rotated by ops\n${FILE_KEY_1}\n`)
  outside = path.join(sb.root, "outside")
  mkdirSync(outside, { recursive: true })
  server = await startServer({ sb, env: { HYSDS_STAC_API_KEYS_FILE: keysFile, GRQ_ES_PASSWORD: SECRET } })
}, TIMEOUT)

afterAll(async () => {
  await server?.stop()
  server?.sb.cleanup()
})

describe("authentication", () => {
  test("no key: 401 on every route but /healthz and /readyz, with a challenge", async () => {
    for (const [method, route] of [
      ["POST", "/v1/ingests"],
      ["GET", "/v1/ingests"],
      ["GET", "/v1/ingests/x"],
      ["POST", "/v1/validate"],
      ["GET", "/metrics"],
      ["GET", "/openapi.json"],
      ["GET", "/docs"]
    ] as const) {
      const r = await call(method, route, { key: null, ...(method === "POST" ? { body: { jobDir: "/x" } } : {}) })
      expect({ route, status: r.status }).toEqual({ route, status: 401 })
      expect(r.json!._tag).toBe("Unauthorized")
      expect(r.headers.get("www-authenticate")).toContain("Bearer")
    }
    expect((await call("GET", "/healthz", { key: null })).status).toBe(200)
    expect((await call("GET", "/readyz", { key: null })).status).toBe(200)
  })

  test("a wrong key: 401, whichever way it is sent", async () => {
    expect((await call("GET", "/v1/ingests", { key: "not-a-key" })).status).toBe(401)
    expect((await call("GET", "/v1/ingests", { key: null, headers: { authorization: "Bearer not-a-key" } })).status).toBe(401)
    expect((await call("GET", "/v1/ingests", { key: null, headers: { authorization: `Basic ${btoa("u:not-a-key")}` } })).status).toBe(401)
    expect((await call("GET", "/v1/ingests", { key: KEY.slice(0, -1) })).status).toBe(401)
  })

  test("the right key: as X-Api-Key, as a bearer token; as a Basic password on /docs and /openapi.json only", async () => {
    expect((await call("GET", "/v1/ingests")).status).toBe(200)
    expect((await call("GET", "/v1/ingests", { key: null, headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200)
    const basic = { authorization: `Basic ${btoa(`anyone:${KEY}`)}` }
    expect((await call("GET", "/docs", { key: null, headers: basic })).status).toBe(200)
    expect((await call("GET", "/openapi.json", { key: null, headers: basic })).status).toBe(200)
    expect((await call("GET", "/v1/ingests", { key: null, headers: basic })).status).toBe(401)
  })

  test("keys from the file rotate without a restart: new key in, old key out; a missing file gives no key", async () => {
    const pid = server.proc.pid
    expect((await call("GET", "/v1/ingests", { key: FILE_KEY_1 })).status).toBe(200)
    expect((await call("GET", "/v1/ingests", { key: FILE_KEY_2 })).status).toBe(401)
    writeKeys(`${FILE_KEY_2}\n`)
    expect((await call("GET", "/v1/ingests", { key: FILE_KEY_2 })).status).toBe(200)
    expect((await call("GET", "/v1/ingests", { key: FILE_KEY_1 })).status).toBe(401)
    rmSync(keysFile)
    expect((await call("GET", "/v1/ingests", { key: FILE_KEY_2 })).status).toBe(401)
    // The environment's key is unaffected, and it is the same process all along.
    expect((await call("GET", "/v1/ingests")).status).toBe(200)
    writeKeys(`${FILE_KEY_1}\n`)
    expect((await call("GET", "/v1/ingests", { key: FILE_KEY_1 })).status).toBe(200)
    expect(server.proc.pid).toBe(pid)
    expect(server.proc.exitCode).toBeNull()
    // Read from the server's stdout, which may come after the answer: waited for, not sampled.
    const reloads = () => server.logs().filter((l) => l.message === "API keys file (re)loaded").length
    await waitFor("the third reload's log line", () => reloads() >= 3, 10_000)
    expect(reloads()).toBeGreaterThanOrEqual(3)
  })
})

describe("job dirs are confined to the allowed roots", () => {
  test("outside the roots: 403, and nothing is ingested", async () => {
    const copy = copyExample("mixed-job", path.join(outside, "mixed"))
    for (const jobDir of [copy, "/etc", `${server.jobs}/../outside/mixed`, path.dirname(server.jobs)]) {
      const r = await call("POST", "/v1/ingests", { body: { jobDir } })
      expect({ jobDir, status: r.status }).toEqual({ jobDir, status: 403 })
      expect(r.json!._tag).toBe("Forbidden")
    }
    expect((await call("GET", "/v1/ingests")).json!.ingests).toEqual([])
    expect(isEmpty(await snapshot(server.stateDir))).toBe(true)
  })

  test("a symlink inside a root that leads outside: 403, logged with where it leads", async () => {
    const target = copyExample("mixed-job", path.join(outside, "escape-target"))
    const link = path.join(server.jobs, "innocent-looking")
    symlinkSync(target, link)
    const r = await call("POST", "/v1/ingests?wait=true", { body: { jobDir: link } })
    expect(r.status).toBe(403)
    expect(r.json!.message).toContain("symlinks")
    // The line is read from the server's stdout, which may come after the answer: waited for, not sampled.
    await waitFor("the refusal's log line", () => server.logs().some((l) => l.requested === link), 10_000)
    expect(server.logs().find((l) => l.requested === link)).toMatchObject({ level: "warn", resolvesTo: target })
    // A parent directory that is a link out of the root is the same escape.
    const dirLink = path.join(server.jobs, "linked-parent")
    symlinkSync(outside, dirLink)
    expect((await call("POST", "/v1/ingests", { body: { jobDir: path.join(dirLink, "escape-target") } })).status).toBe(403)
    // validate is confined the same way.
    expect((await call("POST", "/v1/validate", { body: { path: link } })).status).toBe(403)
    expect(isEmpty(await snapshot(server.stateDir))).toBe(true)
  })

  test("a symlink that stays inside the roots is followed, and the real path is ingested", async () => {
    const real = job(server, "mixed-job", "real-job")
    const link = path.join(server.jobs, "link-to-real-job")
    symlinkSync(real, link)
    const r = await call("POST", "/v1/ingests?wait=true", { body: { jobDir: link, dryRun: true } })
    expect(r.status).toBe(200)
    expect(r.json!.request.jobDir).toBe(link)
    expect(r.json!.jobDir).toBe(real)
  })
})

describe("errors are sanitized", () => {
  test("request input that spells a secret is echoed as sent, never masked (a mask would confirm the guess); keys sent as credentials are never logged", async () => {
    const leaky = path.join(server.jobs, `job-${SECRET}`)
    const r = await call("POST", "/v1/ingests", { body: { jobDir: leaky } })
    expect(r.status).toBe(422)
    expect(r.json!.message).toBe(`the job dir ${leaky} does not exist`)
    const withKey = path.join(server.jobs, `job-${KEY}`)
    const k = await call("POST", "/v1/validate", { body: { path: withKey } })
    expect(k.json!.message).toBe(`the path ${withKey} does not exist`)
    expect(server.stdout()).not.toContain("***")
    // FILE_KEY_1 was only ever sent as a credential: headers are not logged.
    expect(server.stdout()).not.toContain(FILE_KEY_1)
  })

  test("no error body carries a stack trace or a cause", () => {
    const errors = replies.filter((r) => r.status >= 400)
    expect(errors.length).toBeGreaterThan(10)
    for (const r of errors) {
      expect(r.text).not.toMatch(/\bat .+:\d+:\d+/)
      expect(r.json).toBeDefined()
      expect(Object.keys(r.json as Json)).not.toContain("cause")
      expect(Object.keys(r.json as Json)).not.toContain("stack")
    }
  })
})
