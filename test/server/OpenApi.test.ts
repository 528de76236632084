/**
 * The OpenAPI document and the docs page, against one server process: the
 * document is structurally valid OpenAPI 3.x, lists exactly the routes the
 * service has, each with its methods, and every route it lists is served (and
 * nothing it does not list); it is the document generated from the contract;
 * the docs page renders it without fetching anything.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { openApi } from "../../packages/server/src/Api.ts"
import { type Json, type Server, TIMEOUT, startServer } from "./Harness.ts"

/** The service's routes, as the issue lists them. */
const ROUTES: Record<string, Array<string>> = {
  "/v1/ingests": ["get", "post"],
  "/v1/ingests/{id}": ["get"],
  "/v1/validate": ["post"],
  "/healthz": ["get"],
  "/readyz": ["get"],
  "/metrics": ["get"],
  "/openapi.json": ["get"],
  "/docs": ["get"]
}
const OPEN = new Set(["/healthz", "/readyz"])
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

let server: Server
let doc: Json

beforeAll(async () => {
  server = await startServer({ label: "openapi" })
  const r = await server.request("GET", "/openapi.json")
  if (r.status !== 200) throw new Error(`/openapi.json answered ${r.status}`)
  doc = r.json!
}, TIMEOUT)

afterAll(async () => {
  await server?.stop()
  server?.sb.cleanup()
})

/** Every `$ref` anywhere in `value`. */
const refs = (value: unknown, out: Array<string> = []): Array<string> => {
  if (Array.isArray(value)) for (const v of value) refs(v, out)
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string") out.push(v)
      else refs(v, out)
    }
  }
  return out
}

const operations = () =>
  Object.entries(doc.paths as Record<string, Json>).flatMap(([p, item]) =>
    METHODS.filter((m) => item[m] !== undefined).map((m) => ({ path: p, method: m, op: item[m] as Json }))
  )

describe("the OpenAPI document", () => {
  test("is OpenAPI 3.x with info, paths and components", () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/)
    expect(typeof doc.info.title).toBe("string")
    expect(typeof doc.info.version).toBe("string")
    expect(typeof doc.paths).toBe("object")
    expect(typeof doc.components.schemas).toBe("object")
  })

  test("has exactly the service's routes, each with its methods", () => {
    const listed = Object.fromEntries(
      Object.entries(doc.paths as Record<string, Json>).map(([p, item]) => [p, METHODS.filter((m) => item[m] !== undefined).sort()])
    )
    expect(listed).toEqual(Object.fromEntries(Object.entries(ROUTES).map(([p, ms]) => [p, [...ms].sort()])))
  })

  test("is structurally sound: unique operation ids, declared path parameters, resolvable refs, known security schemes, status codes", () => {
    const ops = operations()
    const ids = ops.map((o) => o.op.operationId)
    expect(new Set(ids).size).toBe(ids.length)
    const schemes = Object.keys(doc.components.securitySchemes ?? {})
    expect(schemes.sort()).toEqual(["apiKey", "basic", "bearer"])
    for (const { path, method, op } of ops) {
      const where = `${method.toUpperCase()} ${path}`
      for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
        const param = (op.parameters ?? []).find((p: Json) => p.name === name && p.in === "path")
        expect({ where, name, declared: param?.required === true }).toEqual({ where, name, declared: true })
      }
      expect(Object.keys(op.responses).length).toBeGreaterThan(0)
      for (const status of Object.keys(op.responses)) expect({ where, status, ok: /^[1-5]\d\d$|^default$/.test(status) }).toEqual({ where, status, ok: true })
      const security = (op.security ?? []) as Array<Json>
      for (const req of security) for (const name of Object.keys(req)) expect(schemes).toContain(name)
      // Authentication everywhere but the probes (the rule), as documented.
      expect({ where, open: security.length === 0 }).toEqual({ where, open: OPEN.has(path) })
      if (!OPEN.has(path)) expect(Object.keys(op.responses)).toContain("401")
    }
    for (const ref of refs(doc)) {
      expect(ref).toStartWith("#/components/schemas/")
      expect(doc.components.schemas[ref.slice("#/components/schemas/".length)]).toBeDefined()
    }
  })

  test("documents the statuses a client must handle on POST /v1/ingests", () => {
    const responses = Object.keys(doc.paths["/v1/ingests"].post.responses)
    for (const status of ["200", "202", "400", "401", "403", "409", "413", "422", "429", "502", "503"]) expect(responses).toContain(status)
    expect(doc.paths["/v1/ingests"].post.requestBody.content["application/json"]).toBeDefined()
  })

  test("is the document generated from the contract (Api.ts)", () => {
    expect(doc).toEqual(JSON.parse(JSON.stringify(openApi())))
  })

  test(
    "matches the routes served: every listed route answers (no 'no route'), unlisted ones do not",
    async () => {
      for (const { path, method } of operations()) {
        const route = path.replace("{id}", "no-such-ingest")
        const r = await server.request(method.toUpperCase(), route, method === "post" ? { body: {} } : {})
        const noRoute = r.status === 404 && String(r.json?.message ?? "").startsWith("no route")
        expect({ route, method, noRoute, status: r.status === 405 }).toEqual({ route, method, noRoute: false, status: false })
      }
      for (const [method, route] of [
        ["DELETE", "/v1/ingests"],
        ["PUT", "/v1/ingests/x"],
        ["GET", "/v1/validate"],
        ["POST", "/healthz"],
        ["GET", "/v1"]
      ] as const) {
        const r = await server.request(method, route, method === "GET" ? {} : { body: {} })
        expect({ method, route, status: r.status, tag: r.json?._tag }).toEqual({ method, route, status: 404, tag: "NotFound" })
      }
    },
    TIMEOUT
  )
})

describe("the docs page", () => {
  test("is HTML rendered from the document: every route, every schema, self-contained", async () => {
    const r = await server.request("GET", "/docs")
    expect(r.status).toBe(200)
    expect(r.headers.get("content-type")).toStartWith("text/html")
    expect(r.headers.get("content-security-policy")).toContain("default-src 'none'")
    const html = r.text
    expect(html).toStartWith("<!doctype html>")
    for (const [path, methods] of Object.entries(ROUTES)) {
      for (const m of methods) expect(html).toContain(`<span class="method ${m}">${m.toUpperCase()}</span> <code>${path}</code>`)
    }
    for (const name of Object.keys(doc.components.schemas)) expect(html).toContain(`id="schema-${name.replace(/[^A-Za-z0-9_-]/g, "_")}"`)
    // Nothing fetched: no script, no stylesheet link, no external src or href.
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toMatch(/<link/i)
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i)
    expect(html).toContain('href="/openapi.json"')
  })
})
