/**
 * The three template layers found in datasets.json files.
 *
 * 1. Deploy time, Jinja-style settings (`{{ STAC_S3_BUCKET | default('b') }}`),
 *    rendered once when the config is loaded. HySDS renders them with Jinja at
 *    deploy time (sdscli); we render them from the environment so one file works
 *    in every venue.
 * 2. Run time, Python `str.format` style (`{id}`, `{dataset[starttime]}`, `{{` for
 *    a literal brace), rendered per product. This is what HySDS's recognizer does.
 * 3. Run time, the older `${id}` form still found in example configs and in the
 *    HySDS STAC branch. Under `str.format` it would render as `$` + value, which is
 *    never what the author meant, so we read it as a variable of its own.
 *
 * Both run-time forms share one grammar, `str.format`'s replacement field: a
 * name, any number of `[key]` lookups, an optional conversion (`!s`, `!r`,
 * `!a`) and an optional format spec (`:>8`, `:.4`, `:03d`, `:,`), and values
 * render as Python renders them (PyFormat): `1.0` stays `1.0`, booleans are
 * `True`/`False`, null is `None`, a list is `['x', 'y']`. What `str.format`
 * offers beyond that (attributes `{a.b}`, positional fields `{0}`, nested
 * fields in a spec `{x:{w}}`) is refused with a reason rather than
 * half-supported, so a config never renders differently than it reads.
 */
import { Either, Predicate } from "effect"
import * as PyFormat from "./PyFormat.ts"

/** Why a template could not be rendered; `variable` is set when one is to blame. */
export interface TemplateError {
  readonly message: string
  readonly variable?: string
}

const fail = (message: string, variable?: string): Either.Either<never, TemplateError> =>
  Either.left(variable === undefined ? { message } : { message, variable })

// ---------------------------------------------------------------------------
// Deploy time

/**
 * `{{ NAME }}` or `{{ NAME | default('value') }}` (single or double quotes, no
 * escapes inside). Requiring whitespace after `{{` is the convention that tells a
 * deploy-time placeholder from a run-time literal `{{` such as `{{x}}`.
 */
const DEPLOY_EXPR = /^\{\{\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*default\s*\(\s*(?:'([^']*)'|"([^"]*)")\s*\)\s*)?\}\}/

/** Position of the next `{{` followed by whitespace, or -1. */
const nextDeploy = (text: string, from: number): number => {
  for (let i = text.indexOf("{{", from); i >= 0; i = text.indexOf("{{", i + 1)) {
    if (/\s/.test(text[i + 2] ?? "")) return i
  }
  return -1
}

/**
 * Renders deploy-time placeholders from `env`. Like Jinja's `default`, only an
 * unset variable (undefined) falls back to the default; an empty string is a value.
 * An unset variable without default is an error naming it: publishing to
 * `s3:///products` because a setting was forgotten is worse than not starting.
 */
export const renderDeploy = (
  text: string,
  env: Readonly<Record<string, string | undefined>>
): Either.Either<string, TemplateError> => {
  let out = ""
  let last = 0
  for (let start = nextDeploy(text, 0); start >= 0; start = nextDeploy(text, last)) {
    const m = DEPLOY_EXPR.exec(text.slice(start))
    if (!m) {
      const end = text.indexOf("}}", start)
      const expr = end < 0 ? text.slice(start) : text.slice(start, end + 2)
      return fail(
        `unsupported deploy-time expression ${expr}: only {{ NAME }} and {{ NAME | default('value') }} are understood`
      )
    }
    const [whole, name, single, double] = m
    const value = Object.hasOwn(env, name!) ? env[name!] : undefined
    const rendered = value ?? single ?? double
    if (rendered === undefined) {
      return fail(`deploy-time variable ${name} is not set and has no default`, name!)
    }
    out += text.slice(last, start) + rendered
    last = start + whole.length
  }
  return Either.right(out + text.slice(last))
}

// ---------------------------------------------------------------------------
// Run time

/** Values available to run-time templates. `values` holds plain names (`id`,
 * `version`, match groups...); `dataset` and `met` are the product's dataset.json
 * and met.json, reached with `{dataset[key]}` and `{met[key]}`; read with
 * PyJson.parse, their numbers render as Python's (`1.0` stays `1.0`). */
export interface RuntimeVars {
  readonly values: Readonly<Record<string, string>>
  readonly dataset?: Readonly<Record<string, unknown>>
  readonly met?: Readonly<Record<string, unknown>>
}

/** One piece of a parsed run-time template. `name` is the variable as written
 * (`dataset[starttime]`), `root` and `keys` its parts; `conversion` and `spec`
 * what follows `!` and `:` (absent when not written). */
export type Segment =
  | { readonly _tag: "Text"; readonly text: string }
  | {
    readonly _tag: "Field"
    readonly name: string
    readonly root: string
    readonly keys: ReadonlyArray<string>
    readonly conversion?: "s" | "r" | "a"
    readonly spec?: string
  }

/** A name, `[key]` lookups (a key may hold `!` and `:`, as in Python), then `!c` and `:spec`. */
const FIELD = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\]]*\])*)(?:!(.?))?(?::(.*))?$/s

