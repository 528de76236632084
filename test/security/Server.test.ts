/**
 * Hostile input against the HTTP service (issue 8, cases 7, 8 and the server
 * items of 9), on the real server process:
 *
 * - bodies that are not `application/json` are 415, so a browser form or a
 *   `text/plain` fetch from another site cannot submit an ingest;
 * - Basic auth only opens the read-only pages a browser shows (/docs,
 *   /openapi.json): a browser replays cached Basic credentials cross-site;
 * - request input is never passed through the secret redactor: a `***` in an
 *   answer would tell an anonymous caller that its guess is a secret;
 * - /readyz tells anonymous callers ready or not, and nothing else;
 * - a body nested too deep is 400, a body just over the limit a JSON 413;
 * - one vocabulary of log levels;
 * - a job dir that points its own outputs or its products outside through
 *   symlinks publishes nothing and changes nothing outside.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { EMPTY_SUMMARY, isEmpty, sandbox, sha256, snapshot, summary } from "../support/State.ts"
import { makeCanary } from "./Canary.ts"
import { type Json, type Reply, type Server, KEY, TIMEOUT, describeServer, job, readReply, startServer, waitFor } from "../server/Harness.ts"

/** Secrets the server knows: an API key from its keys file, an S3 secret, a GRQ password. */
const FILE_KEY = "file-key-Qw7Zr2Lm9Xv4"
const S3_SECRET = "s3SecretAbCdEfGh12345678"
const GRQ_PASSWORD = "GrqPassw0rdXyZ987"

/** The routes that take a body; ingests are dry runs, awaited, so an accepted one answers 200. */
const BODY_ROUTES = ["/v1/ingests?wait=true", "/v1/validate"] as const
const bodyFor = (route: string, jobDir: string) => (route.startsWith("/v1/ingests") ? { jobDir, dryRun: true } : { path: jobDir })

/** A request sent with exactly the headers given (fetch adds no Content-Type to bytes). */
const send = async (s: Server, method: string, route: string, init: { headers?: Record<string, string>; body?: RequestInit["body"] } = {}): Promise<Reply> => {
  return readReply(await fetch(s.url + route, { method, headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}) }))
}

const bytes = (text: string) => new TextEncoder().encode(text)

/** The usual error: JSON with `_tag` and `message`, and a request id header. */
const expectJsonError = (r: Reply, status: number, tag: string) => {
  expect({ status: r.status, tag: r.json?._tag }).toEqual({ status, tag })
  expect(typeof r.json?.message).toBe("string")
  expect(r.headers.get("x-request-id")).toMatch(/^req-[0-9a-f]{16}$/)
  expect(r.headers.get("content-type")).toContain("application/json")
}

const randomLike = (secret: string): string => {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
  let out = ""
  while (out.length < secret.length) out += alphabet[Math.floor(Math.random() * alphabet.length)]
  return out === secret ? randomLike(secret) : out
}

