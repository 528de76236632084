/**
 * A loopback HTTP proxy for tests of our clients, put in front of a REAL
 * server (the STAC API, SeaweedFS S3): it forwards every request unchanged
 * unless a test's `fault` hook says otherwise for that request (fail it with a
 * status, delay it, delay only the answer after the server applied it, rewrite
 * the request or the answer). It records what it received (method, path,
 * headers, body) so tests can see headers, retries and pagination as they
 * went over the wire.
 *
 * It is not a fake of the backend: every answer that is not an injected
 * fault comes from the real server, and a rewritten answer starts from the
 * server's own. Request bodies are forwarded byte for byte; with
 * `preserveHost` the Host header is too, so S3 signatures (which cover it)
 * stay valid.
 */

export interface Seen {
  readonly n: number
  readonly method: string
  /** Path and query as received. */
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

export type Fault =
  /** Answer this yourself; the server never sees the request. */
  | { readonly respond: { readonly status: number; readonly body?: unknown; readonly headers?: Record<string, string> } }
  /** Wait, then forward (a slow server: the client's timeout fires first). */
  | { readonly delayMs: number }
  /** Forward now, answer late (the server applied it; the client gave up). */
  | { readonly delayAnswerMs: number }
  /** Forward a changed body. */
  | { readonly rewriteRequest: (body: unknown) => unknown }
  /** Forward, then change the server's JSON answer. */
  | { readonly rewriteAnswer: (body: unknown) => unknown }
  /** Forward, then change the server's answer as text (XML, for S3). */
  | { readonly rewriteAnswerText: (text: string) => string }

export interface FaultProxy {
  readonly url: string
  readonly seen: Array<Seen>
  /** Decides per request; undefined forwards it. Replace at will. */
  fault: (request: Seen) => Fault | undefined
  readonly stop: () => Promise<void>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface Options {
  /** Forward the client's Host header (S3 signs it); by default the upstream's is sent. */
  readonly preserveHost?: boolean
}

export const start = (target: string, options: Options = {}): FaultProxy => {
  const upstream = new URL(target)
  const seen: Array<Seen> = []
  const proxy: FaultProxy = {
    url: "",
    seen,
    fault: () => undefined,
    stop: async () => {
      await server.stop(true)
    }
  }
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    fetch: async (req) => {
      const url = new URL(req.url)
      const raw = req.method === "GET" || req.method === "HEAD" ? undefined : new Uint8Array(await req.arrayBuffer())
      const text = raw === undefined ? "" : new TextDecoder().decode(raw)
      let body: unknown = undefined
      try {
        body = text === "" ? undefined : JSON.parse(text)
      } catch {
        body = text
      }
      const headers: Record<string, string> = {}
      req.headers.forEach((v, k) => {
        headers[k] = v
      })
      const entry: Seen = { n: seen.length + 1, method: req.method, path: `${url.pathname}${url.search}`, headers, body }
      seen.push(entry)
      const fault = proxy.fault(entry)
      if (fault !== undefined && "respond" in fault) {
        const r = fault.respond
        return new Response(r.body === undefined ? null : typeof r.body === "string" ? r.body : JSON.stringify(r.body), {
          status: r.status,
          headers: { "content-type": "application/json", ...r.headers }
        })
      }
      if (fault !== undefined && "delayMs" in fault) await sleep(fault.delayMs)
      const forwardHeaders = new Headers(req.headers)
      if (options.preserveHost !== true) forwardHeaders.delete("host")
      forwardHeaders.delete("content-length")
      const forwardBody =
        fault !== undefined && "rewriteRequest" in fault ? JSON.stringify(fault.rewriteRequest(body)) : raw === undefined || raw.length === 0 ? undefined : raw
      const answer = await fetch(new URL(`${url.pathname}${url.search}`, upstream), {
        method: req.method,
        headers: forwardHeaders,
        ...(forwardBody !== undefined ? { body: forwardBody } : {})
      })
      let answerText = await answer.text()
      if (fault !== undefined && "rewriteAnswer" in fault) answerText = JSON.stringify(fault.rewriteAnswer(JSON.parse(answerText)))
      if (fault !== undefined && "rewriteAnswerText" in fault) answerText = fault.rewriteAnswerText(answerText)
      if (fault !== undefined && "delayAnswerMs" in fault) await sleep(fault.delayAnswerMs)
      const answerHeaders = new Headers(answer.headers)
      // fetch decoded the body; the length and encoding no longer match it.
      answerHeaders.delete("content-encoding")
      answerHeaders.delete("content-length")
      return new Response(answerText, { status: answer.status, headers: answerHeaders })
    }
  })
  ;(proxy as { url: string }).url = `http://127.0.0.1:${server.port}`
  return proxy
}

/** A loopback port with nothing listening (bound, then released). */
export const closedPort = async (): Promise<number> => {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") })
  const port = s.port
  await s.stop(true)
  if (port === undefined) throw new Error("no port")
  return port
}
