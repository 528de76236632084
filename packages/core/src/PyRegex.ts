/**
 * Python `re` patterns, matched in linear time.
 *
 * datasets.json was written for HySDS, whose `match_pattern`s are Python regexes
 * (`(?P<id>AOI_.+)$`). Operators must be able to reuse those files unchanged, so
 * we translate the Python-only syntax instead of asking them to rewrite patterns.
 *
 * Why not JavaScript's RegExp: the patterns run against names a job dir chose,
 * and the job dir is untrusted. A backtracking engine (JavaScript's, and
 * Python's) takes time exponential in the name's length on patterns such as
 * `(a+)+$`: 28 characters blocked the server's event loop for seconds, and
 * JavaScriptCore then gives up and answers "no match", silently sending the
 * product to another entry. So patterns are translated to RE2 syntax and run on
 * re2js (a pure-JavaScript port of RE2), whose matching time is linear in the
 * input whatever the pattern. What RE2 cannot express needs backtracking, which
 * cannot be bounded on the event loop, so it is refused with the construct named:
 * backreferences `(?P=name)` and `\1`, lookahead `(?=...)` `(?!...)`, lookbehind
 * `(?<=...)` `(?<!...)` and conditionals `(?(1)a|b)`. Atomic groups `(?>...)`
 * and possessive quantifiers `a*+` (Python 3.11) are translated where dropping
 * the atomicity cannot change a match, and refused otherwise: when the group
 * (or the quantified atom repeated `{n}` times) always matches a fixed number
 * of characters, no other way to match it exists to backtrack into; and when
 * it ends the pattern, its first way to match always completes the match.
 *
 * The translation is a single left-to-right scan that knows about escapes and
 * character classes, so `\(?P<` and `[(?P<]` stay literal as they are in Python.
 * What is translated: `(?P<name>...)`, `\A`, `\Z` (and Python 3.14's `\z`),
 * `(?#comment)`, leading global flags `(?i)` `(?m)` `(?s)`, scoped flags
 * `(?i:...)`, `\a`, `\b` in a class (backspace), octal escapes `\0` `\012`,
 * `\uXXXX` and `\U0001F600`, escaped non-ASCII characters, `{,n}` and `{,}`,
 * `{}` (a literal), a `[` inside a class (a literal), and a `]` that opens a
 * class (`[]a]`). What is refused with a reason besides the backtracking
 * constructs: `(?x)`, `(?L)`, `\N{...}`, unknown extensions such as `(?U)`
 * (RE2 would read it as "ungreedy"), unknown letter escapes such as `\q`
 * (Python rejects them). `(?a)` and `(?u)` are accepted as no-ops: `(?u)` is
 * already Python 3's default for str patterns, and `(?a)` asks for ASCII `\d`
 * `\w` `\b`, which is what RE2 does anyway. RE2's own limits (a count in
 * `{m,n}` above 1000, ASCII-only group names) come back as a syntax error.
 *
 * Known remaining differences, all about characters that never occur in product
 * paths: Python's `$` also matches before a final `\n`; Python's `\d` `\w`
 * `\s` `\b` are Unicode-aware, RE2's are ASCII (and RE2's `\s` leaves out
 * `\v`). `.` stops only at `\n` and an astral character is one character, as in
 * Python.
 *
 * A compiled pattern has no state between calls: `exec` always searches the
 * whole input from its start, like Python's `re.search`.
 */
import { Either } from "effect"
import { RE2JS, RE2JSSyntaxException } from "re2js"
import { NAMES } from "./PyRegexNames.ts"

/** A translated pattern: RE2 source and the flags to compile it with (a subset of
 * "ims"), plus the names of its named groups (the template variables a match provides). */
export interface Translated {
  readonly source: string
  readonly flags: string
  readonly groups: ReadonlyArray<string>
}

/** One match: the matched text, where it starts, and the named groups that took
 * part in it (Python would give `None` for the others; they are left out). */
export interface Match {
  readonly text: string
  readonly index: number
  readonly groups: Readonly<Record<string, string>>
}

