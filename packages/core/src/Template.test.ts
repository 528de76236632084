import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import * as Template from "./Template.ts"

const deploy = (text: string, env: Record<string, string | undefined> = {}) =>
  Either.getOrThrow(Template.renderDeploy(text, env))
const deployError = (text: string, env: Record<string, string | undefined> = {}) =>
  Either.getOrThrow(Either.flip(Template.renderDeploy(text, env)))

const vars: Template.RuntimeVars = {
  values: { id: "AOI_1", version: "v2.0", type: "area_of_interest", constructor: "c" },
  dataset: { starttime: "2024-01-01T00:00:00Z", orbit: 42, flags: [true, false], nested: { a: { b: "deep" } }, gone: null },
  met: { track: 7, tags: ["x", "y"] }
}
const render = (t: string, v: Template.RuntimeVars = vars) => Either.getOrThrow(Template.renderRuntime(t, v))
const renderError = (t: string, v: Template.RuntimeVars = vars) =>
  Either.getOrThrow(Either.flip(Template.renderRuntime(t, v)))

describe("Template.renderDeploy", () => {
  test("substitutes set variables and defaults", () => {
    const t = "s3://{{ STAC_S3_BUCKET | default('hysds-stac-catalogs') }}/catalogs/${id}"
    expect(deploy(t)).toBe("s3://hysds-stac-catalogs/catalogs/${id}")
    expect(deploy(t, { STAC_S3_BUCKET: "b" })).toBe("s3://b/catalogs/${id}")
    expect(deploy(`{{ X | default("dq") }}`)).toBe("dq")
    expect(deploy("{{  X|default( 'tight' )  }}")).toBe("tight")
    expect(deploy("s3://{{ DATASET_S3_ENDPOINT }}:80/{{ DATASET_BUCKET }}/{id}", { DATASET_S3_ENDPOINT: "s3.amazonaws.com", DATASET_BUCKET: "bk" }))
      .toBe("s3://s3.amazonaws.com:80/bk/{id}")
  })

  test("an empty value is a value, as in Jinja", () => {
    expect(deploy("a{{ X | default('d') }}b", { X: "" })).toBe("ab")
  })

  test("leaves run-time braces alone: {{x}} without whitespace, {id}, ${id}", () => {
    expect(deploy("{{x}} {id} ${id} {{literal}}")).toBe("{{x}} {id} ${id} {{literal}}")
  })

  test("an unset variable without default names the variable", () => {
    const e = deployError("s3://{{ DAV_USER }}:{{ DAV_PASSWORD }}@host", { DAV_USER: "u" })
    expect(e.variable).toBe("DAV_PASSWORD")
    expect(e.message).toContain("DAV_PASSWORD")
  })

  test("does not read inherited properties as settings", () => {
    expect(deployError("{{ constructor }}").variable).toBe("constructor")
  })

  test("unsupported Jinja expressions are refused, not passed through", () => {
    expect(deployError("{{ X | upper }}").message).toContain("unsupported deploy-time expression {{ X | upper }}")
    expect(deployError("{{ X ").message).toContain("unsupported")
  })
})

describe("Template.parse / variables", () => {
  test("reports variables of both forms, as written, once each", () => {
    expect(Template.variables("{type}/{version}/{dataset[starttime]}/${id}/{met[a][b]}/{id}")).toEqual([
      "type",
      "version",
      "dataset[starttime]",
      "id",
      "met[a][b]"
    ])
  })

  test("literal braces are not variables", () => {
    expect(Template.variables("{{id}} ${{id}} {{ X }}")).toEqual([])
  })

  test("field structure", () => {
    expect(Either.getOrThrow(Template.parse("a{met[x][0]}"))).toEqual([
      { _tag: "Text", text: "a" },
      { _tag: "Field", name: "met[x][0]", root: "met", keys: ["x", "0"] }
    ])
  })

  test("malformed templates: Left from parse, [] from variables", () => {
    const reason = (t: string) => Either.getOrThrow(Either.flip(Template.parse(t))).message
    expect(reason("a}b")).toContain("single '}'")
    expect(reason("a{b")).toContain("single '{'")
    expect(reason("${id")).toContain("single '{'")
    expect(reason("{}")).toContain("positional")
    expect(reason("{0}")).toContain("positional")
    expect(reason("{starttime:%Y}")).toContain("format specs")
    expect(reason("{id!r}")).toContain("format specs")
    expect(reason("{dataset.starttime}")).toContain("attribute access")
    expect(reason("{a{b}}")).toContain("nested")
    expect(reason("{a-b}")).toContain("malformed field")
    expect(Template.variables("{id}}")).toEqual([])
  })
})

describe("Template.renderRuntime", () => {
  test("renders names, nested lookups and both forms", () => {
    expect(render("s3://b/{type}/{version}/{id}")).toBe("s3://b/area_of_interest/v2.0/AOI_1")
    expect(render("s3://b/catalogs/${id}")).toBe("s3://b/catalogs/AOI_1")
    expect(render("{dataset[starttime]}|${dataset[starttime]}")).toBe("2024-01-01T00:00:00Z|2024-01-01T00:00:00Z")
    expect(render("{dataset[nested][a][b]}")).toBe("deep")
    expect(render("{met[tags][1]}")).toBe("y")
  })

  test("literal braces and dollars", () => {
    expect(render("{{id}} {{{id}}} ${{id}} $id $")).toBe("{id} {AOI_1} ${id} $id $")
  })

  test("non-string values: String() for scalars, JSON for objects", () => {
    expect(render("{dataset[orbit]}-{dataset[flags][0]}-{met[track]}")).toBe("42-true-7")
    expect(render("{met[tags]}")).toBe('["x","y"]')
    expect(render("{dataset[nested]}")).toBe('{"a":{"b":"deep"}}')
  })

  test("a missing variable is named", () => {
    expect(renderError("{id}/{hostname}")).toEqual({ message: "variable hostname is not defined", variable: "hostname" })
    expect(renderError("{dataset[endtime]}").variable).toBe("dataset[endtime]")
    expect(renderError("{met[x]}", { values: {} }).variable).toBe("met[x]")
    expect(renderError("{met[tags][5]}").variable).toBe("met[tags][5]")
    expect(renderError("{id[0]}").variable).toBe("id[0]")
    expect(renderError("${nope}").variable).toBe("nope")
  })

  test("null counts as missing; prototype properties are not variables", () => {
    expect(renderError("{dataset[gone]}").variable).toBe("dataset[gone]")
    expect(renderError("{toString}").variable).toBe("toString")
    expect(renderError("{met[constructor]}").variable).toBe("met[constructor]")
    expect(render("{constructor}")).toBe("c")
  })

  test("unbalanced braces are errors, not output", () => {
    expect(Either.isLeft(Template.renderRuntime("s3://b/{id", vars))).toBe(true)
    expect(Either.isLeft(Template.renderRuntime("s3://b/id}", vars))).toBe(true)
  })
})
