/**
 * Core must stay runtime-neutral: it may import `effect`, `@effect/platform`
 * (the runtime-agnostic interfaces), `re2js` (a pure library, see ALLOWED) and
 * itself, nothing else. This test reads
 * every non-test source file of core and fails on any other import, so a
 * slip (an adapter, `node:fs`, `bun:sqlite`, `@effect/platform-bun`) is caught
 * in CI rather than by the first non-Bun user.
 */
import { describe, expect, test } from "bun:test"
import * as fs from "node:fs"
import * as path from "node:path"

// re2js is allowed too: a pure-JavaScript library (RE2's linear-time regex
// matching, no native code, no I/O, nothing runtime-specific), which core needs
// to match datasets.json patterns against untrusted paths safely (PyRegex.ts).
const ALLOWED = [/^effect(\/|$)/, /^@effect\/platform(\/|$)/, /^re2js$/, /^\.\.?\//]
const sources = fs
  .readdirSync(import.meta.dir, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))

/** Module specifiers of static imports, re-exports and dynamic imports. */
export const importsOf = (text: string): Array<string> => {
  const found: Array<string> = []
  const patterns = [/\bfrom\s+["']([^"']+)["']/g, /\bimport\s+["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g]
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]!)
  return found
}

describe("core boundaries", () => {
  test("the scanner sees every kind of import (so the rule below can fail)", () => {
    const text = `import { x } from "node:fs"\nexport * from "@effect/platform-bun"\nimport "bun:sqlite"\nconst m = await import("@hysds-stac/adapters")`
    expect(importsOf(text)).toEqual(["node:fs", "@effect/platform-bun", "bun:sqlite", "@hysds-stac/adapters"])
    expect(importsOf(text).filter((s) => !ALLOWED.some((re) => re.test(s)))).toHaveLength(4)
  })

  test("core sources import only effect, @effect/platform, re2js and core itself", () => {
    expect(sources.length).toBeGreaterThan(10)
    const offending = sources.flatMap((file) =>
      importsOf(fs.readFileSync(path.join(import.meta.dir, file), "utf8"))
        .filter((s) => !ALLOWED.some((re) => re.test(s)))
        .map((s) => `${file}: ${s}`)
    )
    expect(offending).toEqual([])
  })

  test("core's package.json depends on nothing runtime-specific", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(import.meta.dir, "..", "package.json"), "utf8"))
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["@effect/platform", "effect", "re2js"])
  })
})