/** A compiled pattern. Its time is linear in the input's length. */
export interface Pattern extends Translated {
  /** Python's `re.search`: the first match anywhere in `input`, or null. */
  readonly exec: (input: string) => Match | null
  readonly test: (input: string) => boolean
}

/** Escapes of ASCII letters Python accepts; any other `\<letter>` is an error there. */
const LETTER_ESCAPES_OUTSIDE = new Set("aAbBdDfnrsStvwWxuUNZz")
const LETTER_ESCAPES_INSIDE = new Set("abdDfnrsStvwWxuUN")

const GLOBAL_FLAGS = /^\(\?([aiLmsux]+)\)/
const SCOPED_FLAGS = /^\(\?([aiLmsux]*)(?:-([imsx]+))?:/
/** A Python counted repeat: `{m}`, `{m,}`, `{,n}`, `{m,n}`, `{,}` (but `{}` is a literal). */
const REPEAT = /^\{(\d*)(?:(,)(\d*))?\}/
const HEX = /^[0-9a-fA-F]+$/
const OCTAL_DIGIT = /^[0-7]$/

/**
 * The refusal of a construct RE2 cannot run: what it is, where, and why we do
 * not fall back to a backtracking engine for it.
 */
const needsBacktracking = (construct: string, position: number, what: string): string =>
  `${construct} at position ${position} is ${what}, which needs a backtracking regex engine; ` +
  "hysds-stac matches datasets.json patterns in linear time to stay safe with untrusted job dirs; " +
  "rewrite the pattern without it"

/** Reason for a flag we cannot carry over, or undefined when it is fine. */
const unsupportedFlag = (flags: string): string | undefined => {
  if (flags.includes("L")) return "the LOCALE flag (?L) is not supported (Python allows it only for bytes patterns)"
  if (flags.includes("a") && flags.includes("u")) return "ASCII and UNICODE flags are incompatible"
  return undefined
}

/** Python's whitespace for verbose patterns. */
const VERBOSE_SPACE = new Set([" ", "\t", "\n", "\r", "\v", "\f"])

/** Index after the whitespace and `#` comments at `i` of a verbose pattern. */
const skipVerbose = (pattern: string, i: number): number => {
  for (;;) {
    if (VERBOSE_SPACE.has(pattern[i] ?? "")) i += 1
    else if (pattern[i] === "#") {
      const end = pattern.indexOf("\n", i)
      i = end < 0 ? pattern.length : end + 1
    } else return i
  }
}

/** The code point of `\N{NAME}` at `i`, or the reason it cannot be used. */
const namedChar = (pattern: string, i: number): { readonly code: number; readonly length: number } | string => {
  const m = /^\\N\{([^}]*)\}/.exec(pattern.slice(i))
  if (!m) return `missing { or } in the named character escape \\N at position ${i}`
  const code = NAMES.get(m[1]!.toUpperCase())
  if (code === undefined) {
    return `the named character \\N{${m[1]}} at position ${i} is not one hysds-stac knows (it knows the ASCII and Latin-1 names): write it as \\uXXXX`
  }
  return { code, length: m[0].length }
}

/** RE2 keeps i, m and s; a and u are no-ops (see the module comment). */
const re2Flags = (flags: string): string => [..."ims"].filter((f) => flags.includes(f)).join("")

/** A code point in RE2's `\x{...}` spelling, which works inside and outside classes. */
const codePoint = (n: number): string => `\\x{${n.toString(16).toUpperCase()}}`

/** Index of the `)` closing the group that opens at `start`, or -1. Knows escapes, classes and verbose comments. */
const closingParen = (pattern: string, start: number, verbose: boolean): number => {
  let depth = 0
  let i = start
  while (i < pattern.length) {
    if (verbose) i = skipVerbose(pattern, i)
    const c = pattern[i]
    if (c === undefined) break
    if (c === "\\") i += 2
    else if (c === "[") i = classEnd(pattern, i)
    else if (c === "(") (depth += 1), (i += 1)
    else if (c === ")") {
      depth -= 1
      if (depth === 0) return i
      i += 1
    } else i += 1
  }
  return -1
}

