/**
 * An ingest's trace, exported by the real CLI to a real collector: Jaeger v2
 * from test/services (OTLP/HTTP in, its query API out) when it is running;
 * otherwise (it is only started once built, see test/services/lib/jaeger.sh) an
 * in-process OTLP/HTTP receiver that keeps what it is sent. The ingest runs on the
 * real S3, OpenSearch and STAC API with every kind of secret configured (S3
 * secret key, GRQ and STAC API credentials in the URLs, a STAC API key, the
 * collector's own header), and the trace read back from Jaeger must show the
 * span tree (ingest > phases; publish > steps > backend requests) and contain
 * none of those secrets.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { journalRecords } from "../support/State.ts"
import { type Fixture, type Job, describeRun, expectExit, fixture, ingest, mixedJob, services, tag, tempDir } from "./Real.ts"

const svc = services()
const jaeger = svc?.JAEGER_QUERY_URL !== undefined && svc.OTLP_URL !== undefined ? { query: svc.JAEGER_QUERY_URL, otlp: svc.OTLP_URL } : undefined
if (svc !== undefined && jaeger === undefined) {
  console.warn("tracing test: no Jaeger in services.env (HYSDS_STAC_WITH_JAEGER=1 builds it); exporting to an in-process OTLP/HTTP receiver instead")
}
const TIMEOUT = 180_000

interface JaegerSpan {
  readonly spanID: string
  readonly operationName: string
  readonly references: ReadonlyArray<{ readonly refType: string; readonly spanID: string }>
  readonly tags: ReadonlyArray<{ readonly key: string; readonly value: unknown }>
}
interface JaegerTrace {
  readonly traceID: string
  readonly spans: ReadonlyArray<JaegerSpan>
}

/**
 * The fallback collector: an OTLP/HTTP JSON receiver keeping every request
 * body, and its spans in Jaeger's shape so the assertions are the same.
 */
const receiver = () => {
  const bodies: Array<string> = []
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      bodies.push(await req.text())
      return Response.json({})
    }
  })
  const trace = (): { readonly trace: JaegerTrace; readonly raw: string } | undefined => {
    const spans = bodies.flatMap((b) =>
      (JSON.parse(b).resourceSpans as Array<any>).flatMap((rs) => (rs.scopeSpans as Array<any>).flatMap((ss) => ss.spans as Array<any>))
    )
    if (!spans.some((s) => s.name === "ingest")) return undefined
    const value = (v: Record<string, unknown>) => Object.values(v)[0]
    const converted: Array<JaegerSpan> = spans.map((s) => ({
      spanID: s.spanId,
      operationName: s.name,
      references: s.parentSpanId ? [{ refType: "CHILD_OF", spanID: s.parentSpanId }] : [],
      tags: (s.attributes as Array<{ key: string; value: Record<string, unknown> }>).map((a) => ({ key: a.key, value: value(a.value) }))
    }))
    return { trace: { traceID: spans[0].traceId, spans: converted }, raw: bodies.join("\n") }
  }
  return { url: `http://127.0.0.1:${server.port}`, trace, stop: () => server.stop(true) }
}

/** Traces of `service` from Jaeger's query API, polled until one has an `ingest` span (the CLI sent them as it exited). */
const traceOf = async (service: string): Promise<{ readonly trace: JaegerTrace; readonly raw: string }> => {
  const deadline = Date.now() + 60_000
  let last = ""
  while (Date.now() < deadline) {
    const res = await fetch(`${jaeger!.query}/api/traces?service=${encodeURIComponent(service)}&limit=20`)
    last = await res.text()
    if (res.ok) {
      const traces = (JSON.parse(last) as { data: Array<JaegerTrace> | null }).data ?? []
      const found = traces.find((t) => t.spans.some((s) => s.operationName === "ingest"))
      // Spans are exported in batches; wait until the last one (the ingest, ended last) is stored.
      if (found) return { trace: found, raw: JSON.stringify(found) }
    }
    await Bun.sleep(250)
  }
  throw new Error(`no trace of service ${service} with an ingest span in Jaeger after 60 s; last answer: ${last.slice(0, 500)}`)
}

