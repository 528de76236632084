/**
 * A fault-injecting HTTP proxy in front of a REAL server, for tests. It forwards
 * every request unchanged (the Host header included, so S3 signatures stay
 * valid) and misbehaves only as a rule says: answer the N-th matching request
 * with an error status (502 by default, what a gateway answers when its backend
 * is gone), or stop listening altogether, so connections are refused as when
 * the server dies mid-run; or holds a request back until the test lets it go
 * (`hold`). It never answers in the server's place with data.
 */

export interface Rule {
  /** Which requests count, e.g. `(r) => r.method === "PUT"`. */
  readonly match: (request: Request) => boolean
  /** 1-based number of the matching request that fails; with `count`, it and the next ones. */
  readonly nth: number
  readonly count?: number
  /** Status to answer with (default 502). */
  readonly status?: number
}

export interface FaultProxy {
  readonly url: string
  readonly port: number
  /** Requests seen, in order, as `METHOD /path`. */
  readonly seen: Array<string>
  /** Failures injected so far. */
  readonly injected: () => number
  /** Requests received and not answered yet (failed on purpose, or forwarded and the upstream's answer back). */
  readonly inFlight: () => number
  /**
   * Resolves once every request received has been answered: for a forwarded
   * one, the upstream has answered it, so it has happened there. What a test
   * awaits after its client exited, instead of sleeping (fails after `timeoutMs`).
   */
  readonly settled: (timeoutMs?: number) => Promise<void>
  /** Stops listening and closes open connections: clients get "connection refused", as if the server died. */
  readonly kill: () => void
  /** Listens again on the same port. */
  readonly revive: () => void
  readonly stop: () => void
}

export interface Options {
  /** Awaited before a request is forwarded, when it returns a promise: a test holds chosen requests back (e.g. until racers line up). */
  readonly hold?: (request: Request) => Promise<void> | undefined
}

export const start = (upstream: string, rules: ReadonlyArray<Rule> = [], options: Options = {}): FaultProxy => {
  const target = new URL(upstream)
  const counts = rules.map(() => 0)
  const seen: Array<string> = []
  let injected = 0
  let inFlight = 0

  const handle = async (request: Request): Promise<Response> => {
    inFlight++
    try {
      return await answer(request)
    } finally {
      inFlight--
    }
  }

  const answer = async (request: Request): Promise<Response> => {
    const url = new URL(request.url)
    seen.push(`${request.method} ${url.pathname}`)
    for (const [i, rule] of rules.entries()) {
      if (!rule.match(request)) continue
      counts[i]! += 1
      const n = counts[i]!
      if (n >= rule.nth && n < rule.nth + (rule.count ?? 1)) {
        injected++
        return new Response(`fault proxy: request ${n} failed on purpose`, { status: rule.status ?? 502 })
      }
    }
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer()
    await options.hold?.(request)
    const response = await fetch(new URL(url.pathname + url.search, target), {
      method: request.method,
      headers: new Headers(request.headers),
      body,
      redirect: "manual",
      decompress: false
    })
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers: response.headers })
  }

  const listen = (port: number) => Bun.serve({ port, hostname: "127.0.0.1", idleTimeout: 120, fetch: handle })
  let server = listen(0)
  const port = server.port!
  let alive = true
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    injected: () => injected,
    inFlight: () => inFlight,
    settled: async (timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs
      while (inFlight > 0) {
        if (Date.now() > deadline) throw new Error(`fault proxy: ${inFlight} request(s) still unanswered after ${timeoutMs} ms`)
        await Bun.sleep(10)
      }
    },
    kill: () => {
      if (alive) server.stop(true)
      alive = false
    },
    revive: () => {
      if (!alive) server = listen(port)
      alive = true
    },
    stop: () => {
      if (alive) server.stop(true)
      alive = false
    }
  }
}