/** Index after the class that opens at `start` (`[]a]` and `[^]a]` hold a `]`). */
const classEnd = (pattern: string, start: number): number => {
  let i = start + 1
  if (pattern[i] === "^") i += 1
  if (pattern[i] === "]") i += 1
  while (i < pattern.length && pattern[i] !== "]") i += pattern[i] === "\\" ? 2 : 1
  return i + 1
}

/**
 * True when nothing can follow position `from` but the end of the match: only
 * closing parens (none quantified), then the end of the pattern or a `|` of
 * the top level. `depth` is how many groups are open at `from`.
 */
const endsPattern = (pattern: string, from: number, depth: number, verbose: boolean): boolean => {
  let closes = 0
  let i = from
  for (;;) {
    if (verbose) i = skipVerbose(pattern, i)
    const c = pattern[i]
    if (c === undefined) return true
    if (c === "|") return closes >= depth
    if (c !== ")") return false
    closes += 1
    i += 1
    if (/^[*+?]/.test(pattern.slice(i)) || REPEAT.test(pattern.slice(i))) return false
  }
}

/**
 * The number of characters every match of `src` has, or undefined when it can
 * vary (or is not known). A set of strings of one length is prefix-free, so
 * an atomic group over it matches exactly as a plain group.
 */
export const fixedWidth = (src: string, verbose: boolean): number | undefined => {
  let i = 0
  const branch = (): number | undefined => {
    let total = 0
    for (;;) {
      if (verbose) i = skipVerbose(src, i)
      const c = src[i]
      if (c === undefined || c === "|" || c === ")") return total
      let width: number | undefined
      if (c === "\\") {
        const e = src[i + 1] ?? ""
        if (/[1-9]/.test(e)) return undefined
        if (e === "N") {
          const end = src.indexOf("}", i)
          i = end < 0 ? src.length : end + 1
        } else if (e === "x") i += 4
        else if (e === "u") i += 6
        else if (e === "U") i += 10
        else if (e === "0") i += 2 + (/^[0-7]{0,2}/.exec(src.slice(i + 2))![0].length)
        else i += 2
        width = /[AZzbB]/.test(e) ? 0 : 1
      } else if (c === "[") {
        i = classEnd(src, i)
        width = 1
      } else if (c === "(") {
        const rest = src.slice(i)
        if (/^\(\?(?:P=|\(|[=!]|<[=!])/.test(rest)) return undefined
        if (rest.startsWith("(?#")) {
          const end = src.indexOf(")", i)
          i = end < 0 ? src.length : end + 1
          continue
        }
        const opener = /^\((?:\?(?:P?<[^>]*>|>|[aiLmsux]*(?:-[imsx]+)?:))?/.exec(rest)![0]
        i += opener.length
        width = alternation()
        if (width === undefined || src[i] !== ")") return undefined
        i += 1
      } else if (c === "^" || c === "$") {
        i += 1
        width = 0
      } else if (c === "*" || c === "+" || c === "?") {
        return undefined
      } else if (c === "{" && REPEAT.test(src.slice(i))) {
        return undefined
      } else {
        i += String.fromCodePoint(src.codePointAt(i)!).length
        width = 1
      }
      if (verbose) i = skipVerbose(src, i)
      // A quantifier after the atom: only an exact count keeps the width fixed.
      const q = /^\{(\d+)(?:,(\d+))?\}/.exec(src.slice(i))
      if (q && (q[2] === undefined || q[2] === q[1])) {
        width *= Number(q[1])
        i += q[0].length
      } else if (/^[*+?]/.test(src.slice(i)) || REPEAT.test(src.slice(i))) return undefined
      total += width
    }
  }
  const alternation = (): number | undefined => {
    const first = branch()
    if (first === undefined) return undefined
    while (src[i] === "|") {
      i += 1
      if (branch() !== first) return undefined
    }
    return first
  }
  const width = alternation()
  return width !== undefined && i >= src.length ? width : undefined
}

/**
 * Translates a Python `re` pattern into RE2 source and flags. Left carries a
 * human-readable reason. A Right is not yet known to compile; use `compile`.
 */
export const translate = (pattern: string): Either.Either<Translated, string> => {
  const groups: Array<string> = []
  let flags = ""
  let i = 0

  // Leading global flags and comments. Python 3.11+ refuses global flags anywhere else.
  for (;;) {
    if (flags.includes("x")) i = skipVerbose(pattern, i)
    const rest = pattern.slice(i)
    const global = GLOBAL_FLAGS.exec(rest)
    if (global) {
      const reason = unsupportedFlag(flags + global[1]!)
      if (reason) return Either.left(reason)
      flags += global[1]!
      i += global[0].length
      continue
    }
    if (rest.startsWith("(?#")) {
      const end = pattern.indexOf(")", i)
      if (end < 0) return Either.left("missing ), unterminated comment")
      i = end + 1
      continue
    }
    break
  }

  let out = ""
  let inClass = false
  // Index in `pattern` where the current class's members start (after `[` or `[^`).
  let classBody = -1
  // The quantifier just read (outside a class), so a `+` after it is seen as possessive.
  let quantifier: string | undefined
  // Verbose mode now, and for each open group the mode and start outside it.
  let verbose = flags.includes("x")
  const open: Array<{ readonly verbose: boolean; readonly start: number }> = []
  // Where the last atom (what a quantifier applies to) starts in `pattern`.
  let atomStart = 0

  while (i < pattern.length) {
    if (verbose && !inClass) {
      const next = skipVerbose(pattern, i)
      if (next !== i) {
        // Python reads a `+` or `?` after a quantifier only right after it.
        quantifier = undefined
        i = next
        if (i >= pattern.length) break
      }
    }
    const c = pattern[i]!
    const after = quantifier
    quantifier = undefined
    if (!inClass && c !== "*" && c !== "+" && c !== "?" && c !== "{" && c !== ")") atomStart = i

    if (c === "\\") {
      const e = pattern[i + 1]
      if (e === undefined) return Either.left("bad escape (end of pattern)")
      if (/[A-Za-z]/.test(e) && !(inClass ? LETTER_ESCAPES_INSIDE : LETTER_ESCAPES_OUTSIDE).has(e)) {
        return Either.left(`bad escape \\${e} at position ${i}`)
      }
      if (/[0-9]/.test(e)) {
        // Python: `\0` and three octal digits are characters, `\8` `\9` in a class are
        // errors, and outside a class any other `\<digits>` refers back to a group.
        const two = pattern.slice(i + 2, i + 4)
        const octal =
          e === "0"
            ? "0" + (/^[0-7]*/.exec(two)![0])
            : inClass && OCTAL_DIGIT.test(e)
              ? e + (/^[0-7]*/.exec(two)![0])
              : OCTAL_DIGIT.test(e) && /^[0-7]{2}$/.test(two)
                ? e + two
                : undefined
        if (octal !== undefined) {
          const code = parseInt(octal, 8)
          if (code > 0o377) return Either.left(`octal escape value \\${octal} outside of range 0-0o377 at position ${i}`)
          out += codePoint(code)
          i += 1 + octal.length
          continue
        }
        if (inClass) return Either.left(`bad escape \\${e} at position ${i}`)
        const ref = "\\" + /^\d{1,2}/.exec(pattern.slice(i + 1))![0]
        return Either.left(needsBacktracking(ref, i, "a backreference"))
      }
      switch (e) {
        case "A":
          // RE2's \A and \z mean start and end of input even under (?m), as Python's do.
          out += "\\A"
          i += 2
          continue
        case "Z":
        case "z":
          out += "\\z"
          i += 2
          continue
        case "a":
          out += "\\x07"
          i += 2
          continue
        case "b":
          // Python reads `[\b]` as a backspace; RE2 knows `\b` only as a word boundary.
          out += inClass ? "\\x08" : "\\b"
          i += 2
          continue
        case "N": {
          const named = namedChar(pattern, i)
          if (typeof named === "string") return Either.left(named)
          out += codePoint(named.code)
          i += named.length
          continue
        }
        case "x":
        case "u":
        case "U": {
          const width = e === "x" ? 2 : e === "u" ? 4 : 8
          const digits = pattern.slice(i + 2, i + 2 + width)
          if (digits.length !== width || !HEX.test(digits)) {
            return Either.left(`incomplete escape \\${e}${digits} at position ${i}`)
          }
          const code = parseInt(digits, 16)
          if (code > 0x10ffff) return Either.left(`bad escape \\${e}${digits} at position ${i}`)
          out += e === "x" ? `\\x${digits}` : codePoint(code)
          i += 2 + width
          continue
        }
        default: {
          // Other letters are known escapes RE2 spells the same way; a non-letter stands
          // for itself in Python, which RE2 allows only for ASCII: spell the others as a code point.
          const point = pattern.codePointAt(i + 1)!
          out += point < 0x80 ? c + e : codePoint(point)
          i += 1 + String.fromCodePoint(point).length
          continue
        }
      }
    }

    if (inClass) {
      if (c === "]") {
        // Python reads a `]` right after `[` or `[^` as a member; JavaScript would close an empty class.
        out += i === classBody ? "\\]" : "]"
        inClass = i === classBody
      } else if (c === "[") {
        // A literal in Python; RE2 would read `[:alpha:]` as a POSIX class.
        out += "\\["
      } else {
        out += c
      }
      i += 1
      continue
    }

    if (c === "[") {
      inClass = true
      const negated = pattern[i + 1] === "^"
      out += negated ? "[^" : "["
      i += negated ? 2 : 1
      classBody = i
      continue
    }

    if (c === "*" || c === "+" || c === "?") {
      if (after !== undefined && c === "+") {
        // `X{n}+` with X of fixed width, or a possessive quantifier that ends the pattern: the
        // same matches as the greedy one (module comment). Anything else needs backtracking.
        const atom = pattern.slice(atomStart, i - after.length)
        const exact = (/^\{(\d+)(?:,\1)?\}$/.test(after) && fixedWidth(atom, verbose) !== undefined) || endsPattern(pattern, i + 1, open.length, verbose)
        if (!exact) {
          return Either.left(
            needsBacktracking(`the possessive quantifier ${after}+`, i - after.length, "a possessive quantifier that hysds-stac cannot turn into a plain one without changing what it matches")
          )
        }
        if (/^[*+?{]/.test(pattern.slice(i + 1))) return Either.left(`multiple repeat at position ${i + 1}`)
        i += 1
        continue
      }
      out += c
      i += 1
      // `?` after a quantifier makes it lazy, which RE2 has; nothing can follow that.
      quantifier = after !== undefined && c === "?" ? undefined : c
      continue
    }

    if (c === "{") {
      const repeat = REPEAT.exec(pattern.slice(i))
      if (repeat && (repeat[1] !== "" || repeat[2] !== undefined)) {
        // Python reads `{,n}` as `{0,n}` and `{,}` as `{0,}`; RE2 would take them literally.
        const [text, lo, comma, hi] = repeat
        out += `{${lo || "0"}${comma === undefined ? "" : "," + hi}}`
        i += text.length
        quantifier = text
        continue
      }
      // Python reads any other `{` (such as `{}` or `{x}`) as a literal.
      out += "\\{"
      i += 1
      continue
    }

    if (c === "(" && pattern[i + 1] === "?") {
      const rest = pattern.slice(i)
      if (rest.startsWith("(?=")) return Either.left(needsBacktracking("(?=...)", i, "a lookahead assertion"))
      if (rest.startsWith("(?!")) return Either.left(needsBacktracking("(?!...)", i, "a negative lookahead assertion"))
      if (rest.startsWith("(?<=")) return Either.left(needsBacktracking("(?<=...)", i, "a lookbehind assertion"))
      if (rest.startsWith("(?<!")) return Either.left(needsBacktracking("(?<!...)", i, "a negative lookbehind assertion"))
      if (rest.startsWith("(?>")) {
        const close = closingParen(pattern, i, verbose)
        if (close < 0) return Either.left(`missing ), unterminated subpattern at position ${i}`)
        if (fixedWidth(pattern.slice(i + 3, close), verbose) === undefined && !endsPattern(pattern, close + 1, open.length, verbose)) {
          return Either.left(
            needsBacktracking("the atomic group (?>...)", i, "an atomic group whose content can match in more than one length, not at the end of the pattern")
          )
        }
        open.push({ verbose, start: i })
        out += "(?:"
        i += 3
        continue
      }
      if (rest.startsWith("(?(")) return Either.left(needsBacktracking("(?(id)yes|no)", i, "a conditional group"))
      const named = /^\(\?P?<([^>=!][^>]*)>/.exec(rest)
      if (named) {
        open.push({ verbose, start: i })
        groups.push(named[1]!)
        out += `(?<${named[1]}>`
        i += named[0].length
        continue
      }
      const backref = /^\(\?P=([^)]*)\)/.exec(rest)
      if (backref) return Either.left(needsBacktracking(backref[0], i, "a backreference"))
      if (rest.startsWith("(?P")) return Either.left(`unknown extension ?P${rest[3] ?? ""} at position ${i}`)
      if (rest.startsWith("(?#")) {
        const end = pattern.indexOf(")", i)
        if (end < 0) return Either.left("missing ), unterminated comment")
        i = end + 1
        continue
      }
      if (GLOBAL_FLAGS.test(rest)) {
        return Either.left(`global flags not at the start of the expression (position ${i})`)
      }
      const scoped = SCOPED_FLAGS.exec(rest)
      if (scoped) {
        const on = scoped[1] ?? ""
        const off = scoped[2] ?? ""
        const reason = unsupportedFlag(on + off)
        if (reason) return Either.left(reason)
        open.push({ verbose, start: i })
        if (on.includes("x")) verbose = true
        if (off.includes("x")) verbose = false
        const onRe2 = re2Flags(on)
        const offRe2 = re2Flags(off)
        out += onRe2 || offRe2 ? `(?${onRe2}${offRe2 ? "-" + offRe2 : ""}:` : "(?:"
        i += scoped[0].length
        continue
      }
      // Anything else is an error in Python, but may mean something to RE2 (`(?U)`).
      return Either.left(`unknown extension ?${rest[2] ?? ""} at position ${i}`)
    }

    if (c === "(") open.push({ verbose, start: i })
    if (c === ")") {
      const group = open.pop()
      if (group !== undefined) {
        verbose = group.verbose
        atomStart = group.start
      }
    }

    out += c
    i += 1
  }

  return Either.right({ source: out, flags: re2Flags(flags), groups })
}

const RE2_FLAGS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL }

/** RE2's reason, with the part of the pattern it points at; RE2's own limits explained. */
const engineReason = (e: unknown): string => {
  if (!(e instanceof RE2JSSyntaxException)) return `RE2 cannot compile it: ${e instanceof Error ? e.message : String(e)}`
  const what = e.getDescription()
  const at = e.getPattern()
  const limit =
    what === "invalid repeat count"
      ? " (RE2 allows counts up to 1000)"
      : what === "invalid named capture"
        ? " (group names are ASCII letters, digits and _)"
        : ""
  return `${what}${at ? ` at \`${at}\`` : ""}${limit}`
}

/** Named groups that took part in the match. */
const participating = (groups: Record<string, string | undefined> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(groups ?? {}).filter((kv): kv is [string, string] => kv[1] !== undefined))

/**
 * Translates and compiles a Python pattern for linear-time matching. Left
 * carries our reason or, when the translation is fine but RE2 still refuses it,
 * RE2's reason and the part of the pattern it points at.
 */
export const compile = (pattern: string): Either.Either<Pattern, string> =>
  Either.flatMap(translate(pattern), (translated) =>
    Either.try({
      try: (): Pattern => {
        const flags = [...translated.flags].reduce((bits, f) => bits | RE2_FLAGS[f]!, 0)
        const re2 = RE2JS.compile(translated.source, flags)
        return {
          ...translated,
          exec: (input) => {
            const m = re2.exec(input) as (Array<string | undefined> & { index: number; groups?: Record<string, string | undefined> }) | null
            return m === null ? null : { text: m[0]!, index: m.index, groups: participating(m.groups) }
          },
          test: (input) => re2.test(input)
        }
      },
      catch: engineReason
    })
  )
