import { afterAll, describe, expect, test } from "bun:test"
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as AllowedRoots from "./AllowedRoots.ts"

const base = realpathSync(mkdtempSync(path.join(tmpdir(), "hysds-stac-roots-")))
const root = path.join(base, "jobs")
const outside = path.join(base, "outside")
mkdirSync(path.join(root, "job-1"), { recursive: true })
mkdirSync(path.join(outside, "secret"), { recursive: true })
symlinkSync(path.join(outside, "secret"), path.join(root, "escape"))
symlinkSync(path.join(root, "job-1"), path.join(root, "alias"))
symlinkSync(root, path.join(base, "jobs-link"))
const roots: ReadonlyArray<AllowedRoots.Root> = [{ given: root, real: root }]
afterAll(() => rmSync(base, { recursive: true, force: true }))

describe("AllowedRoots.resolve", () => {
  test("a directory under a root is allowed, as its real path", () => {
    expect(AllowedRoots.resolve(roots, path.join(root, "job-1"))).toEqual({ _tag: "Allowed", real: path.join(root, "job-1") })
    expect(AllowedRoots.resolve(roots, `${root}/job-1/`)).toEqual({ _tag: "Allowed", real: path.join(root, "job-1") })
  })

  test("outside by its text (sibling, parent, traversal, prefix lookalike): refused without looking", () => {
    expect(AllowedRoots.resolve(roots, outside)._tag).toBe("Outside")
    expect(AllowedRoots.resolve(roots, base)._tag).toBe("Outside")
    expect(AllowedRoots.resolve(roots, `${root}/../outside/secret`)).toEqual({ _tag: "Outside" })
    expect(AllowedRoots.resolve(roots, `${root}-other/x`)).toEqual({ _tag: "Outside" })
  })

  test("a symlink under a root that leads outside: refused, with where it leads", () => {
    expect(AllowedRoots.resolve(roots, path.join(root, "escape"))).toEqual({ _tag: "Outside", real: path.join(outside, "secret") })
  })

  test("a symlink that stays inside is followed", () => {
    expect(AllowedRoots.resolve(roots, path.join(root, "alias"))).toEqual({ _tag: "Allowed", real: path.join(root, "job-1") })
  })

  test("a root spelled through a link it was configured by", () => {
    const linked: ReadonlyArray<AllowedRoots.Root> = [{ given: path.join(base, "jobs-link"), real: root }]
    expect(AllowedRoots.resolve(linked, path.join(base, "jobs-link", "job-1"))).toEqual({ _tag: "Allowed", real: path.join(root, "job-1") })
  })

  test("relative paths and NUL bytes are not paths we take; missing ones under a root are Missing", () => {
    expect(AllowedRoots.resolve(roots, "jobs/job-1")).toEqual({ _tag: "NotAbsolute" })
    expect(AllowedRoots.resolve(roots, `${root}/job-1\0`)).toEqual({ _tag: "NotAbsolute" })
    expect(AllowedRoots.resolve(roots, path.join(root, "nope"))).toEqual({ _tag: "Missing" })
  })

  test("isWithin does not confuse a prefix with a parent", () => {
    expect(AllowedRoots.isWithin("/a/b", "/a/b")).toBe(true)
    expect(AllowedRoots.isWithin("/a/b", "/a/b/c")).toBe(true)
    expect(AllowedRoots.isWithin("/a/b", "/a/bc")).toBe(false)
    expect(AllowedRoots.isWithin("/a/b", "/a/b/../c")).toBe(false)
    expect(AllowedRoots.isWithin("/a/b", "/a/b/..c")).toBe(true)
  })
})
