/**
 * The package boundaries of the design, checked on every source file of the
 * four packages (core has a stricter test of its own beside its code):
 * - a package imports only what its package.json declares (or a runtime
 *   builtin where the package may use one), so no import works by accident of
 *   hoisting;
 * - no relative import climbs out of its package (they go through the
 *   workspace dependency instead);
 * - the faces stay apart: adapters import neither face, the CLI and the server
 *   never import each other; core imports no runtime builtin.
 */
import { describe, expect, test } from "bun:test"
import * as fs from "node:fs"
import * as path from "node:path"

const PACKAGES = path.resolve(import.meta.dir, "..", "packages")

interface Rule {
  readonly name: string
  /** Builtins (`node:*`, `bun:*`, `bun`) are allowed. */
  readonly builtins: boolean
  readonly forbidden: ReadonlyArray<string>
}

const RULES: ReadonlyArray<Rule> = [
  { name: "core", builtins: false, forbidden: ["@hysds-stac/adapters", "@hysds-stac/cli", "@hysds-stac/server"] },
  { name: "adapters", builtins: true, forbidden: ["@hysds-stac/cli", "@hysds-stac/server"] },
  { name: "cli", builtins: true, forbidden: ["@hysds-stac/server"] },
  { name: "server", builtins: true, forbidden: ["@hysds-stac/cli"] }
]

/**
 * Module specifiers of import and export statements (at the start of a line, so
 * the word "from" in a comment or a string is not mistaken for one) and of
 * dynamic imports.
 */
export const importsOf = (text: string): Array<string> => {
  const patterns = [
    /^\s*(?:import|export)\s[^'"`;]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g
  ]
  return patterns.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]!))
}

const isBuiltin = (s: string) => s.startsWith("node:") || s.startsWith("bun:") || s === "bun"
/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
const packageOf = (s: string) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]!)

const sourcesOf = (dir: string) =>
  fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".fixture.ts"))

/** Every import of `rule`'s package that breaks a rule, as `file: specifier (why)`. */
const violations = (rule: Rule): Array<string> => {
  const root = path.join(PACKAGES, rule.name)
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
  const declared = new Set([...Object.keys(pkg.dependencies ?? {}), pkg.name])
  const src = path.join(root, "src")
  return sourcesOf(src).flatMap((file) =>
    importsOf(fs.readFileSync(path.join(src, file), "utf8")).flatMap((s) => {
      const at = `${rule.name}/src/${file}: ${s}`
      if (s.startsWith(".")) {
        const target = path.resolve(path.dirname(path.join(src, file)), s)
        return target.startsWith(root + path.sep) ? [] : [`${at} (relative import out of the package)`]
      }
      if (isBuiltin(s)) return rule.builtins ? [] : [`${at} (runtime builtin)`]
      const name = packageOf(s)
      if (rule.forbidden.includes(name)) return [`${at} (crosses a boundary of the design)`]
      return declared.has(name) ? [] : [`${at} (not a dependency in ${rule.name}/package.json)`]
    })
  )
}

describe("package boundaries", () => {
  test("the scanner reads statements, not prose", () => {
    const text = `import { a,\n  b } from "effect"\nexport * from "./X.ts"\n// data comes from "somewhere"\nconst m = await import("node:fs")\nimport "side-effect"\n`
    expect(importsOf(text).sort()).toEqual(["./X.ts", "effect", "node:fs", "side-effect"])
  })

  test("the check finds each kind of violation (so it can fail)", () => {
    expect(packageOf("@effect/platform/HttpClient")).toBe("@effect/platform")
    expect(packageOf("effect/Schema")).toBe("effect")
    const dir = fs.mkdtempSync(path.join(PACKAGES, "..", "node_modules", ".boundaries-"))
    try {
      fs.mkdirSync(path.join(dir, "src"))
      fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "@x/probe", dependencies: { effect: "1" } }))
      fs.writeFileSync(
        path.join(dir, "src", "A.ts"),
        `import "effect"\nimport "../../elsewhere.ts"\nimport "node:fs"\nimport "@hysds-stac/server"\nimport "left-pad"\n`
      )
      const rel = path.relative(PACKAGES, dir)
      const found = violations({ name: rel, builtins: false, forbidden: ["@hysds-stac/server"] })
      expect(found.map((v) => v.replace(/^.*?: /, ""))).toEqual([
        "../../elsewhere.ts (relative import out of the package)",
        "node:fs (runtime builtin)",
        "@hysds-stac/server (crosses a boundary of the design)",
        "left-pad (not a dependency in " + rel + "/package.json)"
      ])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  for (const rule of RULES) {
    test(`${rule.name} imports only what it declares, and crosses no boundary`, () => {
      expect(sourcesOf(path.join(PACKAGES, rule.name, "src")).length).toBeGreaterThan(3)
      expect(violations(rule)).toEqual([])
    })
  }
})