describe("one server, hostile requests", () => {
  let server: Server
  let keysFile: string
  let clean: string

  beforeAll(async () => {
    const sb = sandbox("security-server")
    keysFile = path.join(sb.root, "api-keys")
    writeFileSync(keysFile, `${FILE_KEY}\n`)
    server = await startServer({
      sb,
      env: { HYSDS_STAC_API_KEYS_FILE: keysFile, GRQ_ES_PASSWORD: GRQ_PASSWORD, S3_SECRET_ACCESS_KEY: S3_SECRET, S3_ACCESS_KEY_ID: "AKIDEXAMPLE" }
    })
    clean = job(server, "mixed-job", "clean-job")
  }, TIMEOUT)

  afterAll(async () => {
    await server?.stop()
    server?.sb.cleanup()
  })

  test("a body that is not application/json: 415 with the JSON error and request id, on every route that takes a body", async () => {
    const refused: Array<Record<string, string>> = [
      {},
      { "content-type": "text/plain" },
      { "content-type": "text/plain;charset=UTF-8" },
      { "content-type": "application/jsonevil" },
      { "content-type": "application/json-patch+json" },
      { "content-type": "application/x-www-form-urlencoded" },
      { "content-type": "multipart/form-data; boundary=x" },
      { "content-type": "application/json; charset=utf-16" },
      { "content-type": "" }
    ]
    for (const route of BODY_ROUTES) {
      for (const headers of refused) {
        const r = await send(server, "POST", route, { headers: { ...headers, "x-api-key": KEY }, body: bytes(JSON.stringify(bodyFor(route, clean))) })
        expect({ route, headers, status: r.status }).toEqual({ route, headers, status: 415 })
        expectJsonError(r, 415, "UnsupportedMediaType")
        expect(r.json!.message).toContain("application/json")
      }
      for (const type of ["application/json", "application/json; charset=utf-8", "Application/JSON;Charset=\"UTF-8\"", "application/json ; charset=utf-8"]) {
        const r = await send(server, "POST", route, { headers: { "content-type": type, "x-api-key": KEY }, body: bytes(JSON.stringify(bodyFor(route, clean))) })
        expect({ route, type, status: r.status }).toEqual({ route, type, status: 200 })
      }
    }
    // Only dry runs and validations were accepted: nothing is published.
    expect(isEmpty(await snapshot(server.stateDir))).toBe(true)
  })

  test("Basic auth opens /docs and /openapi.json only; every other route needs X-Api-Key or a bearer token", async () => {
    const basic = { authorization: `Basic ${btoa(`anyone:${KEY}`)}` }
    for (const route of ["/docs", "/openapi.json"]) {
      expect({ route, status: (await send(server, "GET", route, { headers: basic })).status }).toEqual({ route, status: 200 })
      const anonymous = await send(server, "GET", route)
      expect(anonymous.status).toBe(401)
      // The browser is told it may log in here.
      expect(anonymous.headers.get("www-authenticate")).toContain("Basic")
    }
    const routes: Array<[string, string, unknown?]> = [
      ["POST", "/v1/ingests?wait=true", { jobDir: clean, dryRun: true }],
      ["POST", "/v1/validate", { path: clean }],
      ["GET", "/v1/ingests"],
      ["GET", "/v1/ingests/some-id"],
      ["GET", "/metrics"]
    ]
    for (const [method, route, body] of routes) {
      const headers = { ...basic, ...(body ? { "content-type": "application/json" } : {}) }
      const r = await send(server, method, route, { headers, ...(body ? { body: JSON.stringify(body) } : {}) })
      expect({ method, route, status: r.status }).toEqual({ method, route, status: 401 })
      expectJsonError(r, 401, "Unauthorized")
      // No Basic challenge: a browser must never be invited to cache credentials for these.
      expect(r.headers.get("www-authenticate") ?? "").not.toContain("Basic")
      // The same routes with the key as a header or a bearer token.
      const withKey = await send(server, method, route, { headers: { ...headers, authorization: `Bearer ${KEY}` }, ...(body ? { body: JSON.stringify(body) } : {}) })
      expect({ method, route, status: withKey.status }).toEqual({ method, route, status: route === "/v1/ingests/some-id" ? 404 : 200 })
    }
  })

  test("a 404 for a path equal to a configured secret is indistinguishable from one for a random path of the same length", async () => {
    for (const secret of [KEY, FILE_KEY, S3_SECRET, GRQ_PASSWORD]) {
      const guess = randomLike(secret)
      const answers = await Promise.all([secret, guess].map((p) => send(server, "GET", `/${p}`)))
      const shapes = answers.map((r, i) => {
        const p = i === 0 ? secret : guess
        expectJsonError(r, 404, "NotFound")
        // Echoed as received.
        expect(r.json!.message).toContain(`/${p}`)
        expect(r.text).not.toContain("***")
        const id = r.headers.get("x-request-id")!
        return {
          status: r.status,
          length: r.text.length,
          text: r.text.split(p).join("<path>").split(id).join("<id>"),
          headers: [...r.headers.keys()].filter((k) => k !== "date").sort()
        }
      })
      expect(shapes[0]).toEqual(shapes[1]!)
      // Authenticated too: request input is never redacted, so no answer can confirm a guess.
      const withKey = await Promise.all([secret, guess].map((p) => send(server, "GET", `/v1/ingests/${p}`, { headers: { "x-api-key": KEY } })))
      expect(withKey.map((r) => r.text.includes("***"))).toEqual([false, false])
      expect(withKey[0]!.text.length).toBe(withKey[1]!.text.length)
    }
    // The access log has the path as received, for the secret as for the guess.
    const logged = server.logs().filter((l) => l.message === "request" && l.status === 404).map((l) => String(l.path))
    expect(logged).toContain(`/${S3_SECRET}`)
    expect(logged.some((p) => p.includes("***"))).toBe(false)
  })

  test("request input is echoed escaped (control characters) and bounded, never redacted", async () => {
    const hostile = path.join(server.jobs, `no-such\n{"level":"error","message":"forged"}\u001b[31m-${GRQ_PASSWORD}`)
    const r = await server.request("POST", "/v1/ingests", { body: { jobDir: hostile } })
    expectJsonError(r, 422, "InvalidRequest")
    const message = String(r.json!.message)
    expect(message).not.toMatch(/[\u0000-\u001f\u007f]/)
    expect(message).toContain("\\n{")
    expect(message).toContain("\\x1b[31m")
    expect(message).toContain(GRQ_PASSWORD)
    const long = path.join(server.jobs, "x".repeat(20_000))
    const l = await server.request("POST", "/v1/validate", { body: { path: long } })
    expect(l.status).toBe(422)
    expect(l.text.length).toBeLessThan(2_000)
    // No log line was forged by the newline: every line of stdout is one JSON object of ours.
    expect(server.logs().some((line) => line.message === "forged")).toBe(false)
  })

  test("/readyz: anonymous callers get { ready } only; a valid key gets the details", async () => {
    const anonymous = await send(server, "GET", "/readyz")
    expect(anonymous.status).toBe(200)
    expect(anonymous.json).toEqual({ ready: true })
    for (const headers of [{ "x-api-key": KEY }, { authorization: `Bearer ${FILE_KEY}` }]) {
      const detailed = await send(server, "GET", "/readyz", { headers })
      expect(detailed.status).toBe(200)
      expect(detailed.json).toMatchObject({ ready: true, draining: false })
      expect(detailed.json!.checks.length).toBeGreaterThan(0)
    }
    // A wrong key, or Basic, is anonymous (not 401: probes carry no credentials).
    for (const headers of [{ "x-api-key": "wrong" }, { authorization: `Basic ${btoa(`u:${KEY}`)}` }]) {
      const r = await send(server, "GET", "/readyz", { headers })
      expect(r.status).toBe(200)
      expect(r.json).toEqual({ ready: true })
    }
  })

  test("JSON nested 30,000 levels deep: 400 naming the limit, never 500", async () => {
    for (const route of BODY_ROUTES) {
      for (const depth of [30_000, 65]) {
        const raw = `{"${route.startsWith("/v1/ingests") ? "jobDir" : "path"}":${"[".repeat(depth)}${"]".repeat(depth)}}`
        const r = await server.request("POST", route, { raw, headers: { "content-type": "application/json" } })
        expectJsonError(r, 400, "BadRequest")
        expect(r.json!.message).toContain("64")
        expect(r.json!.message).toContain("deep")
      }
      // Depth 64 in all is allowed by the depth check (and then refused by the schema, not as too deep).
      const ok = await server.request("POST", route, { raw: `{"x":${"[".repeat(63)}${"]".repeat(63)}}`, headers: { "content-type": "application/json" } })
      expect(ok.status).toBe(400)
      expect(ok.json!.message).not.toContain("deep")
      // Brackets inside strings are text, not nesting.
      const inString = await server.request("POST", route, { body: bodyFor(route, `${clean}/${"[{".repeat(200)}\\"`) })
      expect(inString.json?.message ?? "").not.toContain("deep")
    }
    expect(server.logs().some((l) => l.level === "error")).toBe(false)
  })

  test("a body just over the limit: 413 with the JSON error and request id, declared or chunked", async () => {
    const max = 65_536
    const raw = JSON.stringify({ jobDir: clean, pad: "x".repeat(max) }).slice(0, max + 1)
    expect(bytes(raw).byteLength).toBe(max + 1)
    const declared = await send(server, "POST", "/v1/ingests", { headers: { "content-type": "application/json", "x-api-key": KEY }, body: raw })
    expectJsonError(declared, 413, "PayloadTooLarge")
    expect(declared.json!.message).toContain(String(max))
    const chunked = await send(server, "POST", "/v1/ingests", {
      headers: { "content-type": "application/json", "x-api-key": KEY },
      body: new ReadableStream({
        start(c) {
          c.enqueue(bytes(raw))
          c.close()
        }
      })
    })
    expectJsonError(chunked, 413, "PayloadTooLarge")
    // Far over the limit too (Bun's own guard must not answer bare either).
    const huge = await send(server, "POST", "/v1/ingests", { headers: { "content-type": "application/json", "x-api-key": KEY }, body: "x".repeat(max + 64 * 1024) })
    expectJsonError(huge, 413, "PayloadTooLarge")
  })

  test("log levels: one vocabulary (debug, info, warn, error), warnings as `warn`", async () => {
    // A 401 is logged as a warning; a keys file that disappears is logged as a warning.
    expect((await send(server, "GET", "/v1/ingests")).status).toBe(401)
    rmSync(keysFile)
    expect((await send(server, "GET", "/v1/ingests", { headers: { "x-api-key": FILE_KEY } })).status).toBe(401)
    await waitFor("the keys file warning", () => server.logs().some((l) => l.message === "API keys file unusable: no key from it"), 30_000)
    writeFileSync(keysFile, `${FILE_KEY}\n`)
    const lines = server.logs()
    expect(lines.find((l) => l.message === "API keys file unusable: no key from it")!.level).toBe("warn")
    expect(lines.find((l) => l.message === "request" && l.status === 401)!.level).toBe("warn")
    expect([...new Set(lines.map((l) => String(l.level)))].filter((l) => !["debug", "info", "warn", "error"].includes(l))).toEqual([])
  })

  test("after all of it, a clean ingest succeeds", async () => {
    const r = await server.request("POST", "/v1/ingests?wait=true", { body: { jobDir: clean } })
    expect(r.status, `${JSON.stringify(r.json)}\n${describeServer(server)}`).toBe(200)
    expect(r.json!.state).toBe("succeeded")
  })
})

