/**
 * Values rendered as Python's `str.format` renders them: `str()`, `repr()`,
 * `ascii()` and the format-spec mini-language, for the values a JSON document
 * can hold (str, int, float, bool, None, list, dict).
 *
 * Numbers read by PyJson.parse say whether they were written as a float
 * (`1.0`) or an int of any size: Python knows, and renders them differently.
 *
 * Floats are rounded from their exact binary value, half to even, as CPython
 * does (`format(2.5, '.0f')` is `2`; JavaScript's `toFixed` says `3`).
 * What Python accepts and this module does not is refused by name
 * (`Unsupported`); what Python refuses is refused with Python's own message.
 */
import * as PyJson from "./PyJson.ts"

/** A value as Python sees it. */
export type PyValue =
  | { readonly type: "str"; readonly value: string }
  | { readonly type: "int"; readonly value: bigint }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "float"; readonly value: number }
  | { readonly type: "NoneType" }
  | { readonly type: "list"; readonly value: ReadonlyArray<unknown> }
  | { readonly type: "dict"; readonly value: Readonly<Record<string, unknown>> }

/** The Python value of a JSON value (numbers read by PyJson.parse say whether they are ints or floats). */
export const classify = (value: unknown): PyValue => {
  if (value === null || value === undefined) return { type: "NoneType" }
  if (value instanceof PyJson.PyNumber) return value.isInt ? { type: "int", value: BigInt(value.source) } : { type: "float", value: value.value }
  if (typeof value === "string") return { type: "str", value }
  if (typeof value === "boolean") return { type: "bool", value }
  if (typeof value === "bigint") return { type: "int", value }
  // A plain number lost how it was written: an integral one reads as an int.
  if (typeof value === "number") return Number.isInteger(value) ? { type: "int", value: BigInt(value) } : { type: "float", value }
  if (Array.isArray(value)) return { type: "list", value }
  return { type: "dict", value: value as Record<string, unknown> }
}

/** Python's `repr(float)` (JSON's NaN and Infinity spellings aside, which JSON text never holds here). */
const floatRepr = (x: number): string => (Number.isNaN(x) ? "nan" : !Number.isFinite(x) ? (x > 0 ? "inf" : "-inf") : PyJson.floatRepr(x))

/** Python's message for a value or spec Python itself refuses. */
export class PyError extends Error {}
/** Something Python accepts that is not implemented here. */
export class Unsupported extends Error {}

// ---------------------------------------------------------------------------
// str, repr, ascii

/** Python's `str.isprintable` for one character: not a control, format, surrogate, private-use, unassigned or separator character (space aside). */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u

const hexEscape = (code: number): string =>
  code <= 0xff
    ? "\\x" + code.toString(16).padStart(2, "0")
    : code <= 0xffff
      ? "\\u" + code.toString(16).padStart(4, "0")
      : "\\U" + code.toString(16).padStart(8, "0")

/** Python's `repr(str)`: single quotes unless the text has `'` and no `"`. */
export const strRepr = (s: string, asciiOnly = false): string => {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quote
  for (const ch of s) {
    const code = ch.codePointAt(0)!
    if (ch === quote || ch === "\\") out += "\\" + ch
    else if (ch === "\t") out += "\\t"
    else if (ch === "\n") out += "\\n"
    else if (ch === "\r") out += "\\r"
    else if (code < 0x20 || code === 0x7f) out += hexEscape(code)
    else if (code < 0x7f) out += ch
    else if (asciiOnly || (ch !== " " && NON_PRINTABLE.test(ch))) out += hexEscape(code)
    else out += ch
  }
  return out + quote
}

/** Python's `repr()` of a JSON value (lists and dicts show their members' reprs). */
export const repr = (v: PyValue, asciiOnly = false): string => {
  switch (v.type) {
    case "str":
      return strRepr(v.value, asciiOnly)
    case "int":
      return v.value.toString()
    case "bool":
      return v.value ? "True" : "False"
    case "float":
      return floatRepr(v.value)
    case "NoneType":
      return "None"
    case "list":
      return "[" + v.value.map((x) => repr(classify(x), asciiOnly)).join(", ") + "]"
    case "dict": {
      const d = v.value
      return "{" + Object.keys(d).map((k) => `${strRepr(k, asciiOnly)}: ${repr(classify(d[k]), asciiOnly)}`).join(", ") + "}"
    }
  }
}

/** Python's `str()`: the text itself for a str, `repr()` for everything else. */
export const str = (v: PyValue): string => (v.type === "str" ? v.value : repr(v))

