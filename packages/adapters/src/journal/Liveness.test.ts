import { describe, expect, test } from "bun:test"
import * as os from "node:os"
import * as Liveness from "./Liveness.ts"

describe("Liveness.isAlive", () => {
  const here = os.hostname()
  test("another host counts as alive", () => {
    expect(Liveness.isAlive()({ tx: "t", host: `${here}-elsewhere`, pid: 1 })).toBe(true)
  })
  test("a live pid of this host is alive, a gone one is not", () => {
    expect(Liveness.isAlive()({ tx: "t", host: here, pid: process.ppid })).toBe(true)
    const child = Bun.spawnSync(["true"])
    expect(Liveness.isAlive()({ tx: "t", host: here, pid: child.pid })).toBe(false)
  })
  test("this process: dead for a CLI, alive while a server runs that transaction", () => {
    expect(Liveness.isAlive()({ tx: "t", host: here, pid: process.pid })).toBe(false)
    const running = new Set(["mine"])
    const server = Liveness.isAlive((tx) => running.has(tx))
    expect(server({ tx: "mine", host: here, pid: process.pid })).toBe(true)
    expect(server({ tx: "earlier-process", host: here, pid: process.pid })).toBe(false)
  })
})
