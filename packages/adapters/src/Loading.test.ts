/**
 * What a process pays for loading the adapters: a backend's client is loaded
 * when a layer of it is built, not with the package. Each client is several
 * MiB of code and memory at start (about 20 MiB for the two GRQ clients and the
 * trace exporter together), and a run uses one GRQ engine at most.
 *
 * Each case runs in a fresh `bun` process, since this one may have loaded
 * anything already.
 */
import { describe, expect, test } from "bun:test"
import * as path from "node:path"

const HERE = path.dirname(new URL(import.meta.url).pathname)
const CLIENTS = ["@opensearch-project", "@elastic", "@effect/opentelemetry", "@effect+opentelemetry"] as const

/** Runs `body` (after the adapters are imported as `A`) in a fresh process; the loaded modules it names, per client. */
const loadedAfter = async (body: string) => {
  const script = `
    const A = await import("@hysds-stac/adapters")
    const { Effect, Layer } = await import("effect")
    ${body}
    const loaded = Object.keys(require.cache)
    console.log(JSON.stringify(${JSON.stringify(CLIENTS)}.filter((c) => loaded.some((k) => k.includes("/" + c + "/") || k.includes("/" + c + "@")))))
  `
  const p = Bun.spawn(["bun", "-e", script], { cwd: HERE, stdout: "pipe", stderr: "pipe" })
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  if (code !== 0) throw new Error(`bun -e exited ${code}: ${err}`)
  const clients = JSON.parse(out.trim().split("\n").at(-1)!) as Array<string>
  return {
    opensearch: clients.includes("@opensearch-project"),
    elasticsearch: clients.includes("@elastic"),
    exporter: clients.some((c) => c.includes("opentelemetry"))
  }
}

describe("loading the adapters", () => {
  test("loads no GRQ client and no trace exporter", async () => {
    expect(await loadedAfter("")).toEqual({ opensearch: false, elasticsearch: false, exporter: false })
  })

  // Building an engine contacts nothing; the scope closes the client.
  for (const [engine, module, loaded] of [
    ["OpenSearch", "./grq/OpenSearchIndex.ts", { opensearch: true, elasticsearch: false, exporter: false }],
    ["Elasticsearch", "./grq/ElasticsearchIndex.ts", { opensearch: false, elasticsearch: true, exporter: false }]
  ] as const) {
    test(`an ${engine} engine loads the ${engine} client, and only it`, async () => {
      const body = `
        const { resolve } = await import("./grq/Config.ts")
        const { engine } = await import("${module}")
        const connection = resolve({ url: "http://127.0.0.1:1" }).pipe((e) => e.right)
        await Effect.runPromise(Effect.scoped(engine(connection)))
      `
      expect(await loadedAfter(body)).toEqual(loaded)
    })
  }

  test("the tracer loads the exporter when it is built", async () => {
    const body = `
      const config = { url: "http://127.0.0.1:1/v1/traces", serviceName: "t", headers: {}, shutdownTimeout: "10 millis", exportInterval: "1 second" }
      await Effect.runPromise(Effect.scoped(Layer.build(A.Tracing.layer(config))))
    `
    expect(await loadedAfter(body)).toEqual({ opensearch: false, elasticsearch: false, exporter: true })
  })
})