// ---------------------------------------------------------------------------
// Exact decimal rounding

/** The exact decimal value of a finite positive double: `0.<digits> × 10^point`, no trailing zeros. */
const exactDecimal = (x: number): { digits: string; point: number } => {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const hi = view.getUint32(0)
  const lo = view.getUint32(4)
  const biased = (hi >>> 20) & 0x7ff
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n)
  const e2 = (biased === 0 ? 1 : biased) - 1075
  let digits: string
  let point: number
  if (e2 >= 0) {
    digits = (mantissa << BigInt(e2)).toString()
    point = digits.length
  } else {
    digits = (mantissa * 5n ** BigInt(-e2)).toString()
    point = digits.length + e2
  }
  return { digits: digits.replace(/0+$/, ""), point }
}

/**
 * `x` (finite, >= 0) rounded half to even at a digit: `cut(point)` says how many
 * digits of its exact expansion `0.<digits> x 10^point` to keep (0 or fewer:
 * none). The result has the same form; `digits` is "" for zero.
 */
const roundExact = (x: number, cut: (point: number) => number): { digits: string; point: number } => {
  if (x === 0) return { digits: "", point: 1 }
  const { digits, point } = exactDecimal(x)
  const at = cut(point)
  if (at >= digits.length) return { digits, point }
  // Below a tenth of the last kept unit: rounds to zero.
  if (at < 0) return { digits: "", point }
  const kept = digits.slice(0, at)
  const next = digits[at]!
  const exactHalf = next === "5" && at + 1 === digits.length
  const lastOdd = at > 0 && Number(digits[at - 1]) % 2 === 1
  const up = next > "5" || (next === "5" && !exactHalf) || (exactHalf && lastOdd)
  if (!up) return { digits: kept, point }
  const bumped = (BigInt(kept === "" ? "0" : kept) + 1n).toString()
  // A carry (99 -> 100, or "" -> 1) moves the point one place.
  return { digits: bumped, point: bumped.length > kept.length ? point + 1 : point }
}

/** Fixed notation with `decimals` digits after the point, of `x` >= 0. */
const fixed = (x: number, decimals: number): { int: string; frac: string } => {
  const { digits, point } = roundExact(x, (p) => p + decimals)
  if (digits === "") return { int: "0", frac: "0".repeat(decimals) }
  const int = point > 0 ? digits.slice(0, point).padEnd(point, "0") : "0"
  const frac = point >= 0 ? digits.slice(point) : "0".repeat(-point) + digits
  return { int, frac: frac.padEnd(decimals, "0").slice(0, decimals) }
}

/** Scientific notation with `significant` digits, of `x` >= 0: mantissa digits and exponent. */
const scientific = (x: number, significant: number): { digits: string; exp: number } => {
  if (x === 0) return { digits: "0".repeat(significant), exp: 0 }
  const r = roundExact(x, () => significant)
  // roundExact counts `cut` from the first significant digit here: the exact expansion has no leading zeros.
  const digits = r.digits.padEnd(significant, "0").slice(0, significant)
  return { digits, exp: r.point - 1 }
}

// ---------------------------------------------------------------------------
// The format-spec mini-language

interface Spec {
  fill: string
  align: "<" | ">" | "^" | "=" | undefined
  sign: "+" | "-" | " " | undefined
  z: boolean
  alt: boolean
  zero: boolean
  width: number
  grouping: "," | "_" | undefined
  precision: number | undefined
  type: string
}

