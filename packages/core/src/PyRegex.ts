/**
 * Python `re` patterns as JavaScript RegExps.
 *
 * datasets.json was written for HySDS, whose `match_pattern`s are Python regexes
 * (`(?P<id>AOI_.+)$`). Operators must be able to reuse those files unchanged, so
 * we translate the Python-only syntax instead of asking them to rewrite patterns.
 * The translation is a single left-to-right scan that knows about escapes and
 * character classes, so `\(?P<` and `[(?P<]` stay literal as they are in Python.
 *
 * What is translated: `(?P<name>...)`, `(?P=name)`, `\A`, `\Z` (and Python 3.14's
 * `\z`), `(?#comment)`, leading global flags `(?i)` `(?m)` `(?s)`, scoped flags
 * `(?i:...)`, `\a`, `\U0001F600`, `{,n}`, and a `]` that opens a class (`[]a]`).
 * What is refused with a reason: `(?x)`, `(?L)`, `\N{...}`, conditionals
 * `(?(1)a|b)`, atomic groups `(?>...)`, unknown letter escapes such as `\q`
 * (Python rejects them; JavaScript would silently read a literal `q`).
 * `(?a)` and `(?u)` are accepted as no-ops: `(?u)` is already Python 3's default
 * for str patterns, and `(?a)` asks for ASCII `\d` `\w` `\b`, which is what
 * JavaScript does anyway.
 *
 * Known remaining differences, all about characters that never occur in product
 * paths: Python's `$` also matches before a final `\n`; Python's `\d` `\w` `\s`
 * are Unicode-aware; JavaScript's `.` also stops at `\r`, U+2028 and U+2029.
 *
 * The RegExp is built without the `g`/`y` flags so `exec` is stateless and
 * searches anywhere in the input, like Python's `re.search`.
 */
import { Either } from "effect"

/** A translated pattern: what `new RegExp(source, flags)` needs, plus the
 * names of its named groups (the template variables a match provides). */
export interface Translated {
  readonly source: string
  readonly flags: string
  readonly groups: ReadonlyArray<string>
}

/** Escapes of ASCII letters Python accepts; any other `\<letter>` is an error there. */
const LETTER_ESCAPES_OUTSIDE = new Set("aAbBdDfnrsStvwWxuUNZz")
const LETTER_ESCAPES_INSIDE = new Set("abdDfnrsStvwWxuUN")

