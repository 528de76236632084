/**
 * datasets.json: which products go where.
 *
 * The file is HySDS's, kept compatible so sites can reuse theirs (see the
 * reference notes). Loading does all the checking that can be done without a
 * product, so a config mistake stops the service at start-up, not half-way
 * through a publish: JSON syntax (with line and column), deploy-time settings,
 * the schema, the Python regexes, and every run-time variable a publish or
 * browse template uses. Each error names the file, the entry (index and
 * ipath) and the field.
 *
 * Decisions:
 * - Unknown fields are kept, at every level: sites add their own keys
 *   (`priority`, `s3-acl`...) and tools downstream may read them.
 * - `null` is read as "absent" for every optional field, as HySDS configs write
 *   `"alt_match_pattern": null`, `"extractor": null`.
 * - `publish` is optional, as in HySDS: a product of an entry without it is
 *   indexed (with `urls: []`) and nothing of it is uploaded, but its browse
 *   images when the entry has `browse`. A STAC catalog needs it (its hrefs are
 *   rewritten to the published URLs), which planning checks.
 * - Patterns are matched in time linear in the path (PyRegex, on RE2): the paths
 *   come from an untrusted job dir, and a backtracking engine lets a crafted name
 *   stall the process on a pattern such as `(a+)+$`. A pattern that needs
 *   backtracking (a backreference, lookaround...) is refused at load.
 */
import { FileSystem } from "@effect/platform"
import { Effect, Either, Option, ParseResult, Schema } from "effect"
import { ConfigError } from "./Errors.ts"
import * as PyRegex from "./PyRegex.ts"
import * as Template from "./Template.ts"

// ---------------------------------------------------------------------------
// Schema

/** Keeps fields we do not know about (see the module comment). */
const Extras = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** Optional, and `null` decodes to absent. `exact`: JSON has no `undefined`. */
const optional = <S extends Schema.Schema.Any>(schema: S) =>
  Schema.optionalWith(schema, { exact: true, nullable: true })

const Urls = Schema.optionalWith(Schema.Array(Schema.String), { exact: true, nullable: true, default: () => [] })

const Credentials = {
  "s3-profile-name": optional(Schema.String),
  "s3-api-key": optional(Schema.String),
  "s3-secret-key": optional(Schema.String)
}

/** Where a product directory is copied (`location`) and the URLs it is then reachable at. */
export const Publish = Schema.Struct({ location: Schema.String, urls: Urls, ...Credentials }, Extras)
export type Publish = typeof Publish.Type

/** Same for browse images; `sort_order` is kept as HySDS passes it on. */
export const Browse = Schema.Struct(
  { location: Schema.String, urls: Urls, sort_order: optional(Schema.Array(Schema.String)), ...Credentials },
  Extras
)
export type Browse = typeof Browse.Type

/** A custom index `grq_<suffix>` and its aliases. */
export const IndexSettings = Schema.Struct(
  { suffix: optional(Schema.String), aliases: optional(Schema.Array(Schema.String)) },
  Extras
)

/** One entry of `datasets`. */
export const DatasetEntry = Schema.Struct(
  {
    ipath: Schema.String.pipe(
      Schema.pattern(/^[^/]*\/.+$/, {
        message: () => "must look like <project>::data/<dataset> (the dataset is the part after the first '/')"
      })
    ),
    version: optional(Schema.String),
    level: Schema.NonEmptyString,
    type: Schema.NonEmptyString,
    match_pattern: Schema.String,
    alt_match_pattern: optional(Schema.String),
    extractor: optional(Schema.String),
    publish: optional(Publish),
    browse: optional(Browse),
    index: optional(IndexSettings)
  },
  Extras
)
export type DatasetEntry = typeof DatasetEntry.Type

/** The whole file: `{"datasets": [entry, ...]}`. */
export const DatasetsFile = Schema.Struct({ datasets: Schema.Array(DatasetEntry) }, Extras)

// ---------------------------------------------------------------------------
// Loaded configuration

/** An entry ready to match: decoded (extras kept) with its patterns compiled. */
export interface CompiledEntry {
  /** Position in `datasets`, for messages. */
  readonly index: number
  readonly entry: DatasetEntry
  /** The ipath. */
  readonly name: string
  /** The GRQ `dataset`: the ipath after its first `/`. */
  readonly dataset: string
  /** Matched in time linear in the path's length, whatever the pattern (issue 8: the
   * paths come from an untrusted job dir). */
  readonly match: PyRegex.Pattern
  readonly alt?: PyRegex.Pattern
}