describe("/readyz with a backend that is down", () => {
  let server: Server
  const USER = "grq-operator"

  beforeAll(async () => {
    server = await startServer({
      label: "security-readyz",
      // A closed port: the check fails with an error that quotes the URL.
      env: { GRQ_ES_ENGINE: "opensearch", GRQ_ES_URL: `http://${USER}:${GRQ_PASSWORD}@127.0.0.1:9`, GRQ_ES_PASSWORD: undefined }
    })
  }, TIMEOUT)

  afterAll(async () => {
    await server?.stop()
    server?.sb.cleanup()
  })

  test("anonymous: 503 { ready: false } and not one detail; with a key: the details, secrets masked", async () => {
    const anonymous = await send(server, "GET", "/readyz")
    expect(anonymous.status).toBe(503)
    const { _tag, ...rest } = anonymous.json!
    expect(rest).toEqual({ ready: false })
    for (const leak of ["127.0.0.1", USER, GRQ_PASSWORD, "hysds", "datasets", "opensearch", "error"]) expect(anonymous.text).not.toContain(leak)
    const detailed = await send(server, "GET", "/readyz", { headers: { "x-api-key": KEY } })
    expect(detailed.status).toBe(503)
    expect(detailed.json).toMatchObject({ ready: false, draining: false })
    expect(detailed.text).toContain("127.0.0.1")
    // Our own output (a backend's error quoting its URL) is still redacted.
    expect(detailed.text).not.toContain(GRQ_PASSWORD)
    expect(server.stdout()).not.toContain(GRQ_PASSWORD)
  })
})

