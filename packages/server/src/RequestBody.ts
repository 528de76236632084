/**
 * The checks a request body passes before anything reads it into a schema.
 * Pure functions over text and streams, so each rule is tested on its own;
 * RequestMiddleware turns their answers into 413, 415 and 400.
 */

/**
 * Whether a Content-Type header says JSON: the media type is exactly
 * `application/json` (case-insensitive), parameters allowed, and a charset,
 * if given, is UTF-8 (the only encoding we decode). A missing type is not
 * JSON: a browser sends `text/plain` bodies and forms cross-site without a
 * preflight, and refusing everything but JSON closes that door.
 */
export const isJson = (contentType: string | undefined): boolean => {
  if (contentType === undefined) return false
  const [type, ...parameters] = contentType.split(";")
  if (type!.trim().toLowerCase() !== "application/json") return false
  for (const p of parameters) {
    const eq = p.indexOf("=")
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase()
    if (name !== "charset") continue
    const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1").toLowerCase()
    if (value !== "utf-8" && value !== "utf8") return false
  }
  return true
}

/** Nesting allowed in a request body. Our bodies are flat; 64 leaves room and stops a parser or decoder recursing 30,000 deep. */
export const MAX_DEPTH = 64

/**
 * Whether `text` nests arrays and objects deeper than `limit`, in one pass
 * with a counter (no recursion, so any depth is answered). Brackets inside
 * strings are skipped; the text need not be valid JSON (JSON.parse judges
 * that afterwards).
 */
export const tooDeep = (text: string, limit: number = MAX_DEPTH): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // a backslash: the next character is escaped
      else if (c === 0x22) inString = false
      continue
    }
    if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}

export type Read = { readonly _tag: "Text"; readonly text: string } | { readonly _tag: "TooLarge" }

/**
 * Reads a body up to `max` bytes and stops there: a body without a
 * Content-Length (chunked) is never buffered beyond the limit.
 */
export const readBounded = async (body: ReadableStream<Uint8Array> | null, max: number): Promise<Read> => {
  if (body === null) return { _tag: "Text", text: "" }
  const reader = body.getReader()
  const chunks: Array<Uint8Array> = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      await reader.cancel().catch(() => undefined)
      return { _tag: "TooLarge" }
    }
    chunks.push(value)
  }
  const all = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    all.set(c, at)
    at += c.byteLength
  }
  return { _tag: "Text", text: new TextDecoder().decode(all) }
}
