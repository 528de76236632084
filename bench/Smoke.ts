/**
 * A benchmark run by its smoke test: `bun <script> <args>` in a temp dir that
 * is also its TMPDIR, so whatever it generates lands there and the test can
 * check it removed all of it. The dir itself is removed afterwards, whatever
 * the outcome.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export interface Ran {
  readonly out: string
  readonly err: string
  readonly code: number
  /** What the run left in its TMPDIR (empty when it cleaned up). */
  readonly left: ReadonlyArray<string>
}

export const run = async (script: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Ran> => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${path.basename(script, ".ts")}-bench-smoke-`))
  try {
    const child = Bun.spawn(["bun", path.join(import.meta.dir, script), ...args], {
      cwd: tmp,
      env: { ...process.env, TMPDIR: tmp, ...env },
      stdout: "pipe",
      stderr: "pipe"
    })
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
    return { out, err, code, left: fs.readdirSync(tmp) }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}
