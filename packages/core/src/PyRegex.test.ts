import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import * as PyRegex from "./PyRegex.ts"

const ok = (pattern: string): PyRegex.Translated => Either.getOrThrow(PyRegex.translate(pattern))
const re = (pattern: string): PyRegex.Pattern => Either.getOrThrow(PyRegex.compile(pattern))
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

  test("backreferences are refused: they need a backtracking engine (issue 8)", () => {
    // Once translated to JavaScript's \k<q>; a linear-time engine cannot run them.
    expect(reason("(?P<q>['\"]).*?(?P=q)")).toBe(
      "(?P=q) at position 14 is a backreference, which needs a backtracking regex engine; " +
        "hysds-stac matches datasets.json patterns in linear time to stay safe with untrusted job dirs; " +
        "rewrite the pattern without it"
    )
    expect(reason("(a)\\1")).toStartWith("\\1 at position 3 is a backreference, which needs a backtracking regex engine")
    expect(reason("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10")).toStartWith("\\10 at position 30 is a backreference")
    expect(reason("(?P=nosuch)(?P<a>x)")).toContain("is a backreference")
  })

  test("lookaround, atomic groups, possessive quantifiers and conditionals are refused, each named", () => {
    const refused = (pattern: string, construct: string, what: string) => {
      const r = reason(pattern)
      expect(r).toStartWith(construct)
      expect(r).toContain(`is ${what}, which needs a backtracking regex engine`)
      expect(r).toContain("rewrite the pattern without it")
    }
    refused("AOI_(?=x)", "(?=...) at position 4", "a lookahead assertion")
    refused("AOI_(?!x)", "(?!...) at position 4", "a negative lookahead assertion")
    refused("(?<=/)AOI", "(?<=...) at position 0", "a lookbehind assertion")
    refused("(?<!/)AOI", "(?<!...) at position 0", "a negative lookbehind assertion")
    refused("(?>a+)b", "the atomic group (?>...) at position 0", "an atomic group whose content can match in more than one length, not at the end of the pattern")
    refused("(?>a|ab)c", "the atomic group (?>...) at position 0", "an atomic group whose content can match in more than one length, not at the end of the pattern")
    refused("(a)?(?(1)b|c)", "(?(id)yes|no) at position 4", "a conditional group")
    const possessive = "a possessive quantifier that hysds-stac cannot turn into a plain one without changing what it matches"
    refused("a++b", "the possessive quantifier ++ at position 1", possessive)
    refused("xa*+a", "the possessive quantifier *+ at position 2", possessive)
    refused("a?+b", "the possessive quantifier ?+", possessive)
    refused("a{2,3}+b", "the possessive quantifier {2,3}+ at position 1", possessive)
    // Exact in Python, but followed by `$`: refused, as the translation only knows the two safe shapes.
    refused("/(?P<id>[^/]++)$", "the possessive quantifier ++ at position 12", possessive)
    // Not possessive: a lazy quantifier, an escaped +, a + in a class, a + after a group.
    expect(re("^a+?b$").test("aab")).toBe(true)
    expect(re("^a\\++$").test("a++")).toBe(true)
    expect(re("^[+]+$").test("++")).toBe(true)
    expect(re("^(ab)+$").test("abab")).toBe(true)
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
    expect(ok("\\Afoo\\Z")).toEqual({ source: "\\Afoo\\z", flags: "", groups: [] })
    expect(re("\\Afoo\\Z").test("foo")).toBe(true)
    expect(re("\\Afoo\\Z").test("xfoo")).toBe(false)
    const m = re("(?m)\\Abar$")
    expect(m.flags).toBe("m")
    expect(m.test("bar\nbaz")).toBe(true)
    expect(m.test("foo\nbar")).toBe(false)
    expect(re("(?m)^bar$").test("foo\nbar")).toBe(true)
    // Scoped (?m:...) too: \A is never a line start.
    expect(re("(?m:\\Abar)").test("foo\nbar")).toBe(false)
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
    expect(ok("\\.\\d\\-\\/\\x41\\u00e9").source).toBe("\\.\\d\\-\\/\\x41\\x{E9}")
    expect(re("^\\x41\\u00e9$").test("Aé")).toBe(true)
    expect(ok("\\a").source).toBe("\\x07")
    expect(re("^\\U0001F600$").test("😀")).toBe(true)
    expect(re("^\\U000000e9$").test("é")).toBe(true)
    expect(ok("a{,3}").source).toBe("a{0,3}")
    expect(re("^a{,3}$").test("aa")).toBe(true)
    expect(re("^\\.json$").test("xjson")).toBe(false)
    expect(re("^a{,}$").test("aaaa")).toBe(true)
    expect(re("^a{}$").test("a{}")).toBe(true)
    expect(re("^a{x}$").test("a{x}")).toBe(true)
  })

  test("octal escapes, [\\b], escaped non-ASCII and a [ inside a class read as in Python", () => {
    expect(re("^\\0$").test("\0")).toBe(true)
    expect(re("^\\101\\0101$").test("A\x081")).toBe(true)
    expect(re("^[\\101]$").test("A")).toBe(true)
    expect(reason("\\477")).toContain("outside of range")
    expect(reason("[\\8]")).toContain("bad escape \\8")
    expect(re("^a[\\b]b$").test("a\bb")).toBe(true)
    expect(re("^\\é\\😀$").test("é😀")).toBe(true)
    // Python warns "possible nested set" but reads [[:alpha:]] as [[:alph] followed by ].
    expect(re("^[[:alpha:]]$").test(":]")).toBe(true)
    expect(re("^[[:alpha:]]$").test("b")).toBe(false)
  })

  test("as in Python, . stops only at \\n and an astral character is one character", () => {
    expect(re("^a.b$").test("a\rb")).toBe(true)
    expect(re("^a.b$").test("a\u2028b")).toBe(true)
    expect(re("^a.b$").test("a\nb")).toBe(false)
    expect(re("^.$").test("😀")).toBe(true)
  })

  test("untranslatable patterns give a reason", () => {
    expect(reason("(?L)a")).toContain("LOCALE")
    expect(reason("a(?i)b")).toContain("global flags not at the start")
    expect(reason("(?P>x)")).toContain("unknown extension")
    expect(reason("(a)?(?(1)b|c)")).toContain("conditional")
    expect(reason("(?>a+)b")).toContain("atomic")
    expect(reason("\\N{DASH}")).toContain("\\N{DASH}")
    expect(reason("\\N{EM DASH}")).toContain("write it as \\uXXXX")
    expect(Either.isLeft(PyRegex.compile("(?x)a* +b"))).toBe(true)
    expect(reason("\\q")).toContain("bad escape \\q")
    expect(reason("[\\Z]")).toContain("bad escape \\Z")
    expect(reason("\\x4")).toContain("incomplete escape")
    expect(reason("abc\\")).toContain("bad escape")
    expect(reason("(?#open")).toContain("unterminated comment")
    expect(reason("(?U)a")).toContain("unknown extension ?U")
    expect(reason("(?ua)x")).toContain("incompatible")
  })

  test("characters beyond U+FFFF work inside a class too", () => {
    expect(re("^[\\U0001F600]$").test("😀")).toBe(true)
  })

  test("what RE2 cannot compile comes back with RE2's reason and the part it points at", () => {
    expect(reason("(unclosed")).toBe("missing closing ) at `(unclosed`")
    expect(reason("a**")).toBe("invalid nested repetition operator at `**`")
    expect(reason("[abc")).toBe("missing closing ] at `[abc`")
    expect(reason("a{1001}")).toContain("RE2 allows counts up to 1000")
  })

  test("compiled patterns are stateless: every search starts at the beginning", () => {
    const r = re("/(?P<id>AOI_.+)$")
    expect(r.test("/a/AOI_1")).toBe(true)
    expect(r.test("/a/AOI_1")).toBe(true)
    expect(r.exec("/a/AOI_1")).toEqual({ text: "/AOI_1", index: 2, groups: { id: "AOI_1" } })
    expect(r.exec("/a/AOI_1")?.index).toBe(2)
  })
})