export interface DatasetsConfig {
  readonly file: string
  readonly entries: ReadonlyArray<CompiledEntry>
}

/** Variables every product provides besides its match groups: the caller
 * passes them in `RuntimeVars.values`. `dataset[...]` and `met[...]` reach the
 * product's dataset.json and met.json. */
export const BUILTIN_VARIABLES: ReadonlyArray<string> = ["id", "version", "type", "level", "hostname"]
const DOCUMENT_ROOTS: ReadonlyArray<string> = ["dataset", "met"]

/** The template fields checked at load and rendered per product. */
const TEMPLATE_FIELDS = ["publish", "browse"] as const

type Path = ReadonlyArray<PropertyKey>

/** `["publish", "urls", 0]` → `publish.urls[0]`. */
const fieldName = (path: Path): string =>
  path.reduce<string>(
    (acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    ""
  )

/** `datasets[2] (hysds::data/area_of_interest)`: the index always, the ipath when known. */
const entryLabel = (index: number, ipath: unknown): string =>
  typeof ipath === "string" ? `datasets[${index}] (${ipath})` : `datasets[${index}]`

interface Where {
  readonly file?: string
  readonly entry?: string
  readonly field?: string
}

const configError = (where: Where, problem: string, hint?: string): ConfigError => {
  const prefix = [where.entry, where.field].filter((s) => s !== undefined && s !== "").join(": ")
  return new ConfigError({
    message: [where.file, prefix, problem].filter(Boolean).join(": "),
    ...(where.file === undefined ? {} : { file: where.file }),
    ...(where.entry === undefined ? {} : { entry: where.entry }),
    ...(where.field === undefined || where.field === "" ? {} : { field: where.field }),
    ...(hint === undefined ? {} : { hint })
  })
}

/** Splits a path inside the file into the entry it belongs to and the field within it. */
const locate = (file: string, raw: unknown, path: Path): Where => {
  const [top, index, ...rest] = path
  if (top !== "datasets" || typeof index !== "number") return { file, field: fieldName(path) }
  const entries = (raw as { datasets?: unknown }).datasets
  const entry = Array.isArray(entries) ? (entries[index] as { ipath?: unknown } | undefined) : undefined
  return { file, entry: entryLabel(index, entry?.ipath), field: fieldName(rest) }
}

// ---------------------------------------------------------------------------
// JSON syntax

/**
 * Offset of the first JSON syntax error. JavaScriptCore's `JSON.parse` messages
 * carry no position ("Expected '}'"), which is useless in a 500-line config; this
 * strict scanner runs only after `JSON.parse` failed, to find where.
 */
const jsonErrorOffset = (text: string): number => {
  let i = 0
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++
  }
  const string = (): boolean => {
    i++
    while (i < text.length) {
      const c = text[i]!
      if (c === '"') return (i++, true)
      if (c < " ") return false
      if (c === "\\") {
        const e = text[i + 1] ?? ""
        if (e !== "" && '"\\/bfnrt'.includes(e)) i += 2
        else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6
        else return false
      } else i++
    }
    return false
  }
  const value = (): boolean => {
    ws()
    const c = text[i]
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]"
      i++
      ws()
      if (text[i] === close) return (i++, true)
      for (;;) {
        ws()
        if (c === "{") {
          if (text[i] !== '"' || !string()) return false
          ws()
          if (text[i] !== ":") return false
          i++
        }
        if (!value()) return false
        ws()
        if (text[i] === ",") i++
        else if (text[i] === close) return (i++, true)
        else return false
      }
    }
    if (c === '"') return string()
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400))
    if (literal) return ((i += literal[0].length), true)
    return false
  }
  if (value()) ws()
  return i
}

const parseJson = (text: string, file: string): Either.Either<unknown, ConfigError> =>
  Either.try({
    try: () => JSON.parse(text) as unknown,
    catch: (e) => {
      const offset = jsonErrorOffset(text)
      const before = text.slice(0, offset).split("\n")
      const where = `line ${before.length}, column ${before.at(-1)!.length + 1}`
      const reason = e instanceof Error ? e.message.replace(/^JSON Parse error: /, "") : String(e)
      return configError({ file }, `malformed JSON at ${where}: ${reason}`)
    }
  })

// ---------------------------------------------------------------------------
// Loading

/** Renders deploy-time settings in every string value (never in keys, never in
 * the raw text, so a setting's value cannot break the JSON). */
