import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import * as PyJson from "./PyJson.ts"
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
    expect(reason("{starttime:%Y}")).toContain("invalid format specifier")
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

  test("non-string values as Python's str(): True, lists and dicts as their repr", () => {
    expect(render("{dataset[orbit]}-{dataset[flags][0]}-{met[track]}")).toBe("42-True-7")
    expect(render("{met[tags]}")).toBe("['x', 'y']")
    expect(render("{dataset[nested]}")).toBe("{'a': {'b': 'deep'}}")
  })

  test("a missing variable is named", () => {
    expect(renderError("{id}/{hostname}")).toEqual({ message: "variable hostname is not defined", variable: "hostname" })
    expect(renderError("{dataset[endtime]}").variable).toBe("dataset[endtime]")
    expect(renderError("{met[x]}", { values: {} }).variable).toBe("met[x]")
    expect(renderError("{met[tags][5]}").variable).toBe("met[tags][5]")
    expect(renderError("{id[0]}").variable).toBe("id[0]")
    expect(renderError("${nope}").variable).toBe("nope")
  })

  test("null is Python's None; prototype properties are not variables", () => {
    expect(render("{dataset[gone]}")).toBe("None")
    expect(renderError("{toString}").variable).toBe("toString")
    expect(renderError("{met[constructor]}").variable).toBe("met[constructor]")
    expect(render("{constructor}")).toBe("c")
  })

  test("unbalanced braces are errors, not output", () => {
    expect(Either.isLeft(Template.renderRuntime("s3://b/{id", vars))).toBe(true)
    expect(Either.isLeft(Template.renderRuntime("s3://b/id}", vars))).toBe(true)
  })
})

describe("Template.renderRuntime renders as Python's str.format", () => {
  // Expected strings are what Python 3.11 printed for `template.format(met=json.loads(MET))`.
  const MET = "{\"f\": 1.0, \"pi\": 3.14159265, \"n\": 7, \"neg\": -7, \"big\": 12345678901234567890, \"t\": true, \"no\": null, \"s\": \"a'b\", \"q\": \"x\\ny\\u00e9\\u200b\", \"lst\": [1, 1.0, \"x\", true, null, {\"a\": \"b\"}], \"half\": 2.5, \"tiny\": 1e-05, \"huge\": 1e16, \"e\": 2e3, \"mill\": 1234567.891, \"ratio\": 0.125, \"nz\": -0.01, \"hundred\": 100.0, \"word\": \"mid\", \"byte\": 255, \"uni\": \"\\u00e9\"}"
  const PYTHON: ReadonlyArray<readonly [string, string]> = [
    ["{met[f]}", "1.0"],
    ["{met[pi]:.4}", "3.142"],
    ["{met[f]:.4}", "1.0"],
    ["{met[hundred]:.3}", "1e+02"],
    ["{met[n]:03d}", "007"],
    ["{met[neg]:03d}", "-07"],
    ["{met[t]}", "True"],
    ["{met[t]:>5}", "    1"],
    ["{met[t]:d}", "1"],
    ["{met[no]}", "None"],
    ["{met[s]!r}", "\"a'b\""],
    ["{met[q]!r}", "'x\\ny\u00e9\\u200b'"],
    ["{met[q]!a}", "'x\\ny\\xe9\\u200b'"],
    ["{met[lst]}", "[1, 1.0, 'x', True, None, {'a': 'b'}]"],
    ["{met[big]}", "12345678901234567890"],
    ["{met[big]:,}", "12,345,678,901,234,567,890"],
    ["{met[half]:.0f}", "2"],
    ["{met[tiny]}", "1e-05"],
    ["{met[huge]}", "1e+16"],
    ["{met[e]}", "2000.0"],
    ["{met[mill]:,.2f}", "1,234,567.89"],
    ["{met[mill]:_}", "1_234_567.891"],
    ["{met[n]:010,}", "00,000,007"],
    ["{met[ratio]:.1%}", "12.5%"],
    ["{met[pi]:+.2f}", "+3.14"],
    ["{met[n]: d}", " 7"],
    ["{met[word]:*^9}", "***mid***"],
    ["{met[nz]:z.1f}", "0.0"],
    ["{met[byte]:#x}", "0xff"],
    ["{met[byte]:_b}", "1111_1111"],
    ["{met[byte]:#o}", "0o377"],
    ["{met[byte]:X}", "FF"],
    ["{met[pi]:08.3f}", "0003.142"],
    ["{met[pi]:e}", "3.141593e+00"],
    ["{met[pi]:g}", "3.14159"],
    ["{met[mill]:g}", "1.23457e+06"],
    ["{met[f]!r}", "1.0"],
    ["{met[f]!s:>6}", "   1.0"],
    ["{met[word]:.2s}", "mi"],
    ["{met[word]!r:^9}", "  'mid'  "],
    ["{met[n]:c}", "\u0007"],
    ["{met[uni]}", "\u00e9"],
    ["{met[n]:.3e}", "7.000e+00"],
    ["{met[hundred]:g}", "100"],
    ["{met[f]:#g}", "1.00000"],
    ["{met[n]:n}", "7"],
    ["{met[pi]:n}", "3.14159"],
    ["{met[neg]:=+8}", "-      7"],
    ["{met[word]:05}", "mid00"],
    ["{met[lst]!r:.5}", "[1, 1"],
  ]
  const PYTHON_REFUSES: ReadonlyArray<readonly [string, string]> = [
    ["{met[f]:d}", "Unknown format code 'd' for object of type 'float'"],
    ["{met[n]:s}", "Unknown format code 's' for object of type 'int'"],
    ["{met[word]:,}", "Cannot specify ',' with 's'."],
    ["{met[n]:.2d}", "Precision not allowed in integer format specifier"],
    ["{met[word]:+}", "Sign not allowed in string format specifier"],
    ["{met[word]:=5}", "'=' alignment not allowed in string format specifier"],
    ["{met[no]:5}", "unsupported format string passed to NoneType.__format__"],
  ]
  const met = PyJson.parse(MET) as Record<string, unknown>

  test.each(PYTHON)("%s", (template, expected) => {
    expect(render(template, { values: {}, met })).toBe(expected)
  })

  test.each(PYTHON_REFUSES)("%s is refused with Python's reason", (template, reason) => {
    const e = renderError(template, { values: {}, met })
    expect(e.message).toContain(reason)
    expect(e.variable).toBe(template.slice(1).split(/[!:]/)[0]!)
  })

  test("plain numbers (read without PyJson) lost how they were written: an integral float renders as an int", () => {
    expect(render("{met[f]}", { values: {}, met: PyJson.plain(met) as Record<string, unknown> })).toBe("1")
  })

  test("syntax Python would refuse only when rendering is refused at parse, with the reason", () => {
    const reason = (t: string) => Either.getOrThrow(Either.flip(Template.parse(t))).message
    expect(reason("{id!x}")).toContain("unknown conversion specifier x")
    expect(reason("{id!}")).toContain("conversion specifier")
    expect(reason("{id:~~~}")).toContain("invalid format specifier")
    expect(reason("{id:>{w}}")).toContain("nested")
  })

  test("a key may hold ':' and '!', as in Python", () => {
    expect(render("{met[a:b]}", { values: {}, met: { "a:b": "k" } })).toBe("k")
  })
})
