/**
 * The one rule for which names a job may publish (issue 8). A name is a file or
 * directory name the job wrote (untrusted); what it becomes at the destination
 * is an object key or a path, built from segments by Location.child, never by
 * decoding the name. So most odd names publish faithfully (the key IS the name):
 * `%`, `%zz`, `%2F`, `%41`, spaces, `?`, `#`, any valid Unicode (NFC and NFD are
 * kept as they are, they are different names on disk and on S3).
 *
 * Refused, with the reason, before anything is claimed:
 * - control characters (C0, DEL, C1): a `\n` or `\r` splits log lines, journal
 *   summaries, HTTP headers and the line-oriented tools (and S3 listings in XML
 *   1.0 cannot even carry most of them), so such a key could not be reliably
 *   removed again;
 * - a `.` or `..` segment after ANY number of percent-decodings (`..%2F`,
 *   `%2e%2e`, `..%252F`): we never decode names, but whoever reads the published
 *   URL (a browser, boto, a HySDS tool, a proxy) may, and would then climb out of
 *   the location; `\` counts as a separator for the same reason;
 * - names that are not valid UTF-8 (they reach us with U+FFFD in place of the
 *   bad bytes, so the file could not be opened under that name) or hold a lone
 *   surrogate (no UTF-8 form at all, so no key);
 * - names longer than a destination can hold: 255 bytes per segment on a disk,
 *   1024 bytes per S3 key (the key of its `--force` backup included).
 */

/** UTF-8 byte length, counted rather than encoded: it runs for every file of a catalog. */
export const byteLength = (s: string): number => {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4 // a surrogate pair: one code point beyond the BMP
      i++
    } else n += 3 // the rest of the BMP; a lone surrogate encodes as U+FFFD, 3 bytes, as TextEncoder does
  }
  return n
}

/** Longest name a filesystem holds (NAME_MAX). */
export const MAX_SEGMENT_BYTES = 255
/** Longest S3 object key. */
export const MAX_S3_KEY_BYTES = 1024
/**
 * Room a key needs on top of itself for its `--force` backup,
 * `.hysds-stac-backup/<tx>/<key>` (tx ids are `ingest-YYYYMMDD-HHMMSS-xxxxxxxx`).
 */
export const BACKUP_OVERHEAD_BYTES = ".hysds-stac-backup/".length + 64 + 1

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Letters, digits, `.`, `_`, `-`: a name only the dot-segment rule can refuse. */
const PLAIN_NAME = "[A-Za-z0-9._-]+"
const PLAIN = new RegExp(`^${PLAIN_NAME}$`)

const describeChar = (c: string): string => {
  const named: Record<string, string> = { "\n": "a newline", "\r": "a carriage return", "\t": "a tab", "\u007f": "DEL" }
  return named[c] ?? `the control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`
}

/** One percent-decoding, or undefined when the name has no valid escape left to decode. */
const decodeOnce = (s: string): string | undefined => {
  if (!s.includes("%")) return undefined
  // Decode each valid `%XX` run on its own, so a stray `%zz` elsewhere does not hide a `%2e%2e`.
  const out = s.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run)
    } catch {
      // Not UTF-8 as a whole: decode the ASCII escapes only (they are what forms `.`, `/`, `\`).
      return run.replace(/%([0-7][0-9a-fA-F])/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    }
  })
  return out === s ? undefined : out
}

const hasDotSegment = (s: string): boolean => s.split(/[/\\]/).some((seg) => seg === "." || seg === "..")

/**
 * Why `name` (one path segment as the job wrote it) cannot be published, or
 * undefined when it can. Checks the name itself, whatever the destination.
 */
export const problem = (name: string): string | undefined => {
  // Most names (every segment of every file of a large catalog) are plain: no
  // escape to decode, no separator, no control character, one byte per char;
  // only "." and ".." among them are refused, by the rule below.
  if (name.length <= MAX_SEGMENT_BYTES && name !== "." && name !== ".." && PLAIN.test(name)) return undefined
  if (name === "") return "the name is empty"
  const control = CONTROL.exec(name)
  if (control) return `the name contains ${describeChar(control[0])}, which cannot be published safely`
  if (LONE_SURROGATE.test(name)) return "the name is not valid Unicode (a lone surrogate)"
  if (name.includes("\ufffd")) return "the name is not valid UTF-8 (or holds U+FFFD), so it cannot be published under the name on disk"
  if (byteLength(name) > MAX_SEGMENT_BYTES) return `the name is ${byteLength(name)} bytes long; at most ${MAX_SEGMENT_BYTES} are allowed`
  // Every decoding a reader of the URL might apply: stop once nothing changes (bounded: each pass shortens).
  for (let s: string | undefined = name, depth = 0; s !== undefined; s = decodeOnce(s), depth++) {
    if (hasDotSegment(s) || (depth > 0 && CONTROL.test(s))) {
      return depth === 0
        ? `"${name}" is a "." or ".." path segment`
        : `the name decodes to ${JSON.stringify(s)}, a path climbing out of its directory (or holding a control character) for any reader that decodes URLs`
    }
  }
  return undefined
}

/** Plain names (see PLAIN) joined by "/", none empty. */
const PLAIN_PATH = new RegExp(`^${PLAIN_NAME}(?:/${PLAIN_NAME})*$`)

/**
 * Whether every segment of `relPath` passes `problem` at its first test, found
 * without splitting the path. Why: a catalog's plan checks hundreds of
 * thousands of paths, and a split makes an array and a string per segment of
 * each, all garbage at once at the plan's busiest point.
 */
const isPlainPath = (relPath: string): boolean => {
  if (!PLAIN_PATH.test(relPath)) return false
  for (let start = 0; start <= relPath.length; ) {
    const slash = relPath.indexOf("/", start)
    const end = slash < 0 ? relPath.length : slash
    const n = end - start
    const dots = relPath.charCodeAt(start) === 46 && (n === 1 || (n === 2 && relPath.charCodeAt(start + 1) === 46))
    if (n > MAX_SEGMENT_BYTES || dots) return false
    start = end + 1
  }
  return true
}

/** Why a whole relative path (`/`-separated names) cannot be published, naming the bad segment. */
export const pathProblem = (relPath: string): string | undefined => {
  if (isPlainPath(relPath)) return undefined
  for (const segment of relPath.split("/")) {
    const p = problem(segment)
    if (p !== undefined) return p
  }
  return undefined
}