const renderDeployValues = (
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: Path = []
): Either.Either<unknown, { readonly path: Path; readonly error: Template.TemplateError }> => {
  if (typeof value === "string") {
    return Either.mapLeft(Template.renderDeploy(value, env), (error) => ({ path, error }))
  }
  if (Array.isArray(value)) {
    return Either.all(value.map((v, i) => renderDeployValues(v, env, [...path, i])))
  }
  if (typeof value === "object" && value !== null) {
    const members = Object.entries(value).map(([key, v]) =>
      Either.map(renderDeployValues(v, env, [...path, key]), (rendered) => [key, rendered] as const)
    )
    return Either.map(Either.all(members), Object.fromEntries)
  }
  return Either.right(value)
}

/** A nullable field's union adds "Expected null, actual ..." next to the real problem
 * at the same place; only the real one helps the reader. */
const isUnionNoise = (issue: ParseResult.ArrayFormatterIssue): boolean =>
  /^Expected (null|undefined),/.test(issue.message)

const relevantIssues = (issues: ReadonlyArray<ParseResult.ArrayFormatterIssue>) =>
  issues.filter(
    (issue) =>
      !isUnionNoise(issue) ||
      !issues.some((other) => !isUnionNoise(other) && issue.path.every((key, i) => other.path[i] === key))
  )

const decode = Schema.decodeUnknownEither(DatasetsFile, { errors: "all" })

/** The compiled pattern (its named groups are the variables it provides). A
 * pattern is refused here, at load, when it needs backtracking (see PyRegex). */
const compilePattern = (where: Where, pattern: string): Either.Either<PyRegex.Pattern, ConfigError> =>
  Either.mapLeft(PyRegex.compile(pattern), (reason) =>
    configError(where, `invalid regular expression ${JSON.stringify(pattern)}: ${reason}`)
  )

/** Every publish/browse template with its field name. */
const templatesOf = (entry: DatasetEntry): ReadonlyArray<readonly [field: string, template: string]> =>
  TEMPLATE_FIELDS.flatMap((section) => {
    const target = entry[section]
    if (target === undefined) return []
    return [
      [`${section}.location`, target.location] as const,
      ...target.urls.map((url, i) => [`${section}.urls[${i}]`, url] as const)
    ]
  })

/** The static check: every variable a template uses is provided by a match group, a built-in or a document. */
const checkTemplates = (
  file: string,
  label: string,
  entry: DatasetEntry,
  groups: ReadonlySet<string>
): Either.Either<void, ConfigError> => {
  const known = [...groups, ...BUILTIN_VARIABLES.filter((b) => !groups.has(b))]
  const hint = `available: ${[...known, ...DOCUMENT_ROOTS.map((d) => `${d}[...]`)].join(", ")}`
  for (const [field, template] of templatesOf(entry)) {
    const where = { file, entry: label, field }
    const parsed = Template.parse(template)
    if (Either.isLeft(parsed)) return Either.left(configError(where, parsed.left.message))
    for (const segment of parsed.right) {
      if (segment._tag === "Text" || DOCUMENT_ROOTS.includes(segment.root)) continue
      if (!known.includes(segment.root)) {
        return Either.left(
          configError(
            where,
            `unknown variable ${segment.name}: ` +
              "it is neither a named group of match_pattern/alt_match_pattern nor a built-in",
            hint
          )
        )
      }
      if (segment.keys.length > 0) {
        return Either.left(
          configError(
            where,
            `variable ${segment.name}: ${segment.root} is a string; only dataset[...] and met[...] take [keys]`
          )
        )
      }
    }
  }
  return Either.void
}

const compileEntry = (file: string, entry: DatasetEntry, index: number): Either.Either<CompiledEntry, ConfigError> =>
  Either.gen(function* () {
    const label = entryLabel(index, entry.ipath)
    const match = yield* compilePattern({ file, entry: label, field: "match_pattern" }, entry.match_pattern)
    const alt =
      entry.alt_match_pattern === undefined
        ? undefined
        : yield* compilePattern({ file, entry: label, field: "alt_match_pattern" }, entry.alt_match_pattern)
    yield* checkTemplates(file, label, entry, new Set([...match.groups, ...(alt?.groups ?? [])]))
    const base = {
      index,
      entry,
      name: entry.ipath,
      dataset: entry.ipath.slice(entry.ipath.indexOf("/") + 1),
      match
    }
    return alt === undefined ? base : { ...base, alt }
  })

/**
 * Parses and checks datasets.json text. `file` is used in messages only; `env`
 * provides the deploy-time settings (usually `process.env`).
 */
