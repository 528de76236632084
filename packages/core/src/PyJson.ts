/**
 * JSON as Python's `json` module reads and writes it, for the files HySDS
 * writes byte for byte (`_datasets.json`).
 *
 * Python keeps what JavaScript loses: `1.0` is a float and is written back as
 * `1.0` (JavaScript reads it as the number 1 and writes `1`), `1e5` comes back
 * as `100000.0`, and integers of any size stay exact. So a document read for
 * HySDS's files keeps each number's source text ({@link PyNumber}, through
 * JSON.parse's source-text access) and {@link dump} renders it as Python's
 * `json.dump(value, indent=2, sort_keys=True)` would: `repr` of floats,
 * ASCII-only strings (`ensure_ascii`), keys sorted by code point, `", "`
 * never (with an indent the item separator is `","`), `": "` after keys, no
 * final newline.
 */
import { Predicate } from "effect"

/** A JSON number as its source text: Python tells `1` (int) from `1.0` (float) by it. */
export class PyNumber {
  constructor(readonly source: string) {}
  /** The value JavaScript reads. */
  get value(): number {
    return Number(this.source)
  }
  get isInt(): boolean {
    return /^-?\d+$/.test(this.source)
  }
  toJSON(): number {
    return this.value
  }
}

/**
 * Parses JSON keeping every number as a {@link PyNumber}. Anything else is
 * what JSON.parse gives; a syntax error throws like it.
 */
export const parse = (text: string): unknown =>
  JSON.parse(text, function (this: unknown, _key: string, value: unknown, context?: { source?: string }) {
    return typeof value === "number" && typeof context?.source === "string" ? new PyNumber(context.source) : value
  } as (key: string, value: unknown) => unknown)

/** The same value with every PyNumber back to a plain number (what the rest of hysds-stac uses). */
export const plain = (value: unknown): unknown => {
  if (value instanceof PyNumber) return value.value
  if (Array.isArray(value)) return value.map(plain)
  if (Predicate.isRecord(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = plain(v)
    return out
  }
  return value
}

/** Python's `repr(float)`: shortest round-trip digits, exponent below 1e-4 and from 1e16, `.0` on integers. */
export const floatRepr = (x: number): string => {
  if (Number.isNaN(x)) return "NaN"
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity"
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0"
  // toExponential() with no argument gives the shortest digits that round-trip, as repr does.
  const [mantissa, exp] = x.toExponential().split("e") as [string, string]
  const negative = mantissa.startsWith("-")
  const digits = mantissa.replace("-", "").replace(".", "")
  const e = Number(exp)
  const decpt = e + 1
  let out: string
  if (decpt <= -4 || decpt > 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    out = `${m}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`
  } else if (decpt <= 0) {
    out = `0.${"0".repeat(-decpt)}${digits}`
  } else if (decpt >= digits.length) {
    out = `${digits}${"0".repeat(decpt - digits.length)}.0`
  } else {
    out = `${digits.slice(0, decpt)}.${digits.slice(decpt)}`
  }
  return negative ? `-${out}` : out
}

const numberText = (n: number | PyNumber): string => {
  if (n instanceof PyNumber) return n.isInt ? BigInt(n.source).toString() : floatRepr(n.value)
  // A plain number came from hysds-stac itself or a JSON.parse that lost the
  // distinction: integers are written as Python ints.
  return Number.isInteger(n) && Math.abs(n) < 2 ** 63 ? BigInt(n).toString() : floatRepr(n)
}

/** Printable ASCII but `"` and `\\`: what json.dumps writes as it is. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

/** `json.dumps(s)` with `ensure_ascii=True`. */
export const stringText = (s: string): string => {
  // Most strings (ids, keys, urls, dates) need no escape: one test instead of a string built char by char.
  if (PLAIN.test(s)) return `"${s}"`
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const ch = s[i]!
    if (ch === '"') out += '\\"'
    else if (ch === "\\") out += "\\\\"
    else if (ch === "\n") out += "\\n"
    else if (ch === "\r") out += "\\r"
    else if (ch === "\t") out += "\\t"
    else if (ch === "\b") out += "\\b"
    else if (ch === "\f") out += "\\f"
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, "0")}`
    else out += ch
  }
  return out + '"'
}

/** Python compares str by code point; JavaScript's `<` compares UTF-16 units. */
export const compareCodePoints = (a: string, b: string): number => {
  // The two orders differ only once a surrogate (a code point above U+FFFF) is
  // met, so units are compared as they are up to the first difference, and
  // split into code points only when a surrogate is at or before it.
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x >= 0xd800 && x <= 0xdfff) return byCodePoints(a, b)
    if (y >= 0xd800 && y <= 0xdfff) return byCodePoints(a, b)
    if (x !== y) return x - y
  }
  return a.length - b.length
}

const byCodePoints = (a: string, b: string): number => {
  const x = Array.from(a)
  const y = Array.from(b)
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!
    if (d !== 0) return d
  }
  return x.length - y.length
}

const write = (value: unknown, indent: string, step: string, sortKeys = true): string => {
  if (value === null || value === undefined) return "null"
  if (value === true) return "true"
  if (value === false) return "false"
  if (typeof value === "number" || value instanceof PyNumber) return numberText(value)
  if (typeof value === "string") return stringText(value)
  const inner = indent + step
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]"
    return `[\n${value.map((v) => inner + write(v, inner, step, sortKeys)).join(",\n")}\n${indent}]`
  }
  if (Predicate.isRecord(value)) {
    const present = Object.keys(value).filter((k) => value[k] !== undefined)
    const keys = sortKeys ? present.sort(compareCodePoints) : present
    if (keys.length === 0) return "{}"
    return `{\n${keys.map((k) => `${inner}${stringText(k)}: ${write(value[k], inner, step, sortKeys)}`).join(",\n")}\n${indent}}`
  }
  return stringText(String(value))
}

/**
 * `json.dump(value, f, indent=2, sort_keys=True)`: the exact text, without a
 * final newline (json.dump writes none). With `margin`, every line after the
 * first starts with it: the value as it appears nested that deep.
 */
export const dump = (value: unknown, margin = ""): string => write(value, margin, "  ")

/**
 * `json.dump(value, f, indent=2)` without `sort_keys`: keys in the object's
 * order (as HySDS writes an extracted `<id>.met.json`). JavaScript puts
 * integer-like keys first where Python keeps them as inserted: a difference
 * only for such keys.
 */
export const dumpUnsorted = (value: unknown): string => write(value, "", "  ", false)
