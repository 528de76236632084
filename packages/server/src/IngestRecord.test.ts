import { describe, expect, test } from "bun:test"
import { Errors } from "@hysds-stac/core"
import { Deferred, FiberId } from "effect"
import * as IngestRecord from "./IngestRecord.ts"
import * as SecretMask from "./SecretMask.ts"

const entry = () =>
  IngestRecord.make({
    id: "ingest-x",
    request: { jobDir: "/jobs/a", force: false, dryRun: false, noStac: false },
    jobDir: "/jobs/a",
    done: Deferred.unsafeMake(FiberId.none)
  })

const failed = (category: "index" | "validation" = "index") => ({
  _tag: "Failed" as const,
  error: { category, message: "boom" }
})

describe("how an ended ingest is named", () => {
  test("failed before any step: failed, no rollback shown", () => {
    const e = entry()
    IngestRecord.settle(e, { ...failed("validation"), rollback: { undone: [], failed: [] } })
    const s = IngestRecord.toStatus(e, SecretMask.make([]))
    expect(s.state).toBe("failed")
    expect(s.rollback).toBeUndefined()
  })

  test("failed after steps that were all undone: rolled_back, complete", () => {
    const e = entry()
    IngestRecord.settle(e, { ...failed(), rollback: { undone: [{ step: 2, summary: "b" }, { step: 1, summary: "a" }], failed: [] } })
    const s = IngestRecord.toStatus(e, SecretMask.make([]))
    expect(s.state).toBe("rolled_back")
    expect(s.rollback).toEqual({ complete: true, undone: [{ step: 2, summary: "b" }, { step: 1, summary: "a" }], failed: [] })
  })

  test("an undo that failed: failed, rollback incomplete", () => {
    const e = entry()
    IngestRecord.settle(e, { ...failed(), rollback: { undone: [{ step: 1, summary: "a" }], failed: [{ step: 2, summary: "b", error: "down" }] } })
    const s = IngestRecord.toStatus(e, SecretMask.make([]))
    expect(s.state).toBe("failed")
    expect(s.rollback?.complete).toBe(false)
  })

  test("errors keep category, message, hint and problems, redacted, never the cause", () => {
    const info = IngestRecord.errorInfo(
      new Errors.IndexError({ message: "GRQ at http://u:hunter22@grq refused", hint: "check it", cause: new Error("stack here") }),
      SecretMask.make(["hunter22"])
    )
    expect(info).toEqual({ category: "index", message: "GRQ at http://u:***@grq refused", hint: "check it" })
  })
})

describe("request input is shown as submitted", () => {
  test("a job dir that spells a secret is not masked: masking it would confirm the guess", () => {
    const e = IngestRecord.make({
      id: "ingest-y",
      request: { jobDir: "/jobs/guess-s3cr3t-value", force: false, dryRun: false, noStac: false },
      jobDir: "/jobs/guess-s3cr3t-value",
      done: Deferred.unsafeMake(FiberId.none)
    })
    const s = IngestRecord.toStatus(e, SecretMask.make(["s3cr3t-value"]))
    expect(s.request.jobDir).toBe("/jobs/guess-s3cr3t-value")
    expect(s.jobDir).toBe("/jobs/guess-s3cr3t-value")
  })
})
