/**
 * `JSON.stringify(value, null, 2) + "\n"` as UTF-8 bytes, printed straight
 * into one buffer of exactly the right length: a first pass counts the bytes,
 * the second writes them. Same bytes as the string route, byte for byte.
 *
 * Why: a collection of 100,000 items is a 16 MB document. Printed through
 * JSON.stringify it is a 16 MB string, the engine's growing buffers behind it,
 * then 16 MB of bytes, all alive at once beside the plan: 65-73 MiB of RSS at
 * the ingest's highest point, where the bytes alone are 16. Printing slices of
 * it as strings was tried and was worse (the slices wait for the collector).
 * Small documents still go through JSON.stringify, which is native and faster
 * (StacSource.jsonBytes chooses).
 */

/** Where the printer's output goes: counted, or written. */
interface Sink {
  /** A string of ASCII characters only, as it is. */
  ascii(s: string): void
  /** A line break and the indentation of `depth`. */
  newline(depth: number): void
  /** A string as a JSON string literal, quotes included. */
  quoted(s: string): void
}

const HEX = "0123456789abcdef"

/** The escape of an ASCII code unit JSON.stringify escapes: a quote, a backslash, a control character. */
const escapeOf = (c: number): string => {
  if (c === 0x22) return '\\"'
  if (c === 0x5c) return "\\\\"
  switch (c) {
    case 0x08:
      return "\\b"
    case 0x09:
      return "\\t"
    case 0x0a:
      return "\\n"
    case 0x0c:
      return "\\f"
    case 0x0d:
      return "\\r"
  }
  return unicodeEscape(c)
}

const unicodeEscape = (c: number): string => "\\u" + HEX[(c >> 12) & 15] + HEX[(c >> 8) & 15] + HEX[(c >> 4) & 15] + HEX[c & 15]

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff

class Counter implements Sink {
  n = 0
  ascii(s: string) {
    this.n += s.length
  }
  newline(depth: number) {
    this.n += 1 + 2 * depth
  }
  quoted(s: string) {
    let n = 2
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x80) n += c >= 0x20 && c !== 0x22 && c !== 0x5c ? 1 : escapeOf(c).length
      else if (c < 0x800) n += 2
      else if (isHigh(c) && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) {
        n += 4
        i++
      } else if (isHigh(c) || isLow(c)) n += 6 // a lone surrogate prints as \udxxx
      else n += 3
    }
    this.n += n
  }
}

class Writer implements Sink {
  at = 0
  constructor(readonly bytes: Uint8Array) {}
  ascii(s: string) {
    const b = this.bytes
    let at = this.at
    for (let i = 0; i < s.length; i++) b[at++] = s.charCodeAt(i)
    this.at = at
  }
  newline(depth: number) {
    const b = this.bytes
    b[this.at++] = 0x0a
    b.fill(0x20, this.at, (this.at += 2 * depth))
  }
  quoted(s: string) {
    const b = this.bytes
    let at = this.at
    b[at++] = 0x22
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x80) {
        if (c >= 0x20 && c !== 0x22 && c !== 0x5c) b[at++] = c
        else {
          const e = escapeOf(c)
          for (let j = 0; j < e.length; j++) b[at++] = e.charCodeAt(j)
        }
      } else if (c < 0x800) {
        b[at++] = 0xc0 | (c >> 6)
        b[at++] = 0x80 | (c & 63)
      } else if (isHigh(c) && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) {
        const p = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00)
        b[at++] = 0xf0 | (p >> 18)
        b[at++] = 0x80 | ((p >> 12) & 63)
        b[at++] = 0x80 | ((p >> 6) & 63)
        b[at++] = 0x80 | (p & 63)
      } else if (isHigh(c) || isLow(c)) {
        const e = unicodeEscape(c)
        for (let j = 0; j < e.length; j++) b[at++] = e.charCodeAt(j)
      } else {
        b[at++] = 0xe0 | (c >> 12)
        b[at++] = 0x80 | ((c >> 6) & 63)
        b[at++] = 0x80 | (c & 63)
      }
    }
    b[at++] = 0x22
    this.at = at
  }
}

