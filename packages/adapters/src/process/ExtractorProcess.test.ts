import { afterAll, describe, expect, test } from "bun:test"
import { Effect, Fiber } from "effect"
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as ExtractorProcess from "./ExtractorProcess.ts"

const root = mkdtempSync(path.join(tmpdir(), "hysds-stac-extractor-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const script = (name: string, body: string): string => {
  const file = path.join(root, name)
  writeFileSync(file, `#!/bin/sh\n${body}\n`)
  chmodSync(file, 0o755)
  return file
}

const run = (program: string, dir: string, options: Partial<ExtractorProcess.ExtractorOptions> = {}) =>
  Effect.runPromise(ExtractorProcess.make({ timeoutMillis: 20_000, ...options }).run(program, dir))

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Polls until `check` holds or the deadline passes; returns whether it held. */
const eventually = async (check: () => boolean, ms = 10_000): Promise<boolean> => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return check()
}

describe("ExtractorProcess", () => {
  test("runs [program, dir] without a shell: a hostile dir name is one argument, never executed", async () => {
    const dir = path.join(root, "p $(touch pwned) `touch pwned2`; touch pwned3")
    mkdirSync(dir)
    const echo = script("echo-args.sh", 'printf "%s|" "$#" "$1"')
    const r = await run(echo, dir)
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toBe(`1|${dir}|`)
    expect(["pwned", "pwned2", "pwned3"].some((f) => Bun.file(path.join(root, f)).size > 0)).toBe(false)
  })

  test("reports the exit status and keeps only the tail of stderr", async () => {
    const noisy = script("noisy.sh", 'i=0; while [ $i -lt 2000 ]; do echo "line $i" >&2; i=$((i+1)); done; echo "the real reason" >&2; exit 3')
    const r = await run(noisy, root, { stderrTailBytes: 100 })
    expect(r.exitCode).toBe(3)
    expect(r.stderrTail.length).toBeLessThanOrEqual(100)
    expect(r.stderrTail).toContain("the real reason")
  })

  test("a program that cannot start is reported, not thrown", async () => {
    const r = await run(path.join(root, "no-such-extractor"), root)
    expect(r.startError).toContain("ENOENT")
    expect(r.exitCode).toBeNull()
  })

  test("stdout over the limit stops the run and says so", async () => {
    const flood = script("flood.sh", "yes aaaaaaaaaaaaaaaa")
    const r = await run(flood, root, { maxStdoutBytes: 64 * 1024 })
    expect(r.stdoutTruncated).toBe(true)
    expect(r.stdout.length).toBeLessThanOrEqual(64 * 1024)
  })

  test("at the time limit the whole process group is killed, helpers included", async () => {
    const pidFile = path.join(root, "helper.pid")
    const slow = script("slow.sh", `sleep 300 & echo $! > "${pidFile}"; sleep 300`)
    const r = await run(slow, root, { timeoutMillis: 500 })
    expect(r.timedOut).toBe(true)
    expect(r.exitCode).toBeNull()
    const helper = Number(readFileSync(pidFile, "utf8").trim())
    expect(helper).toBeGreaterThan(0)
    expect(await eventually(() => !alive(helper))).toBe(true)
  })

  test("helpers left running after a normal exit are killed too", async () => {
    const pidFile = path.join(root, "leftover.pid")
    const leaves = script("leaves.sh", `sleep 300 >/dev/null 2>&1 & echo $! > "${pidFile}"; echo '{}'`)
    const r = await run(leaves, root)
    expect(r.exitCode).toBe(0)
    expect(r.stdout.trim()).toBe("{}")
    const helper = Number(readFileSync(pidFile, "utf8").trim())
    expect(await eventually(() => !alive(helper))).toBe(true)
  })

  test("interrupting the run kills the group", async () => {
    const pidFile = path.join(root, "interrupted.pid")
    const slow = script("slow2.sh", `echo $$ > "${pidFile}"; sleep 300`)
    const fiber = Effect.runFork(ExtractorProcess.make({ timeoutMillis: 60_000 }).run(slow, root))
    expect(await eventually(() => Bun.file(pidFile).size > 0)).toBe(true)
    const pid = Number(readFileSync(pidFile, "utf8").trim())
    await Effect.runPromise(Fiber.interrupt(fiber))
    expect(await eventually(() => !alive(pid))).toBe(true)
  })
})