export const parse = (
  text: string,
  file: string,
  env: Readonly<Record<string, string | undefined>>
): Either.Either<DatasetsConfig, ConfigError> =>
  Either.gen(function* () {
    const json = yield* parseJson(text, file)
    const raw = yield* Either.mapLeft(renderDeployValues(json, env), ({ error, path }) =>
      configError(
        locate(file, json, path),
        error.message,
        error.variable === undefined
          ? undefined
          : `set ${error.variable} or give it a default: {{ ${error.variable} | default('...') }}`
      )
    )
    const decoded = yield* Either.mapLeft(decode(raw), (error) => {
      const [first, ...others] = relevantIssues(ParseResult.ArrayFormatter.formatErrorSync(error))
      const where = locate(file, raw, first?.path ?? [])
      const more = others.map((o) => {
        const w = locate(file, raw, o.path)
        return `${[w.entry, w.field].filter(Boolean).join(": ")}: ${o.message}`
      })
      return configError(where, [first?.message ?? "invalid", ...more].join("; also "))
    })
    const entries = yield* Either.all(decoded.datasets.map((entry, index) => compileEntry(file, entry, index)))
    return { file, entries }
  })

/** Reads `file` and `parse`s it. */
export const load = (
  file: string,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<DatasetsConfig, ConfigError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs
      .readFileString(file)
      .pipe(Effect.mapError((e) => configError({ file }, `cannot read the datasets config: ${e.message}`)))
    return yield* parse(text, file, env)
  })

// ---------------------------------------------------------------------------
// Matching and rendering

/** The entry a product matched and the named groups its patterns captured. */
export interface Matched {
  readonly entry: CompiledEntry
  readonly groups: Readonly<Record<string, string>>
}

/**
 * The FIRST entry whose `match_pattern` is found in `productPath` (absolute,
 * as HySDS searches it) wins. An
 * `alt_match_pattern`, when set, is tried on the path and then, like HySDS, on
 * `productPath/<name>` for each of `fileNames` in the order given (pass them
 * sorted for a stable result); if none matches the entry is skipped. Its groups
 * are merged over the main ones.
 */
export const match = (
  config: DatasetsConfig,
  productPath: string,
  fileNames: ReadonlyArray<string>
): Option.Option<Matched> => {
  const dir = productPath.replace(/\/+$/, "")
  for (const entry of config.entries) {
    const main = entry.match.exec(productPath)
    if (main === null) continue
    if (entry.alt === undefined) return Option.some({ entry, groups: main.groups })
    const alt = entry.alt
    const altMatch = [productPath, ...fileNames.map((name) => `${dir}/${name}`)]
      .map((candidate) => alt.exec(candidate))
      .find((m) => m !== null)
    if (altMatch) return Option.some({ entry, groups: { ...main.groups, ...altMatch.groups } })
  }
  return Option.none()
}

/** A rendered destination: where to copy and the URLs recorded in GRQ. */
export interface Target {
  readonly location: string
  readonly urls: ReadonlyArray<string>
}

/** `location` is absent when the entry has no `publish` (then `urls` is empty). */
export interface Rendered {
  readonly location?: string
  readonly urls: ReadonlyArray<string>
  readonly browse?: Target
}

/**
 * Renders the matched entry's publish (and browse) templates for one product.
 * `vars.values` holds the built-ins (`id`, `version`, ...); the match groups are
 * laid over them, since HySDS lets a group named `version` or `type` win.
 */
export const renderPublish = (
  matched: Matched,
  vars: Template.RuntimeVars
): Either.Either<Rendered, ConfigError> => {
  const { entry, groups } = matched
  const { publish, browse } = entry.entry
  const all: Template.RuntimeVars = { ...vars, values: { ...vars.values, ...groups } }
  const label = entryLabel(entry.index, entry.name)
  const render = (field: string, template: string) =>
    Either.mapLeft(Template.renderRuntime(template, all), (error) =>
      configError(
        { entry: label, field },
        error.message,
        error.variable === undefined ? undefined : `no value for ${error.variable} for this product`
      )
    )
  const target = (section: "publish" | "browse", t: Publish | Browse) =>
    Either.all({
      location: render(`${section}.location`, t.location),
      urls: Either.all(t.urls.map((url, i) => render(`${section}.urls[${i}]`, url)))
    })
  return Either.gen(function* () {
    const main: Rendered = publish === undefined ? { urls: [] } : yield* target("publish", publish)
    if (browse === undefined) return main
    return { ...main, browse: yield* target("browse", browse) }
  })
}