const SPEC = /^(?:(.)?([<>=^]))?([+\- ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?(.)?$/su

const parseSpec = (text: string): Spec => {
  const m = SPEC.exec(text)
  if (!m) throw new PyError("Invalid format specifier")
  const [, fill, align, sign, z, alt, zero, width, grouping, precision, type] = m
  return {
    fill: fill ?? (zero && !align ? "0" : " "),
    align: align as Spec["align"],
    sign: sign as Spec["sign"],
    z: z !== undefined,
    alt: alt !== undefined,
    zero: zero !== undefined,
    width: width ? Number(width) : 0,
    grouping: grouping as Spec["grouping"],
    precision: precision === undefined ? undefined : Number(precision),
    type: type ?? ""
  }
}

const pad = (body: string, spec: Spec, defaultAlign: "<" | ">", signAndPrefix = ""): string => {
  const align = spec.align ?? (spec.zero && defaultAlign === ">" ? "=" : defaultAlign)
  const length = [...signAndPrefix].length + [...body].length
  const room = Math.max(spec.width - length, 0)
  if (align === "=") return signAndPrefix + spec.fill.repeat(room) + body
  const text = signAndPrefix + body
  if (align === "<") return text + spec.fill.repeat(room)
  if (align === ">") return spec.fill.repeat(room) + text
  const left = Math.floor(room / 2)
  return spec.fill.repeat(left) + text + spec.fill.repeat(room - left)
}

const groups = (digits: string, sep: string, every: number): string => {
  const parts: Array<string> = []
  for (let end = digits.length; end > 0; end -= every) parts.unshift(digits.slice(Math.max(end - every, 0), end))
  return parts.join(sep)
}

/**
 * Inserts `sep` every `every` digits from the right. With zero padding the
 * digits are first padded with zeros, separators counted, until `minWidth` is
 * reached, as CPython does (`format(1234, '08,')` is `0,001,234`).
 */
const group = (digits: string, sep: string | undefined, every: number, minWidth: number): string => {
  if (sep === undefined) return digits.padStart(minWidth, "0")
  let d = digits
  for (let out = groups(d, sep, every); ; out = groups(d, sep, every)) {
    if (out.length >= minWidth) return out
    d = "0" + d
  }
}

const signOf = (negative: boolean, spec: Spec): string => (negative ? "-" : spec.sign === "+" ? "+" : spec.sign === " " ? " " : "")

/** Zero padding with `=` (from the `0` flag or written) pads inside the digits, so grouping applies to the padding too. */
const zeroPadded = (spec: Spec): boolean => spec.fill === "0" && (spec.align ?? (spec.zero ? "=" : undefined)) === "="

const formatInt = (n: bigint, spec: Spec): string => {
  const type = spec.type
  if (spec.precision !== undefined) throw new PyError("Precision not allowed in integer format specifier")
  if (type === "c") {
    if (spec.sign !== undefined) throw new PyError("Sign not allowed with integer format specifier 'c'")
    if (spec.alt) throw new PyError("Alternate form (#) not allowed with integer format specifier 'c'")
    if (spec.grouping !== undefined) throw new PyError(`Cannot specify '${spec.grouping}' with 'c'.`)
    if (n < 0n || n > 0x10ffffn) throw new PyError("%c arg not in range(0x110000)")
    return pad(String.fromCodePoint(Number(n)), spec, "<")
  }
  const base = type === "b" ? 2 : type === "o" ? 8 : type === "x" || type === "X" ? 16 : 10
  if (spec.grouping === "," && base !== 10) throw new PyError(`Cannot specify ',' with '${type}'.`)
  if (spec.grouping !== undefined && type === "n") throw new PyError(`Cannot specify '${spec.grouping}' with 'n'.`)
  const negative = n < 0n
  let digits = (negative ? -n : n).toString(base)
  if (type === "X") digits = digits.toUpperCase()
  const prefix = spec.alt && base !== 10 ? "0" + (type === "X" ? "X" : type || "d") : ""
  const lead = signOf(negative, spec) + prefix
  const every = base === 10 ? 3 : 4
  const minWidth = zeroPadded(spec) ? Math.max(spec.width - lead.length, 0) : 0
  const body = group(digits, spec.grouping, every, minWidth)
  return pad(body, spec, ">", lead)
}

const formatFloat = (x: number, spec: Spec): string => {
  let type = spec.type
  if (!/^[eEfFgGn%]?$/.test(type)) throw new PyError(`Unknown format code '${type}' for object of type 'float'`)
  if (spec.grouping !== undefined && type === "n") throw new PyError(`Cannot specify '${spec.grouping}' with 'n'.`)
  if (type === "n") type = "g"
  const negative = x < 0 || Object.is(x, -0)
  let a = Math.abs(x)
  const upper = type === "E" || type === "F" || type === "G"
  let body: string
  let percent = ""
  if (!Number.isFinite(a)) {
    body = Number.isNaN(a) ? "nan" : "inf"
    if (upper) body = body.toUpperCase()
    if (type === "%") percent = "%"
  } else {
    if (type === "%") {
      a *= 100
      percent = "%"
      type = "f"
    }
    const p = spec.precision
    const t = type.toLowerCase()
    const sci = (significant: number, keepZeros: boolean) => {
      const s = scientific(a, significant)
      let mant = s.digits.length > 1 || spec.alt ? `${s.digits[0]}.${s.digits.slice(1)}` : s.digits
      if (!keepZeros) mant = mant.replace(/\.?0+$/, "") || "0"
      return `${mant}${type === "E" || type === "G" ? "E" : "e"}${s.exp < 0 ? "-" : "+"}${String(Math.abs(s.exp)).padStart(2, "0")}`
    }
    if (t === "f") {
      const f = fixed(a, p ?? 6)
      body = f.frac === "" ? f.int + (spec.alt ? "." : "") : `${f.int}.${f.frac}`
    } else if (t === "e") {
      body = sci((p ?? 6) + 1, true)
    } else if (t === "g" || (type === "" && p !== undefined)) {
      // 'g': precision P significant digits; fixed when -4 <= exp < P. No type with a
      // precision: the same, but fixed needs exp < P-1 and shows at least one decimal.
      const P = p === 0 ? 1 : (p ?? 6)
      const noType = type === ""
      const exp = a === 0 ? 0 : scientific(a, P).exp
      if (exp < -4 || exp >= (noType ? P - 1 : P)) {
        body = sci(P, spec.alt)
      } else {
        const f = fixed(a, Math.max(P - 1 - exp, 0))
        let text = f.frac === "" ? f.int : `${f.int}.${f.frac}`
        if (!spec.alt) text = text.includes(".") ? text.replace(/\.?0+$/, "") : text
        if (spec.alt && !text.includes(".")) text += "."
        if (noType && !text.includes(".")) text += ".0"
        body = text
      }
    } else {
      // No type, no precision: repr, as str() shows it.
      body = floatRepr(a)
    }
  }
  // 'z' turns a negative zero (after rounding) into a positive one.
  const isZero = /^[0.]*$/.test(body.replace(/e.*$/i, "")) && Number.isFinite(a)
  const neg = negative && !(spec.z && isZero) && !Number.isNaN(x)
  const lead = signOf(neg, spec)
  const [intPart, ...rest] = body.split(/(?=[.eE%])/)
  const tail = rest.join("") + percent
  if (spec.grouping !== undefined || zeroPadded(spec)) {
    if (!/^\d+$/.test(intPart!)) return pad(body + percent, spec, ">", lead)
    const minWidth = zeroPadded(spec) ? Math.max(spec.width - lead.length - tail.length, 0) : 0
    return pad(group(intPart!, spec.grouping, 3, minWidth) + tail, spec, ">", lead)
  }
  return pad(body + percent, spec, ">", lead)
}

const formatStr = (s: string, spec: Spec): string => {
  if (spec.type !== "" && spec.type !== "s") throw new PyError(`Unknown format code '${spec.type}' for object of type 'str'`)
  if (spec.sign !== undefined) throw new PyError("Sign not allowed in string format specifier")
  if (spec.alt) throw new PyError("Alternate form (#) not allowed in string format specifier")
  if (spec.grouping !== undefined) throw new PyError(`Cannot specify '${spec.grouping}' with 's'.`)
  if (spec.align === "=") throw new PyError("'=' alignment not allowed in string format specifier")
  const body = spec.precision === undefined ? s : [...s].slice(0, spec.precision).join("")
  // Since Python 3.10 the `0` flag only sets the fill for strings; they stay left-aligned.
  return pad(body, { ...spec, zero: false }, "<")
}

/** Python's `format(value, spec)` for a JSON value. Throws PyError (Python refuses) or Unsupported. */
export const format = (v: PyValue, specText: string): string => {
  if (specText === "") return str(v)
  switch (v.type) {
    case "str":
      return formatStr(v.value, parseSpec(specText))
    case "bool":
    case "int": {
      const spec = parseSpec(specText)
      const n = v.type === "bool" ? (v.value ? 1n : 0n) : v.value
      if (/^[eEfFgG%]$/.test(spec.type)) return formatFloat(Number(n), spec)
      if (!/^[bcdoxXn]?$/.test(spec.type)) throw new PyError(`Unknown format code '${spec.type}' for object of type '${v.type}'`)
      return formatInt(n, spec)
    }
    case "float":
      return formatFloat(v.value, parseSpec(specText))
    default:
      throw new PyError(`unsupported format string passed to ${v.type}.__format__`)
  }
}

/**
 * Why `spec` can never work, from its syntax alone (Python would say so only
 * when rendering); undefined when it may, depending on the value's type.
 */
export const specProblem = (spec: string): string | undefined => {
  if (spec.includes("{") || spec.includes("}")) return "nested replacement fields in a format spec are not supported"
  return SPEC.test(spec) ? undefined : `invalid format specifier ${JSON.stringify(spec)}`
}
