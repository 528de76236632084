import { afterAll, describe, expect, test } from "bun:test"
import * as FaultProxy from "./FaultProxy.ts"

// The proxy's own behaviour, against a loopback echo (it is a tool of the tests, tested like one).
const upstream = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: async (r) => new Response(`${r.method} ${new URL(r.url).pathname} host=${r.headers.get("host")} body=${await r.text()}`)
})
afterAll(() => upstream.stop(true))

describe("FaultProxy", () => {
  test("forwards method, path, body and the Host header unchanged", async () => {
    const proxy = FaultProxy.start(`http://127.0.0.1:${upstream.port}`)
    const res = await fetch(`${proxy.url}/a/b?x=1`, { method: "PUT", body: "hello" })
    expect(await res.text()).toBe(`PUT /a/b host=127.0.0.1:${proxy.port} body=hello`)
    proxy.stop()
  })
  test("fails exactly the N-th matching request", async () => {
    const proxy = FaultProxy.start(`http://127.0.0.1:${upstream.port}`, [{ match: (r) => r.method === "PUT", nth: 2, status: 503 }])
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${proxy.url}/k${i}`, { method: "PUT", body: "x" })).status)
    statuses.push((await fetch(`${proxy.url}/g`)).status)
    expect(statuses).toEqual([200, 503, 200, 200])
    expect(proxy.injected()).toBe(1)
    proxy.stop()
  })
  test("kill refuses connections until revive", async () => {
    const proxy = FaultProxy.start(`http://127.0.0.1:${upstream.port}`)
    proxy.kill()
    // Awaited: an assertion on a promise that is not awaited is checked after revive, or never.
    await expect(fetch(`${proxy.url}/x`)).rejects.toThrow()
    proxy.revive()
    expect((await fetch(`${proxy.url}/x`)).status).toBe(200)
    proxy.stop()
  })
  test("settled() waits until every request received has been answered by the upstream", async () => {
    let release = () => {}
    const held = new Promise<void>((r) => (release = r))
    let arrived = () => {}
    const reached = new Promise<void>((r) => (arrived = r))
    const slow = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async () => {
        arrived()
        await held
        return new Response("answered")
      }
    })
    const proxy = FaultProxy.start(`http://127.0.0.1:${slow.port}`)
    try {
      const response = fetch(`${proxy.url}/held`)
      await reached
      // The upstream holds the request: the proxy counts it as unanswered.
      expect(proxy.inFlight()).toBe(1)
      // Still held upstream: waiting on it fails at its deadline, naming what is unanswered.
      await expect(proxy.settled(50)).rejects.toThrow("1 request(s) still unanswered after 50 ms")
      release()
      await proxy.settled()
      expect(proxy.inFlight()).toBe(0)
      expect(await (await response).text()).toBe("answered")
    } finally {
      proxy.stop()
      slow.stop(true)
    }
  })
})
