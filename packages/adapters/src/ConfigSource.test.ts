import { afterAll, describe, expect, test } from "bun:test"
import { Config, Either, Option } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as ConfigSource from "./ConfigSource.ts"

const dir = mkdtempSync(path.join(tmpdir(), "hysds-stac-configsource-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const known = new Set(["A_SETTING", "B_SETTING"])
const file = (name: string, text: string) => {
  const f = path.join(dir, name)
  writeFileSync(f, text)
  return f
}
const read = (provider: ReturnType<typeof ConfigSource.layered>, name: string) =>
  Either.getOrThrow(ConfigSource.load(provider, ConfigSource.text(name)))

describe("ConfigSource: defaults < config file < environment", () => {
  test("the file sets a value, the environment wins over it, a default fills what neither sets", () => {
    const f = file("a.json", JSON.stringify({ A_SETTING: "from-file", B_SETTING: 7 }))
    const p = Either.getOrThrow(ConfigSource.make({ env: { HYSDS_STAC_CONFIG: f, A_SETTING: "from-env" }, known }))
    expect(read(p, "A_SETTING")).toEqual(Option.some("from-env"))
    expect(read(p, "B_SETTING")).toEqual(Option.some("7"))
    const withDefault = ConfigSource.text("C_SETTING").pipe(Config.map(Option.getOrElse(() => "default")))
    expect(Either.getOrThrow(ConfigSource.load(p, withDefault))).toBe("default")
  })

  test("the flag's file wins over HYSDS_STAC_CONFIG; relative paths resolve against cwd", () => {
    file("flag.json", JSON.stringify({ A_SETTING: "flag-file" }))
    const envFile = file("env.json", JSON.stringify({ A_SETTING: "env-file" }))
    const p = Either.getOrThrow(ConfigSource.make({ env: { HYSDS_STAC_CONFIG: envFile }, known, cwd: dir, flag: "flag.json" }))
    expect(read(p, "A_SETTING")).toEqual(Option.some("flag-file"))
  })

  test("an empty environment value is unset, and still hides the file's value (as the environment always did)", () => {
    const p = ConfigSource.layered({ A_SETTING: "  " }, { A_SETTING: "from-file" })
    expect(read(p, "A_SETTING")).toEqual(Option.none())
  })

  test("an unknown key is an error naming it and the file; so is a file that is not a JSON object", () => {
    const unknown = ConfigSource.make({ env: { HYSDS_STAC_CONFIG: file("u.json", '{"A_SETTING": "x", "NOPE_SETTING": 1}') }, known })
    expect(Either.isLeft(unknown) && unknown.left).toMatchObject({ field: "NOPE_SETTING" })
    expect(Either.isLeft(unknown) ? unknown.left.message : "").toContain("unknown setting NOPE_SETTING")
    const array = ConfigSource.make({ env: { HYSDS_STAC_CONFIG: file("arr.json", "[1]") }, known })
    expect(Either.isLeft(array) ? array.left.message : "").toContain("must be a JSON object")
    const nested = ConfigSource.make({ env: { HYSDS_STAC_CONFIG: file("n.json", '{"A_SETTING": {"x": 1}}') }, known })
    expect(Either.isLeft(nested) ? nested.left.message : "").toContain("A_SETTING must be a string, number or boolean")
  })

  test("a secret is Redacted as read: it prints as <redacted>", () => {
    const s = Either.getOrThrow(ConfigSource.load(ConfigSource.layered({ A_SETTING: "hunter22" }), ConfigSource.secret("A_SETTING")))
    expect(String(Option.getOrThrow(s))).toBe("<redacted>")
    expect(JSON.stringify(s)).not.toContain("hunter22")
  })

  test("Effect's ConfigError becomes ours, one per problem, with the variable, message and hint", () => {
    const two = Config.all([
      Config.string("X").pipe(Config.mapOrFail(() => Either.left(ConfigSource.problem("X_SETTING", "X_SETTING=1 is bad", "use 2")))),
      Config.string("Y").pipe(Config.mapOrFail(() => Either.left(ConfigSource.problem("Y_SETTING", "Y_SETTING=a is bad"))))
    ])
    const r = ConfigSource.load(ConfigSource.layered({ X: "1", Y: "a" }), two)
    const errors = Either.isLeft(r) ? ConfigSource.toConfigErrors(r.left) : []
    expect(errors.map((e) => [e.field, e.message, e.hint])).toEqual([
      ["X_SETTING", "X_SETTING=1 is bad", "use 2"],
      ["Y_SETTING", "Y_SETTING=a is bad", undefined]
    ])
  })
})