const parseField = (body: string, at: number, written: string): Either.Either<Segment, TemplateError> => {
  const m = FIELD.exec(body)
  if (m) {
    const [, root, lookups, conversion, spec] = m
    if (conversion !== undefined && !["s", "r", "a"].includes(conversion)) {
      return fail(
        conversion === ""
          ? `${written} (position ${at}): end of string while looking for conversion specifier`
          : `${written} (position ${at}): unknown conversion specifier ${conversion} (Python knows !s, !r and !a)`
      )
    }
    if (spec !== undefined) {
      const problem = PyFormat.specProblem(spec)
      if (problem !== undefined) return fail(`${written} (position ${at}): ${problem}`)
    }
    const keys = lookups ? lookups.slice(1, -1).split("][") : []
    return Either.right({
      _tag: "Field",
      name: root! + (lookups ?? ""),
      root: root!,
      keys,
      ...(conversion !== undefined ? { conversion: conversion as "s" | "r" | "a" } : {}),
      ...(spec !== undefined ? { spec } : {})
    })
  }
  if (body === "" || /^\d/.test(body)) {
    return fail(`positional field ${written} at position ${at} is not supported: name the variable, e.g. {id}`)
  }
  if (/^[A-Za-z_]\w*(?:\[[^\]]*\])*\./.test(body)) {
    return fail(`attribute access in ${written} (position ${at}) is not supported: use [key]`)
  }
  return fail(`malformed field ${written} at position ${at}: expected {name} or {name[key]}`)
}

/**
 * Parses a run-time template into text and fields. `{{`/`}}` are literal braces
 * in the `str.format` form; a lone `{` or `}` is an error, as it is in Python.
 */
export const parse = (template: string): Either.Either<ReadonlyArray<Segment>, TemplateError> => {
  const segments: Array<Segment> = []
  let text = ""
  let i = 0
  const flushText = () => {
    if (text) segments.push({ _tag: "Text", text })
    text = ""
  }
  while (i < template.length) {
    const c = template[i]!
    const next = template[i + 1]
    const dollar = c === "$" && next === "{" && template[i + 2] !== "{"
    if (c === "{" && next === "{") {
      text += "{"
      i += 2
    } else if (c === "}" && next === "}") {
      text += "}"
      i += 2
    } else if (c === "}") {
      return fail(`single '}' at position ${i}: write '}}' for a literal brace`)
    } else if (c === "{" || dollar) {
      const open = dollar ? i + 1 : i
      const close = template.indexOf("}", open)
      const nested = template.indexOf("{", open + 1)
      if (close < 0) return fail(`single '{' at position ${open} has no closing '}': write '{{' for a literal brace`)
      const written = template.slice(i, close + 1)
      if (nested >= 0 && nested < close) {
        return fail(`nested braces in ${written} (position ${i}) are not supported`)
      }
      const field = parseField(template.slice(open + 1, close), i, written)
      if (Either.isLeft(field)) return Either.left(field.left)
      flushText()
      segments.push(field.right)
      i = close + 1
    } else {
      text += c
      i += 1
    }
  }
  flushText()
  return Either.right(segments)
}

/**
 * Names of the variables a run-time template uses, in order of first use, as
 * written (`id`, `dataset[starttime]`). Empty for a malformed template: call
 * `parse` to learn what is wrong with it.
 */
export const variables = (template: string): ReadonlyArray<string> =>
  Either.match(parse(template), {
    onLeft: () => [],
    onRight: (segments) => [
      ...new Set(segments.flatMap((s) => (s._tag === "Field" ? [s.name] : [])))
    ]
  })

/** Own properties only: `{constructor}` must not find Object.prototype.constructor. */
const lookup = (container: unknown, key: string): unknown => {
  if (Array.isArray(container)) return /^\d+$/.test(key) ? container[Number(key)] : undefined
  return Predicate.isRecord(container) && Object.hasOwn(container, key) ? container[key] : undefined
}

const resolve = (field: Extract<Segment, { _tag: "Field" }>, vars: RuntimeVars): unknown => {
  const root =
    field.root === "dataset" ? vars.dataset : field.root === "met" ? vars.met : lookup(vars.values, field.root)
  return field.keys.reduce(lookup, root)
}

/** `format(conversion(value), spec)`, as `str.format` does for one field. */
const show = (field: Extract<Segment, { _tag: "Field" }>, value: PyFormat.PyValue): Either.Either<string, TemplateError> => {
  const converted: PyFormat.PyValue =
    field.conversion === "r"
      ? { type: "str", value: PyFormat.repr(value) }
      : field.conversion === "a"
        ? { type: "str", value: PyFormat.repr(value, true) }
        : field.conversion === "s"
          ? { type: "str", value: PyFormat.str(value) }
          : value
  try {
    return Either.right(PyFormat.format(converted, field.spec ?? ""))
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e)
    const written = `{${field.name}${field.conversion ? "!" + field.conversion : ""}${field.spec !== undefined ? ":" + field.spec : ""}}`
    return fail(
      e instanceof PyFormat.Unsupported
        ? `${written}: ${why}`
        : `${written} cannot render this ${converted.type} value: ${why} (Python says the same)`,
      field.name
    )
  }
}

/**
 * Renders a run-time template (both `{x}` and `${x}` forms) as Python's
 * `str.format` would. A missing variable is an error naming it; `null` is
 * Python's `None` and renders as `None`, as HySDS renders it.
 */
export const renderRuntime = (template: string, vars: RuntimeVars): Either.Either<string, TemplateError> =>
  Either.flatMap(parse(template), (segments) => {
    let out = ""
    for (const s of segments) {
      if (s._tag === "Text") {
        out += s.text
        continue
      }
      const value = resolve(s, vars)
      if (value === undefined) return fail(`variable ${s.name} is not defined`, s.name)
      const shown = show(s, PyFormat.classify(value))
      if (Either.isLeft(shown)) return shown
      out += shown.right
    }
    return Either.right(out)
  })
