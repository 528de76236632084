/**
 * The exporter's settings, and what it sends: spans reach the endpoint as
 * OTLP/HTTP JSON with the configured headers, and the last ones are sent when
 * the layer closes (the CLI's exit). The real collector (Jaeger) is exercised
 * by test/integration/Tracing.test.ts; here a small receiver records requests.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { Effect, Either, Layer, Tracer } from "effect"
import * as Tracing from "./Tracing.ts"

const config = (env: Record<string, string>) => {
  const r = Tracing.fromEnv(env)
  if (Either.isLeft(r)) throw new Error(`unexpected ConfigError: ${r.left.message}`)
  return r.right
}

describe("Tracing.layerOf", () => {
  test("without an exporter no span is made at all; with a tracer, every one is", async () => {
    const made: Array<string> = []
    // Effect's own tracer, recording the name of every span it is asked to make.
    const base = await Effect.runPromise(Effect.tracer)
    const recording = Layer.setTracer(
      Tracer.make({
        span: (name, ...rest) => {
          made.push(name)
          return base.span(name, ...rest)
        },
        context: base.context
      })
    )
    const work = Effect.void.pipe(Effect.withSpan("a request"), Effect.withSpan("a step"))
    await Effect.runPromise(work.pipe(Effect.provide(recording)))
    expect(made).toEqual(["a step", "a request"])
    made.length = 0
    await Effect.runPromise(work.pipe(Effect.provide(Layer.merge(recording, Tracing.layerOf(undefined)))))
    expect(made).toEqual([])
  })
})

describe("Tracing.fromEnv", () => {
  test("off unless an endpoint is set", () => {
    expect(config({})).toBeUndefined()
    expect(config({ OTEL_EXPORTER_OTLP_ENDPOINT: "  " })).toBeUndefined()
    expect(config({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_SDK_DISABLED: "true" })).toBeUndefined()
  })

  test("the base endpoint gets /v1/traces; the traces endpoint is used as is and wins", () => {
    expect(config({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })?.url).toBe("http://127.0.0.1:4318/v1/traces")
    expect(config({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example.org/base/" })?.url).toBe("https://otel.example.org/base/v1/traces")
    expect(
      config({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b:9999/custom" })?.url
    ).toBe("http://b:9999/custom")
  })

  test("service name defaults to hysds-stac; OTEL_SERVICE_NAME sets it", () => {
    expect(config({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://h:4318" })?.serviceName).toBe("hysds-stac")
    expect(config({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://h:4318", OTEL_SERVICE_NAME: "grq-worker" })?.serviceName).toBe("grq-worker")
  })

  test("headers as key=value pairs, percent-decoded; their values are secrets", () => {
    const c = config({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://h:4318", OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=abc%3D123, tenant = t1" })
    expect(c?.headers).toEqual({ "x-api-key": "abc=123", tenant: "t1" })
    expect(Tracing.secretsOf(c)).toContain("abc=123")
  })

  test("a bad setting is a ConfigError naming the variable and never quoting a header", () => {
    const notUrl = Tracing.fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "127.0.0.1:4318" })
    expect(Either.isLeft(notUrl) && notUrl.left.field).toBe("OTEL_EXPORTER_OTLP_ENDPOINT")
    const grpc = Tracing.fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "grpc://h:4317" })
    expect(Either.isLeft(grpc) && grpc.left.message).toContain("http(s)")
    const header = Tracing.fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://h:4318", OTEL_EXPORTER_OTLP_HEADERS: "sekrit-token-value" })
    expect(Either.isLeft(header) && header.left.field).toBe("OTEL_EXPORTER_OTLP_HEADERS")
    expect(Either.isLeft(header) && `${header.left.message} ${header.left.hint}`).not.toContain("sekrit")
  })
})

describe("Tracing.layer", () => {
  const received: Array<{ readonly path: string; readonly headers: Headers; readonly body: any }> = []
  const receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      received.push({ path: new URL(req.url).pathname, headers: req.headers, body: await req.json() })
      return Response.json({})
    }
  })
  afterAll(() => receiver.stop(true))

  test("spans are sent when the layer closes, as OTLP JSON with the service name, parents and the headers", async () => {
    const c = config({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`,
      OTEL_EXPORTER_OTLP_HEADERS: "x-collector-key=k-123456",
      OTEL_SERVICE_NAME: "tracing-unit-test"
    })!
    await Effect.runPromise(
      Effect.void.pipe(
        Effect.withSpan("child", { attributes: { n: 1 } }),
        Effect.withSpan("parent"),
        // The export interval is 5 s: nothing may be sent before the layer closes
        // unless it is that final flush.
        Effect.provide(Tracing.layer(c))
      )
    )
    // runPromise returned: the layer's finalizer has already sent everything.
    expect(received).toHaveLength(1)
    const r = received[0]!
    expect(r.path).toBe("/v1/traces")
    expect(r.headers.get("x-collector-key")).toBe("k-123456")
    const resource = r.body.resourceSpans[0].resource.attributes
    expect(resource).toContainEqual({ key: "service.name", value: { stringValue: "tracing-unit-test" } })
    const spans = r.body.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans))
    const byName = new Map(spans.map((s: any) => [s.name, s]))
    const parent: any = byName.get("parent")
    const child: any = byName.get("child")
    expect(child.parentSpanId).toBe(parent.spanId)
    expect(child.traceId).toBe(parent.traceId)
    expect(child.attributes).toContainEqual({ key: "n", value: { intValue: 1 } })
  })
})
