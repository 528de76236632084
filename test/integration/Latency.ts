/**
 * A slow hop in front of a REAL server, for tests: it reads each request
 * whole, holds the matching ones for `delayMs`, then forwards them unchanged
 * (Host header included, so S3 signatures stay valid) and answers with the
 * server's response. Like a buffering reverse proxy (nginx's default) or a
 * server slow to commit, it finishes a request whose client has already gone
 * away: a write cut off on the client side still lands, `delayMs` later.
 * Put a FaultProxy in front of it to fail requests as well.
 */
export interface Latency {
  readonly url: string
  /** Requests forwarded to the server so far, as `METHOD /path` (after their delay). */
  readonly forwarded: Array<string>
  /** Resolves once no request is being held or forwarded (fails after `timeoutMs`). */
  readonly settled: (timeoutMs?: number) => Promise<void>
  readonly stop: () => void
}

export const start = (upstream: string, delayMs: number, match: (request: Request) => boolean = () => true): Latency => {
  const target = new URL(upstream)
  const forwarded: Array<string> = []
  let pending = 0
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 120,
    fetch: async (request) => {
      pending++
      try {
        const url = new URL(request.url)
        const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer()
        if (match(request)) await Bun.sleep(delayMs)
        const response = await fetch(new URL(url.pathname + url.search, target), {
          method: request.method,
          headers: new Headers(request.headers),
          body,
          redirect: "manual",
          decompress: false
        })
        const bytes = await response.arrayBuffer()
        forwarded.push(`${request.method} ${url.pathname}`)
        return new Response(bytes, { status: response.status, statusText: response.statusText, headers: response.headers })
      } finally {
        pending--
      }
    }
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    forwarded,
    settled: async (timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs
      while (pending > 0) {
        if (Date.now() > deadline) throw new Error(`latency hop: ${pending} request(s) still held or forwarded after ${timeoutMs} ms`)
        await Bun.sleep(20)
      }
    },
    stop: () => server.stop(true)
  }
}
