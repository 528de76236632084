/**
 * Whether `_job.json` says the job failed. A HySDS worker writes `job_info.status`
 * as the command's exit code (a number) and `pid` 0 when the command never ran;
 * older and hand-written job files carry `exit_code` and a status word. A failed
 * job is never published, whichever form says so.
 */
import { BunContext } from "@effect/platform-bun"
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as JobInfo from "./JobInfo.ts"

const read = (jobInfo: Record<string, unknown>) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jobinfo-"))
  fs.writeFileSync(path.join(dir, "_job.json"), JSON.stringify({ task_id: "t-1", job_info: jobInfo }))
  return Effect.runPromise(JobInfo.read(dir).pipe(Effect.provide(BunContext.layer)))
}

describe("JobInfo.read: a failed job", () => {
  test("HySDS's numeric status: the command's exit code", async () => {
    expect((await read({ status: 1, pid: 4242 })).failure).toBe("the job exited with code 1")
    expect((await read({ status: 137, pid: 4242 })).failure).toBe("the job exited with code 137")
    expect((await read({ status: 0, pid: 4242 })).failure).toBeUndefined()
  })

  test("pid 0: the command never ran", async () => {
    expect((await read({ status: 0, pid: 0 })).failure).toBe("the job's command never ran (pid 0)")
  })

  test("exit_code and status words still count", async () => {
    expect((await read({ status: "job-completed", exit_code: 2 })).failure).toBe("the job exited with code 2")
    expect((await read({ status: "job-failed" })).failure).toBe('the job status is "job-failed"')
    expect((await read({ status: "job-completed", exit_code: 0 })).failure).toBeUndefined()
  })
})