const GLOBAL_FLAGS = /^\(\?([aiLmsux]+)\)/
const SCOPED_FLAGS = /^\(\?([aiLmsux]*)(?:-([imsx]+))?:/
const HEX = /^[0-9a-fA-F]+$/

/** Reason for a flag we cannot carry over, or undefined when it is fine. */
const unsupportedFlag = (flags: string): string | undefined => {
  if (flags.includes("x")) {
    return "verbose patterns (?x) are not supported: remove the flag and the whitespace/comments it allowed"
  }
  if (flags.includes("L")) return "the LOCALE flag (?L) is not supported (Python allows it only for bytes patterns)"
  if (flags.includes("a") && flags.includes("u")) return "ASCII and UNICODE flags are incompatible"
  return undefined
}

/** JavaScript keeps only i, m and s; a and u are no-ops (see the module comment). */
const jsFlags = (flags: string): string => [..."ims"].filter((f) => flags.includes(f)).join("")

const hex4 = (n: number): string => "\\u" + n.toString(16).toUpperCase().padStart(4, "0")

/**
 * Translates a Python `re` pattern into JavaScript RegExp source and flags.
 * Left carries a human-readable reason. A Right is not yet known to compile;
 * use `compile` for that.
 */
export const translate = (pattern: string): Either.Either<Translated, string> => {
  const groups: Array<string> = []
  let flags = ""
  let i = 0

  // Leading global flags and comments. Python 3.11+ refuses global flags anywhere else.
  for (;;) {
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
  const multiline = flags.includes("m")

  let out = ""
  let inClass = false
  // Index in `pattern` where the current class's members start (after `[` or `[^`).
  let classBody = -1

  while (i < pattern.length) {
    const c = pattern[i]!

    if (c === "\\") {
      const e = pattern[i + 1]
      if (e === undefined) return Either.left("bad escape (end of pattern)")
      if (/[A-Za-z]/.test(e) && !(inClass ? LETTER_ESCAPES_INSIDE : LETTER_ESCAPES_OUTSIDE).has(e)) {
        return Either.left(`bad escape \\${e} at position ${i}`)
      }
      switch (e) {
        case "A":
          // With the m flag `^` would match at every line start; a lookbehind keeps "start of input".
          out += multiline ? "(?<![\\s\\S])" : "^"
          i += 2
          continue
        case "Z":
        case "z":
          out += multiline ? "(?![\\s\\S])" : "$"
          i += 2
          continue
        case "a":
          out += "\\x07"
          i += 2
          continue
        case "N":
          return Either.left(`named Unicode escapes \\N{...} are not supported (position ${i})`)
        case "x":
        case "u":
        case "U": {
          const width = e === "x" ? 2 : e === "u" ? 4 : 8
          const digits = pattern.slice(i + 2, i + 2 + width)
          if (digits.length !== width || !HEX.test(digits)) {
            return Either.left(`incomplete escape \\${e}${digits} at position ${i}`)
          }
          const code = parseInt(digits, 16)
          if (e !== "U" || code <= 0xffff) {
            out += e === "U" ? hex4(code) : `\\${e}${digits}`
          } else if (code > 0x10ffff) {
            return Either.left(`bad escape \\U${digits} at position ${i}`)
          } else if (inClass) {
            return Either.left(`characters beyond U+FFFF inside a character class are not supported (position ${i})`)
          } else {
            // Without the `u` flag JavaScript matches UTF-16 code units: use the surrogate pair.
            const offset = code - 0x10000
            out += `(?:${hex4(0xd800 + (offset >> 10))}${hex4(0xdc00 + (offset & 0x3ff))})`
          }
          i += 2 + width
          continue
        }
        default:
          out += c + e
          i += 2
          continue
      }
    }

    if (inClass) {
      if (c === "]") {
        // Python reads a `]` right after `[` or `[^` as a member; JavaScript would close an empty class.
        out += i === classBody ? "\\]" : "]"
        inClass = i === classBody
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

    if (c === "{") {
      // Python reads `{,n}` as `{0,n}`; JavaScript would take it literally.
      const upTo = /^\{,(\d+)\}/.exec(pattern.slice(i))
      if (upTo) {
        out += `{0,${upTo[1]}}`
        i += upTo[0].length
        continue
      }
    }

    if (c === "(" && pattern[i + 1] === "?") {
      const rest = pattern.slice(i)
      const named = /^\(\?P?<([^>=!][^>]*)>/.exec(rest)
      if (named) {
        groups.push(named[1]!)
        out += `(?<${named[1]}>`
        i += named[0].length
        continue
      }
      const backref = /^\(\?P=([^)]*)\)/.exec(rest)
      if (backref) {
        out += `\\k<${backref[1]}>`
        i += backref[0].length
        continue
      }
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
      if (scoped && scoped[0] !== "(?:") {
        const on = scoped[1] ?? ""
        const off = scoped[2] ?? ""
        const reason = unsupportedFlag(on + off)
        if (reason) return Either.left(reason)
        const onJs = jsFlags(on)
        const offJs = jsFlags(off)
        out += onJs || offJs ? `(?${onJs}${offJs ? "-" + offJs : ""}:` : "(?:"
        i += scoped[0].length
        continue
      }
      if (rest.startsWith("(?(")) {
        return Either.left(`conditional groups (?(id)yes|no) are not supported (position ${i})`)
      }
      if (rest.startsWith("(?>")) return Either.left(`atomic groups (?>...) are not supported (position ${i})`)
    }

    out += c
    i += 1
  }

  return Either.right({ source: out, flags: jsFlags(flags), groups })
}

/**
 * Translates and compiles a Python pattern. Left carries our reason or, when
 * the translation is fine but JavaScript still refuses it, the engine's message.
 */
export const compile = (pattern: string): Either.Either<RegExp, string> =>
  Either.flatMap(translate(pattern), ({ flags, source }) =>
    Either.try({
      try: () => new RegExp(source, flags),
      catch: (e) => (e instanceof Error ? e.message : String(e))
    })
  )
