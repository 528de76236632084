import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import * as PyRegex from "./PyRegex.ts"

const ok = (pattern: string): PyRegex.Translated => Either.getOrThrow(PyRegex.translate(pattern))
const re = (pattern: string): RegExp => Either.getOrThrow(PyRegex.compile(pattern))
const reason = (pattern: string): string => Either.getOrThrow(Either.flip(PyRegex.compile(pattern)))

describe("PyRegex.translate", () => {
  test("HySDS AOI pattern: named group, unanchored search", () => {
    expect(ok("/(?P<id>AOI_.+)$")).toEqual({ source: "/(?<id>AOI_.+)$", flags: "", groups: ["id"] })
    const m = re("/(?P<id>AOI_.+)$").exec("/data/work/jobs/2024/AOI_tibet_2024")
    expect(m?.groups).toEqual({ id: "AOI_tibet_2024" })
  })

  test("STAC catalog pattern", () => {
    expect(re("/(?P<id>stac_catalog_.+)$").exec("/job/stac_catalog_20240101")?.groups?.["id"]).toBe("stac_catalog_20240101")
    expect(re("/(?P<id>stac_catalog_.+)$").exec("/job/other")).toBeNull()
  })

  test("date groups", () => {
    const r = re("(?P<year>\\d{4})(?P<month>\\d{2})(?P<day>\\d{2})")
    expect({ ...r.exec("S1A_IW_SLC__20240317T101010")?.groups }).toEqual({ year: "2024", month: "03", day: "17" })
    expect(ok("(?P<year>\\d{4})(?P<month>\\d{2})(?P<day>\\d{2})").groups).toEqual(["year", "month", "day"])
  })

  test("named backreference", () => {
    expect(ok("(?P<q>['\"]).*?(?P=q)").source).toBe("(?<q>['\"]).*?\\k<q>")
    const r = re("(?P<q>['\"])(?P<body>.*?)(?P=q)")
    expect(r.exec(`say "hi' there"`)?.groups?.["body"]).toBe("hi' there")
  })

  test("escaped parenthesis and character classes are left alone", () => {
    expect(ok("\\(?P<x").source).toBe("\\(?P<x")
    expect(re("\\(?P<x").test("P<x")).toBe(true)
    expect(ok("[(?P<]+").source).toBe("[(?P<]+")
    expect(re("^[(?P<]+$").test("(?P<")).toBe(true)
    expect(ok("[\\](?P<a>]").source).toBe("[\\](?P<a>]")
    expect(ok("[\\](?P<a>]").groups).toEqual([])
  })

  test("a ']' opening a class is a member, as in Python", () => {
    expect(ok("[]a]+").source).toBe("[\\]a]+")
    expect(re("^[]a]+$").test("]a]")).toBe(true)
    expect(re("^[^]a]+$").test("bcd")).toBe(true)
    expect(re("^[^]a]+$").test("b]")).toBe(false)
  })

  test("\\A and \\Z become anchors; with (?m) they stay whole-input anchors", () => {
    expect(ok("\\Afoo\\Z")).toEqual({ source: "^foo$", flags: "", groups: [] })
    expect(re("\\Afoo\\Z").test("foo")).toBe(true)
    expect(re("\\Afoo\\Z").test("xfoo")).toBe(false)
    const m = re("(?m)\\Abar$")
    expect(m.flags).toBe("m")
    expect(m.test("bar\nbaz")).toBe(true)
    expect(m.test("foo\nbar")).toBe(false)
    expect(re("(?m)^bar$").test("foo\nbar")).toBe(true)
  })

  test("leading inline flags become JavaScript flags", () => {
    expect(ok("(?i)aoi_")).toEqual({ source: "aoi_", flags: "i", groups: [] })
    expect(re("(?i)aoi_").test("AOI_x")).toBe(true)
    expect(ok("(?is)a.b").flags).toBe("is")
    expect(ok("(?s)(?i)a").flags).toBe("is")
    expect(re("(?s)a.b").test("a\nb")).toBe(true)
    expect(re("a.b").test("a\nb")).toBe(false)
  })

  test("(?a) and (?u) are accepted as no-ops", () => {
    expect(ok("(?a)\\w+")).toEqual({ source: "\\w+", flags: "", groups: [] })
    expect(ok("(?u)\\w+").flags).toBe("")
    expect(Either.isLeft(PyRegex.translate("(?au)x"))).toBe(true)
  })

  test("scoped flags", () => {
    expect(ok("a(?i:b)c").source).toBe("a(?i:b)c")
    expect(re("a(?i:b)c").test("aBc")).toBe(true)
    expect(ok("(?a:x)").source).toBe("(?:x)")
  })

  test("comments are removed", () => {
    expect(ok("(?#leading)a(?# the id )(?P<id>b)").source).toBe("a(?<id>b)")
    expect(ok("(?#c)(?i)x").flags).toBe("i")
  })

  test("escapes pass through or are translated to their JavaScript spelling", () => {
    expect(ok("\\.\\d\\-\\/\\x41\\u00e9").source).toBe("\\.\\d\\-\\/\\x41\\u00e9")
    expect(ok("\\a").source).toBe("\\x07")
    expect(re("^\\U0001F600$").test("😀")).toBe(true)
    expect(re("^\\U000000e9$").test("é")).toBe(true)
    expect(ok("a{,3}").source).toBe("a{0,3}")
    expect(re("^a{,3}$").test("aa")).toBe(true)
    expect(re("^\\.json$").test("xjson")).toBe(false)
  })

  test("untranslatable patterns give a reason", () => {
    expect(reason("(?x) a b # spaced")).toContain("verbose")
    expect(reason("(?L)a")).toContain("LOCALE")
    expect(reason("a(?i)b")).toContain("global flags not at the start")
    expect(reason("(?P>x)")).toContain("unknown extension")
    expect(reason("(a)?(?(1)b|c)")).toContain("conditional")
    expect(reason("(?>a+)")).toContain("atomic")
    expect(reason("\\N{DASH}")).toContain("\\N")
    expect(reason("\\q")).toContain("bad escape \\q")
    expect(reason("[\\Z]")).toContain("bad escape \\Z")
    expect(reason("\\x4")).toContain("incomplete escape")
    expect(reason("abc\\")).toContain("bad escape")
    expect(reason("(?#open")).toContain("unterminated comment")
    expect(reason("[\\U0001F600]")).toContain("U+FFFF")
  })

  test("what JavaScript cannot compile comes back with the engine's message", () => {
    expect(reason("(unclosed")).toContain("Invalid regular expression")
    expect(reason("a**")).toContain("Invalid regular expression")
    expect(reason("(?P=nosuch)(?P<a>x)")).toContain("Invalid regular expression")
    expect(reason("[abc")).toContain("Invalid regular expression")
  })

  test("compiled RegExps are stateless (no g/y flag)", () => {
    const r = re("/(?P<id>AOI_.+)$")
    expect(r.global || r.sticky).toBe(false)
    expect(r.test("/a/AOI_1")).toBe(true)
    expect(r.test("/a/AOI_1")).toBe(true)
  })
})