describe("a job dir that points outside through symlinks", () => {
  const attack = async (
    label: string,
    arrange: (s: Server, jobDir: string, outside: string) => void,
    expectRefusal: (r: Reply) => void
  ) => {
    const sb = sandbox(`security-${label}`)
    const keysFile = path.join(sb.root, "api-keys")
    writeFileSync(keysFile, `# ops\n${FILE_KEY}\n`)
    const keysBefore = readFileSync(keysFile)
    const canary = makeCanary(sb.root)
    const server = await startServer({ sb, env: { HYSDS_STAC_API_KEYS_FILE: keysFile } })
    try {
      const jobDir = job(server, "mixed-job", `attack-${label}`)
      arrange(server, jobDir, canary.dir)
      const canaryBefore = canary.hashes()
      const r = await server.request("POST", "/v1/ingests?wait=true", { key: FILE_KEY, body: { jobDir } })
      expectRefusal(r)
      expect(sha256(readFileSync(keysFile))).toBe(sha256(keysBefore))
      expect(canary.hashes()).toEqual(canaryBefore)
      expect((await server.request("GET", "/v1/ingests", { key: FILE_KEY })).status).toBe(200)
      expect(summary(await snapshot(server.stateDir))).toEqual(EMPTY_SUMMARY)
      // A clean job still publishes.
      const fresh = job(server, "mixed-job", `clean-after-${label}`)
      const ok = await server.request("POST", "/v1/ingests?wait=true", { key: FILE_KEY, body: { jobDir: fresh } })
      expect(ok.status, describeServer(server)).toBe(200)
      expect(ok.json!.state).toBe("succeeded")
    } finally {
      await server.stop()
      sb.cleanup()
    }
  }

  /** Every message of the answer: its own, the ingest's error and each problem. */
  const messages = (r: Reply): string =>
    [r.json?.message, r.json?.ingest?.error?.message, ...(r.json?.ingest?.error?.problems ?? []).map((p: Json) => `${p.file} ${p.message}`)].join("\n")

  test(
    "_datasets.json a symlink to the server's API keys file: refused (4xx) naming _datasets.json, keys unchanged",
    async () => {
      let keysFile = ""
      await attack(
        "datasets-json",
        (s, jobDir) => {
          keysFile = path.join(s.sb.root, "api-keys")
          symlinkSync(keysFile, path.join(jobDir, "_datasets.json"))
        },
        (r) => {
          expect(r.status, JSON.stringify(r.json)).toBeGreaterThanOrEqual(400)
          expect(r.status).toBeLessThan(500)
          expect(messages(r)).toContain("_datasets.json")
        }
      )
      expect(keysFile).not.toBe("")
    },
    TIMEOUT
  )

  test(
    "a product dir that is a symlink to a directory outside the allowed roots: refused naming it, nothing published",
    async () => {
      await attack(
        "product-link",
        (_s, jobDir, outside) => {
          const product = "AOI_outside_link"
          const target = path.join(outside, product)
          mkdirSync(target, { recursive: true })
          const template = JSON.parse(readFileSync(path.join(jobDir, "AOI_volcano_etna", "AOI_volcano_etna.dataset.json"), "utf8")) as Json
          writeFileSync(path.join(target, `${product}.dataset.json`), JSON.stringify({ ...template, label: "outside" }))
          writeFileSync(path.join(target, "stolen.txt"), "from outside the roots\n")
          symlinkSync(target, path.join(jobDir, product))
        },
        (r) => {
          expect(r.status, JSON.stringify(r.json)).toBeGreaterThanOrEqual(400)
          expect(r.status).toBeLessThan(500)
          expect(messages(r)).toContain("AOI_outside_link")
        }
      )
    },
    TIMEOUT
  )
})