/** What JSON.stringify prints for `value` found under `key`: after its toJSON, unboxed. */
const prepared = (key: string | number, value: unknown): unknown => {
  let v = value
  if (typeof v === "object" && v !== null) {
    const toJSON = (v as { toJSON?: unknown }).toJSON
    if (typeof toJSON === "function") v = toJSON.call(v, String(key))
  } else if (typeof v === "bigint") {
    const toJSON = (BigInt.prototype as { toJSON?: unknown }).toJSON
    if (typeof toJSON === "function") v = toJSON.call(v, String(key))
  }
  if (v instanceof Number) return Number(v)
  if (v instanceof String) return String(v)
  if (v instanceof Boolean) return v.valueOf()
  return v
}

/** Whether JSON prints the value at all: an object leaves such a property out, an array prints null. */
const printable = (v: unknown): boolean => v !== undefined && typeof v !== "function" && typeof v !== "symbol"

/** Prints `v` (prepared) whose line is indented `depth` levels. */
const print = (out: Sink, v: unknown, depth: number, ancestors: Array<object>): void => {
  if (v === null) return out.ascii("null")
  switch (typeof v) {
    case "string":
      return out.quoted(v)
    case "number":
      return out.ascii(Number.isFinite(v) ? String(v) : "null")
    case "boolean":
      return out.ascii(v ? "true" : "false")
    case "bigint":
      throw new TypeError("Do not know how to serialize a BigInt")
  }
  const o = v as object
  if (ancestors.includes(o)) throw new TypeError("JSON.stringify cannot serialize cyclic structures.")
  ancestors.push(o)
  if (Array.isArray(o)) {
    if (o.length === 0) out.ascii("[]")
    else {
      out.ascii("[")
      for (let i = 0; i < o.length; i++) {
        if (i > 0) out.ascii(",")
        out.newline(depth + 1)
        const e = prepared(i, o[i])
        if (printable(e)) print(out, e, depth + 1, ancestors)
        else out.ascii("null")
      }
      out.newline(depth)
      out.ascii("]")
    }
  } else {
    let first = true
    // for-in over own keys rather than Object.keys: the same keys in the same order without an array
    // per object (a collection has a link object per item).
    for (const k in o) {
      if (!Object.hasOwn(o, k)) continue
      const e = prepared(k, (o as Record<string, unknown>)[k])
      if (!printable(e)) continue
      out.ascii(first ? "{" : ",")
      first = false
      out.newline(depth + 1)
      out.quoted(k)
      out.ascii(": ")
      print(out, e, depth + 1, ancestors)
    }
    if (first) out.ascii("{}")
    else {
      out.newline(depth)
      out.ascii("}")
    }
  }
  ancestors.pop()
}

/**
 * The bytes of `JSON.stringify(value, null, 2) + "\n"`. Throws what
 * JSON.stringify throws (a cycle, a BigInt) and, as its string would be
 * `undefined`, refuses a value it prints nothing for.
 */
export const pretty = (value: unknown): Uint8Array => {
  const top = prepared("", value)
  if (!printable(top)) throw new TypeError("JSON prints nothing for this value")
  const counter = new Counter()
  print(counter, top, 0, [])
  const writer = new Writer(new Uint8Array(counter.n + 1))
  // The same value printed twice: toJSON is called twice, which for the parsed documents printed here (no toJSON) is moot.
  print(writer, top, 0, [])
  writer.bytes[writer.at++] = 0x0a
  if (writer.at !== writer.bytes.length) throw new Error(`JsonBytes: counted ${writer.bytes.length} bytes, wrote ${writer.at}`)
  return writer.bytes
}