describe("PyRegex: Python 3.11 constructs JavaScript lacks, translated where exact", () => {
  // [pattern, input, what Python 3.11's re.search gave: [match, start, named groups]]
  const PYTHON: ReadonlyArray<readonly [string, string, readonly [string, number, Record<string, string>]]> = [
    ["(?x) /(?P<id> AOI_ [a-z]+ )  # the id\n $", "/data/AOI_etna", ["/AOI_etna", 5, { id: "AOI_etna" }]],
    ["(?x)(?P<id>S1 \\ [A-Z]+ [#] \\#) # comment", "S1 AB##", ["S1 AB##", 0, { id: "S1 AB##" }]],
    ["(?x) a{1, 3}", "a{1,3}", ["a{1,3}", 0, {}]],
    ["(?x)(?-x: a b) c d", " a bcd", [" a bcd", 0, {}]],
    ["a(?x: b  c ) d", "abc d", ["abc d", 0, {}]],
    ["(?x) (?i) aoi", "AOI", ["AOI", 0, {}]],
    ["\\N{LATIN SMALL LETTER A}\\N{hyphen-minus}[\\N{DIGIT ZERO}-\\N{DIGIT NINE}]+", "xa-42", ["a-42", 1, {}]],
    ["\\N{LATIN CAPITAL LETTER E WITH ACUTE}t\\N{LATIN SMALL LETTER E WITH ACUTE}", "\u00c9t\u00e9", ["\u00c9t\u00e9", 0, {}]],
    ["(?>AOI_)(?P<n>\\d+)", "AOI_12", ["AOI_12", 0, { n: "12" }]],
    ["(?>[a-z]{2}|[0-9]{2})_", "x12_", ["12_", 1, {}]],
    ["x(?>a*)|y", "xaaa", ["xaaa", 0, {}]],
    ["/(?P<id>[^/]++)", "/a/bcd", ["/a", 0, { id: "a" }]],
    ["(?:ab){2}+c", "ababc", ["ababc", 0, {}]]
  ]
  test.each(PYTHON)("%p on %p matches as in Python", (pattern, input, [text, index, groups]) => {
    expect(re(pattern).exec(input)).toEqual({ text, index, groups })
  })

  test("verbose whitespace inside a class, an escape or a group name is not skipped", () => {
    expect(re("(?x)^[ ]$").test(" ")).toBe(true)
    expect(re("(?x)^a\\ b$").test("a b")).toBe(true)
    expect(re("(?x)^a#b$").test("a")).toBe(true)
  })
})