describe.skipIf(svc === undefined)(`an ingest's trace in ${jaeger ? "Jaeger" : "an in-process OTLP receiver"}`, () => {
  let fx: Fixture
  let job: Job
  let service: string
  let secrets: Record<string, string>
  let trace: JaegerTrace
  let raw: string
  let state: string
  const local = jaeger === undefined ? receiver() : undefined

  const withCredentials = (url: string, user: string, password: string) => {
    const u = new URL(url)
    u.username = user
    u.password = password
    return u.href
  }

  beforeAll(async () => {
    fx = await fixture(svc!, "opensearch", svc!.OPENSEARCH_URL!, "tracing")
    job = fx.track(mixedJob(tag()))
    service = `hysds-stac-it-${job.tag}`
    // The test servers run without authentication and ignore these; what
    // matters is that the CLI holds them while it traces.
    secrets = {
      s3: svc!.S3_SECRET_ACCESS_KEY!,
      grqPassword: `grq-pw-${job.tag}`,
      stacPassword: `stac-pw-${job.tag}`,
      stacKey: `stac-key-${job.tag}`,
      collectorKey: `otlp-key-${job.tag}`
    }
    secrets.stacBasic = Buffer.from(`tracer:${secrets.stacPassword}`).toString("base64")
    const env = fx.env({
      GRQ_ES_URL: withCredentials(svc!.OPENSEARCH_URL!, "tracer", secrets.grqPassword!),
      STAC_API_URL: withCredentials(svc!.STAC_API_URL!, "tracer", secrets.stacPassword!),
      STAC_API_KEY: secrets.stacKey,
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger?.otlp ?? local!.url,
      OTEL_EXPORTER_OTLP_HEADERS: `x-collector-key=${secrets.collectorKey}`,
      OTEL_SERVICE_NAME: service
    })
    state = tempDir("state")
    const run = await ingest(job, state, env)
    expectExit(run, 0)
    // The CLI has exited: it sent its last spans before (the exporter's finalizer).
    const got = local !== undefined ? local.trace() : await traceOf(service)
    if (got === undefined) throw new Error(`the receiver got no ingest span\n${describeRun(run)}`)
    trace = got.trace
    raw = got.raw
    if (process.env.HYSDS_STAC_TRACE_OUT) await Bun.write(process.env.HYSDS_STAC_TRACE_OUT, JSON.stringify(got.trace, null, 2))
    if (trace.spans.length < 10) throw new Error(`trace too small:\n${raw}\n${describeRun(run)}`)
  }, TIMEOUT)

  afterAll(async () => {
    local?.stop()
    await fx?.cleanup()
  }, TIMEOUT)

  const byId = () => new Map(trace.spans.map((s) => [s.spanID, s]))
  const parentName = (s: JaegerSpan) => {
    const ref = s.references.find((r) => r.refType === "CHILD_OF")
    return ref === undefined ? undefined : byId().get(ref.spanID)?.operationName
  }
  const named = (name: string) => trace.spans.filter((s) => s.operationName === name)
  const tagOf = (s: JaegerSpan, key: string) => s.tags.find((t) => t.key === key)?.value

  test("one ingest span is the root; plan, checks, preflight and publish are its children", () => {
    const roots = trace.spans.filter((s) => s.references.length === 0)
    expect(roots.map((s) => s.operationName)).toEqual(["ingest"])
    for (const phase of ["plan", "recover earlier attempts", "check grq", "check stac-api", "preflight", "publish"]) {
      expect(named(phase).map(parentName)).toEqual(["ingest"])
    }
  })

  test("a span per step under publish, in the journal's order, each naming the transaction", () => {
    const steps = trace.spans
      .filter((s) => s.operationName.startsWith("step "))
      .sort((a, b) => Number(tagOf(a, "hysds_stac.step")) - Number(tagOf(b, "hysds_stac.step")))
    // The journal's Intents by step number: the pipelined publish interleaves
    // batches of different stages, so the order is read, not written down here.
    const intents = journalRecords(state)
      .filter((r) => r._tag === "Intent")
      .sort((a, b) => a.step! - b.step!)
      .map((r) => `step ${r.action!._tag}`)
    expect(intents.length).toBeGreaterThanOrEqual(10)
    expect(new Set(intents)).toEqual(
      new Set(["step ClaimProduct", "step PutObjects", "step RegisterCollection", "step RegisterItems", "step IndexDocuments", "step WriteJobFile"])
    )
    expect(steps.map((s) => s.operationName)).toEqual(intents)
    const tx = tagOf(named("ingest")[0]!, "hysds_stac.tx")
    expect(tx).toBeString()
    for (const s of steps) {
      expect(parentName(s)).toBe("publish")
      expect(tagOf(s, "hysds_stac.tx")).toBe(tx)
    }
    // Each step's commit cleanup is its own span under the step.
    const commits = trace.spans.filter((s) => s.operationName.startsWith("commit "))
    expect(commits).toHaveLength(steps.length)
    for (const c of commits) expect(parentName(c)).toBe(c.operationName.replace("commit ", "step "))
  })

  test("backend requests are spans under the step that made them", () => {
    const under = (prefix: string) => new Set(trace.spans.filter((s) => s.operationName.startsWith(prefix)).map(parentName))
    // The marker is created with a conditional PUT; the files are uploaded.
    expect(under("s3 ")).toContain("step ClaimProduct")
    expect(under("s3 ")).toContain("step PutObjects")
    expect(under("grq request")).toContain("step IndexDocuments")
    expect(under("grq request")).toContain("check grq")
    expect(under("stac-api ")).toContain("step RegisterCollection")
    expect(under("stac-api ")).toContain("step RegisterItems")
    const grq = trace.spans.find((s) => s.operationName === "grq request" && parentName(s) === "step IndexDocuments")!
    expect(String(tagOf(grq, "server.address"))).not.toContain(secrets.grqPassword!)
    expect(String(tagOf(grq, "server.address"))).toContain("***")
  })

  test("no configured secret anywhere in the trace", () => {
    expect(raw.length).toBeGreaterThan(1000)
    for (const [name, value] of Object.entries(secrets)) {
      if (raw.includes(value)) throw new Error(`the ${name} secret is in the trace`)
    }
  })
})
