/**
 * For tests that try many generated inputs: a small deterministic generator,
 * so the same seed gives the same inputs and a failure reproduces.
 */

/** Numbers uniform in [0, 1) from a linear congruential generator started at `seed`. */
export const seeded = (seed: number): (() => number) => {
  let state = seed
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648
}

/** A string of `min` to `max` pieces, each picked from `pieces`. */
export const joined = (next: () => number, pieces: ReadonlyArray<string>, min: number, max: number): string => {
  let s = ""
  const n = min + Math.floor(next() * (max - min + 1))
  for (let j = 0; j < n; j++) s += pieces[Math.floor(next() * pieces.length)]
  return s
}
