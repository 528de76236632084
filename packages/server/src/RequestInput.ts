/**
 * Request input (paths, methods, ids and paths from bodies) as the server
 * echoes it in answers and writes it to the log: as received, with control
 * characters escaped (a newline must not forge a log line, an escape sequence
 * must not repaint an operator's terminal) and bounded in length.
 *
 * It is NEVER passed through the secret mask. Redacting input turns every
 * answer into an oracle: `GET /<guess>` answering `no route GET /***` tells an
 * anonymous caller that its guess is a configured secret. A secret in a
 * request is one the caller already has; masking it protects nothing.
 */

/** Characters kept out: C0 and C1 controls, DEL, line/paragraph separators, bidi overrides. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\\]/g

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\" }

const hex = (c: string) => {
  const code = c.charCodeAt(0)
  return code <= 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`
}

/** Characters of input echoed or logged; beyond, a note of how much was left out. */
export const MAX_LENGTH = 512

export const escape = (text: string, max: number = MAX_LENGTH): string => {
  const kept = text.length > max ? text.slice(0, max) : text
  const escaped = kept.replace(UNSAFE, (c) => NAMED[c] ?? hex(c))
  return text.length > max ? `${escaped}…(${text.length - max} more characters)` : escaped
}

/**
 * Request input in a log annotation: JsonLogger writes it as is, after
 * redacting everything else of the line. Serializes to its text.
 */
export class Verbatim {
  constructor(readonly text: string) {}
  toJSON() {
    return this.text
  }
}

export const verbatim = (text: string, max?: number) => new Verbatim(escape(text, max))
