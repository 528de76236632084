/**
 * The Extractor port: runs a datasets.json `extractor` as a child process.
 *
 * The program is operator config; the product dir it is given is job output,
 * so it is passed as one argument with no shell in between (a dir named
 * `$(rm -rf ~)` is just a name). The child runs in a process group of its
 * own (`detached`), so that at the time limit, or when the ingest is
 * interrupted, the whole group is killed with SIGKILL: an extractor that
 * started helpers leaves none behind. When it exits normally, whatever it left
 * running in its group is killed too (HySDS's `check_output` would wait for
 * them to close stdout; an extractor's leftovers are not part of the ingest).
 *
 * Output is bounded: stdout up to `maxStdoutBytes` (more stops the run: the
 * metadata would be refused anyway), stderr only its last `stderrTailBytes`.
 * stdin is closed.
 */
import { Extractor } from "@hysds-stac/core"
import { Effect, Layer } from "effect"
import { spawn } from "node:child_process"

export interface ExtractorOptions {
  readonly timeoutMillis: number
  /** Default: core's limit for a metadata JSON file (32 MiB). */
  readonly maxStdoutBytes?: number
  readonly stderrTailBytes?: number
}

export const DEFAULT_TIMEOUT_MILLIS = 600_000
const DEFAULT_MAX_STDOUT = 32 * 1024 * 1024
const DEFAULT_STDERR_TAIL = 16 * 1024

const killGroup = (pid: number | undefined) => {
  if (pid === undefined) return
  try {
    process.kill(-pid, "SIGKILL")
  } catch {
    // already gone
  }
}

export const make = (options: ExtractorOptions): Extractor.ExtractorShape => {
  const maxStdout = options.maxStdoutBytes ?? DEFAULT_MAX_STDOUT
  const stderrTail = options.stderrTailBytes ?? DEFAULT_STDERR_TAIL
  const run = (program: string, productDir: string) =>
    Effect.async<Extractor.ExtractorRun>((resume) => {
      const stdout: Array<Buffer> = []
      let stdoutBytes = 0
      let stderr = Buffer.alloc(0)
      let timedOut = false
      let truncated = false
      let done = false
      let exit: { code: number | null; signal: string | null } | undefined
      const finish = (result: Extractor.ExtractorRun) => {
        if (done) return
        done = true
        clearTimeout(timer)
        resume(Effect.succeed(result))
      }
      const child = spawn(program, [productDir], {
        shell: false,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        windowsHide: true
      })
      const timer = setTimeout(() => {
        timedOut = true
        killGroup(child.pid)
      }, options.timeoutMillis)
      const result = (): Extractor.ExtractorRun => ({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderrTail: stderr.toString("utf8"),
        timedOut,
        stdoutTruncated: truncated
      })
      child.on("error", (e) => {
        // Spawning failed (ENOENT, EACCES): there is no process to wait for.
        if (child.pid === undefined) {
          finish({ exitCode: null, signal: null, startError: e.message, stdout: "", stderrTail: "", timedOut: false, stdoutTruncated: false })
        }
      })
      child.stdout.on("data", (chunk: Buffer) => {
        if (truncated) return
        stdoutBytes += chunk.length
        if (stdoutBytes > maxStdout) {
          truncated = true
          killGroup(child.pid)
          return
        }
        stdout.push(chunk)
      })
      child.stderr.on("data", (chunk: Buffer) => {
        stderr = Buffer.concat([stderr, chunk])
        if (stderr.length > stderrTail) stderr = stderr.subarray(stderr.length - stderrTail)
      })
      child.on("exit", (code, signal) => {
        exit = { code, signal }
        // Its leftovers would keep the pipes open; the extractor is done.
        killGroup(child.pid)
      })
      child.on("close", () => finish(result()))
      // Interrupted (the ingest was cancelled): stop the whole group.
      return Effect.sync(() => {
        if (!done) killGroup(child.pid)
        clearTimeout(timer)
      })
    })
  return { run, timeoutMillis: options.timeoutMillis }
}

export const layer = (options: ExtractorOptions): Layer.Layer<Extractor.Extractor> => Layer.succeed(Extractor.Extractor, make(options))
