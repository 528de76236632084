/**
 * One string for many equal ones: the first seen of each is kept in a table
 * and given back for every later copy, so that a record held per item points
 * at a shared string instead of holding a copy of its own.
 *
 * Bounded: the table is emptied when it reaches `bound` strings, so input
 * whose strings all differ costs a table of at most that many, never one per
 * string (interning is then only less effective, never wrong).
 */
export const table = (bound: number): ((s: string) => string) => {
  const seen = new Map<string, string>()
  return (s) => {
    const known = seen.get(s)
    if (known !== undefined) return known
    if (seen.size >= bound) seen.clear()
    seen.set(s, s)
    return s
  }
}

/**
 * A copy of the path `s` with characters of its own, when it was sliced from
 * a longer string. Why: the engine (JavaScriptCore) makes a slice of a long
 * string a view of it, and a view keeps the whole string alive; a record that
 * keeps a short relative path sliced from a long absolute one holds both.
 * Joining its parts again makes new characters (measured: 100,000 relative
 * paths sliced from absolute ones, 16.3 MiB of heap kept, 6.3 once joined). A
 * path with no "/" may come back as it was: a tree has few of those.
 */
export const detached = (s: string): string => s.split("/").join("/")
