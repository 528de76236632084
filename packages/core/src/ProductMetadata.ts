/**
 * A classic product's metadata (`met` in templates, `metadata` in GRQ), as
 * HySDS 3.3 finds it: `<id>.met.json` when the product has one; else, when its
 * datasets.json entry names an `extractor`, the JSON the extractor prints for
 * `[extractor, product_dir]`, with `data_product_name` set to the id and a
 * seed `met.json` of the product dir merged over it; else `{}`.
 *
 * HySDS then writes the result as `<id>.met.json` into the product dir and
 * deletes the seed, before publishing. Here the job dir is not changed: the
 * planned product publishes the extracted `<id>.met.json` from memory (bytes
 * as Python's `json.dump(indent=2)` writes them) in place of the seed. A dry
 * run, `check`, or an ingest that fails and rolls back leaves the job dir
 * exactly as the job wrote it, so there is nothing to restore; what is
 * published is what HySDS publishes.
 *
 * The extractor's program string is expanded as HySDS expands it:
 * `$VAR`/`${VAR}` from the environment (left as written when unset, as
 * Python's `os.path.expandvars` does), and a `script:` prefix dropped.
 */
import { Effect, Predicate } from "effect"
import type { Problem } from "./Errors.ts"
import { Extractor } from "./Extractor.ts"
import * as PyJson from "./PyJson.ts"

/** The seed file an extractor's output is merged with (and which HySDS then deletes). */
export const SEED_NAME = "met.json"

/** How much of an extractor's stderr a message shows. */
export const STDERR_TAIL_CHARS = 2000

/** `os.path.expandvars`: `$NAME` and `${NAME}` from `env`; unknown ones stay as written. */
export const expandVars = (text: string, env: Readonly<Record<string, string | undefined>>): string =>
  text.replace(/\$(\w+|\{[^}]*\})/g, (whole, name: string) => {
    const key = name.startsWith("{") ? name.slice(1, -1) : name
    const value = Object.hasOwn(env, key) ? env[key] : undefined
    return value ?? whole
  })

/** The program HySDS would run for an entry's `extractor` value. */
export const program = (extractor: string, env: Readonly<Record<string, string | undefined>>): string => {
  const expanded = expandVars(extractor, env)
  const script = /script:(.*)$/s.exec(expanded)
  return script ? script[1]! : expanded
}

const tail = (text: string): string => {
  const t = text.trimEnd()
  return t.length > STDERR_TAIL_CHARS ? "..." + t.slice(-STDERR_TAIL_CHARS) : t
}

const stderrPart = (stderr: string): string => {
  const t = tail(stderr)
  return t === "" ? " (it wrote nothing to stderr)" : `; its stderr ends with:\n${t}`
}

/** The extracted metadata (numbers as PyJson reads them), and the bytes of `<id>.met.json` HySDS would write for it. */
export interface Extracted {
  readonly met: Record<string, unknown>
  readonly bytes: Uint8Array
}

/**
 * Runs the extractor and builds the metadata. Every failure is a Problem naming
 * the product dir: an extractor that cannot start, exits non-zero, runs over
 * its time limit, prints too much or prints anything but a JSON object, and a
 * seed met.json that is not a JSON object. `seed` is the seed file's parsed
 * content, when the product has one.
 */
export const extract = (options: {
  readonly extractor: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly dir: string
  readonly id: string
  readonly seed?: { readonly file: string; readonly json: unknown }
}): Effect.Effect<Extracted, Problem, Extractor> =>
  Effect.gen(function* () {
    const extractor = yield* Extractor
    const prog = program(options.extractor, options.env)
    const fail = (message: string) =>
      Effect.fail<Problem>({ file: options.dir, path: "", message: `product ${options.id}: ${message}` })
    const run = yield* extractor.run(prog, options.dir)
    if (run.startError !== undefined) return yield* fail(`the extractor ${prog} could not be started: ${run.startError}`)
    if (run.timedOut) {
      return yield* fail(
        `the extractor ${prog} ran longer than ${extractor.timeoutMillis / 1000} s and was stopped (HYSDS_STAC_EXTRACTOR_TIMEOUT)${stderrPart(run.stderrTail)}`
      )
    }
    if (run.stdoutTruncated) return yield* fail(`the extractor ${prog} printed more than hysds-stac reads as metadata and was stopped`)
    if (run.exitCode !== 0) {
      const how = run.exitCode === null ? `was killed by ${run.signal ?? "a signal"}` : `exited with status ${run.exitCode}`
      return yield* fail(`the extractor ${prog} ${how}${stderrPart(run.stderrTail)}`)
    }
    let parsed: unknown
    try {
      parsed = PyJson.parse(run.stdout)
    } catch (e) {
      return yield* fail(
        `the extractor ${prog} did not print JSON (${e instanceof Error ? e.message : String(e)})${stderrPart(run.stderrTail)}`
      )
    }
    if (!Predicate.isRecord(parsed)) return yield* fail(`the extractor ${prog} printed JSON that is not an object`)
    // As HySDS: `metadata["data_product_name"] = id`, then `metadata.update(seed)`.
    const met: Record<string, unknown> = parsed
    met.data_product_name = options.id
    if (options.seed !== undefined) {
      if (!Predicate.isRecord(options.seed.json)) {
        return yield* Effect.fail<Problem>({ file: options.seed.file, path: "", message: "seed metadata must be a JSON object" })
      }
      // Defined, not assigned: a hostile seed's own `__proto__` key must stay a plain key.
      for (const [key, value] of Object.entries(options.seed.json)) {
        Object.defineProperty(met, key, { value, enumerable: true, writable: true, configurable: true })
      }
    }
    return { met, bytes: new TextEncoder().encode(PyJson.dumpUnsorted(met)) }
  })
