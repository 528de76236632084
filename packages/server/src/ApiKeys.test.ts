import { afterEach, describe, expect, test } from "bun:test"
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as ApiKeys from "./ApiKeys.ts"

const dirs: Array<string> = []
const tempFile = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "hysds-stac-keys-"))
  dirs.push(dir)
  return path.join(dir, "keys")
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe("ApiKeys", () => {
  test("parse: one key per line, blanks and comments ignored, whitespace trimmed", () => {
    expect(ApiKeys.parse("# ops\n\n  alpha  \r\nbeta\n#gamma\n")).toEqual(["alpha", "beta"])
  })

  test("keys from the environment verify; anything else, including empty and prefixes, does not", () => {
    const keys = ApiKeys.make({ keys: ["alpha-key", "beta-key"] })
    expect(keys.verify("alpha-key")).toBe(true)
    expect(keys.verify("beta-key")).toBe(true)
    expect(keys.verify("alpha")).toBe(false)
    expect(keys.verify("alpha-key ")).toBe(false)
    expect(keys.verify("")).toBe(false)
  })

  test("the file is re-read when it changes: rotation without restart", () => {
    const file = tempFile()
    writeFileSync(file, "first-key\n")
    const events: Array<number> = []
    const keys = ApiKeys.make({ keys: ["env-key"], file, onReload: (e) => events.push(e.keys) })
    expect(keys.verify("first-key")).toBe(true)
    writeFileSync(`${file}.new`, "second-key\nthird-key\n")
    renameSync(`${file}.new`, file)
    expect(keys.verify("first-key")).toBe(false)
    expect(keys.verify("third-key")).toBe(true)
    expect(keys.verify("env-key")).toBe(true)
    // Unchanged file: not read again.
    keys.verify("third-key")
    expect(events).toEqual([1, 2])
  })

  test("a missing file gives no key (fail closed), and comes back when the file does", () => {
    const file = tempFile()
    writeFileSync(file, "file-key\n")
    const keys = ApiKeys.make({ keys: [], file })
    expect(keys.verify("file-key")).toBe(true)
    rmSync(file)
    expect(keys.verify("file-key")).toBe(false)
    expect(keys.current()).toEqual([])
    writeFileSync(file, "file-key\n")
    expect(keys.verify("file-key")).toBe(true)
  })
})
