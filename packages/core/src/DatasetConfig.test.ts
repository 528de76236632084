import { BunContext } from "@effect/platform-bun"
import { describe, expect, test } from "bun:test"
import { Effect, Either, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as DatasetConfig from "./DatasetConfig.ts"
import type { ConfigError } from "./Errors.ts"

const STAC_ENTRY = `{"ipath": "hysds::stac/catalog", "version": "stac_catalog", "level": "catalog", "type": "stac_catalog", "match_pattern": "/(?P<id>stac_catalog_.+)$", "publish": {"location": "s3://{{ STAC_S3_BUCKET | default('hysds-stac-catalogs') }}/catalogs/\${id}", "urls": ["https://{{ STAC_DATA_URL | default('stac-data.example.com') }}/catalogs/\${id}"]}}`

const AOI_ENTRY = {
  ipath: "hysds::data/area_of_interest",
  match_pattern: "/(?P<id>AOI_.+)$",
  alt_match_pattern: null,
  extractor: null,
  level: "l0",
  type: "area_of_interest",
  priority: 5,
  publish: {
    "s3-profile-name": "default",
    "s3-acl": "private",
    location: "s3://{{ DATASET_S3_ENDPOINT }}:80/{{ DATASET_BUCKET }}/datasets/{type}/{version}/{dataset[starttime]}/{id}",
    urls: [
      "http://{{ DATASET_BUCKET }}.{{ DATASET_S3_WEBSITE_ENDPOINT }}/datasets/{type}/{version}/{id}",
      "s3://{{ DATASET_S3_ENDPOINT }}:80/{{ DATASET_BUCKET }}/datasets/{type}/{version}/{id}"
    ]
  },
  browse: {
    "s3-profile-name": "default",
    location: "s3://{{ DATASET_S3_ENDPOINT }}:80/{{ DATASET_BUCKET }}/browse/{type}/{version}/{id}",
    urls: ["http://{{ DATASET_BUCKET }}.{{ DATASET_S3_WEBSITE_ENDPOINT }}/browse/{type}/{version}/{id}"],
    sort_order: ["browse.png"]
  },
  index: { suffix: "aoi", aliases: ["grq_aoi_all"] }
}

const SLC_ENTRY = {
  ipath: "ariamh::data/S1-IW_SLC",
  version: "v1.0",
  level: "L1",
  type: "slc",
  match_pattern: "/(?P<id>S1\\w_IW_SLC.+)$",
  alt_match_pattern: "(?P<year>\\d{4})(?P<month>\\d{2})(?P<day>\\d{2})T\\d{6}\\.zip$",
  publish: {
    location: "s3://{{ DATASET_S3_ENDPOINT }}:80/{{ DATASET_BUCKET }}/datasets/{type}/{year}/{month}/{day}/{id}",
    urls: ["https://{{ DATASET_BUCKET }}/datasets/{type}/{year}/{month}/{day}/{id}"]
  }
}

const ENV = {
  DATASET_S3_ENDPOINT: "s3-us-west-2.amazonaws.com",
  DATASET_BUCKET: "ops-bucket",
  DATASET_S3_WEBSITE_ENDPOINT: "s3-website-us-west-2.amazonaws.com"
}

const file = (...entries: ReadonlyArray<unknown>) =>
  `{"datasets": [${entries.map((e) => (typeof e === "string" ? e : JSON.stringify(e))).join(",\n")}]}`

const parse = (text: string, env: Record<string, string | undefined> = ENV) =>
  Either.getOrThrow(DatasetConfig.parse(text, "datasets.json", env))
const parseError = (text: string, env: Record<string, string | undefined> = ENV): ConfigError =>
  Either.getOrThrow(Either.flip(DatasetConfig.parse(text, "datasets.json", env)))

const matchOf = (config: DatasetConfig.DatasetsConfig, dir: string, names: ReadonlyArray<string> = []) =>
  Option.getOrThrow(DatasetConfig.match(config, dir, names))

const builtins = (id: string, extra: Record<string, string> = {}) => ({ id, version: "v1.0", ...extra })

describe("DatasetConfig: the STAC catalog entry", () => {
  const render = (env: Record<string, string | undefined>) => {
    const config = parse(file(STAC_ENTRY), env)
    const matched = matchOf(config, "/job/stac_catalog_20240101")
    expect(matched.groups).toEqual({ id: "stac_catalog_20240101" })
    return Either.getOrThrow(
      DatasetConfig.renderPublish(matched, { values: builtins("stac_catalog_20240101", { type: "stac_catalog", level: "catalog" }) })
    )
  }

  test("renders with defaults when the environment is unset", () => {
    expect(render({})).toEqual({
      location: "s3://hysds-stac-catalogs/catalogs/stac_catalog_20240101",
      urls: ["https://stac-data.example.com/catalogs/stac_catalog_20240101"]
    })
  })

  test("uses STAC_S3_BUCKET when set", () => {
    expect(render({ STAC_S3_BUCKET: "b" })).toEqual({
      location: "s3://b/catalogs/stac_catalog_20240101",
      urls: ["https://stac-data.example.com/catalogs/stac_catalog_20240101"]
    })
  })

  test("compiled entry fields", () => {
    const [entry] = parse(file(STAC_ENTRY), {}).entries
    expect(entry!.index).toBe(0)
    expect(entry!.name).toBe("hysds::stac/catalog")
    expect(entry!.dataset).toBe("catalog")
    expect(entry!.alt).toBeUndefined()
    expect(entry!.entry.version).toBe("stac_catalog")
  })
})

describe("DatasetConfig: classic HySDS entries", () => {
  const config = parse(file(SLC_ENTRY, AOI_ENTRY))

  test("null alt_match_pattern and extractor read as absent; extras kept at every level", () => {
    const aoi = config.entries[1]!
    expect(aoi.alt).toBeUndefined()
    expect("alt_match_pattern" in aoi.entry).toBe(false)
    expect("extractor" in aoi.entry).toBe(false)
    expect(aoi.entry["priority"]).toBe(5)
    expect(aoi.entry.publish!["s3-acl"]).toBe("private")
    expect(aoi.entry.publish!["s3-profile-name"]).toBe("default")
    expect(aoi.entry.browse?.sort_order).toEqual(["browse.png"])
    expect(aoi.entry.index).toEqual({ suffix: "aoi", aliases: ["grq_aoi_all"] })
    expect(aoi.dataset).toBe("area_of_interest")
  })

  test("s3://host:port/bucket/prefix location, browse and {dataset[starttime]}", () => {
    const matched = matchOf(config, "/data/work/jobs/job-1/AOI_tibet", ["AOI_tibet.dataset.json"])
    expect(matched.entry.name).toBe("hysds::data/area_of_interest")
    const rendered = DatasetConfig.renderPublish(matched, {
      values: builtins("AOI_tibet", { type: "area_of_interest", level: "l0", hostname: "worker-1" }),
      dataset: { starttime: "2024-01-01T00:00:00Z" }
    })
    expect(Either.getOrThrow(rendered)).toEqual({
      location:
        "s3://s3-us-west-2.amazonaws.com:80/ops-bucket/datasets/area_of_interest/v1.0/2024-01-01T00:00:00Z/AOI_tibet",
      urls: [
        "http://ops-bucket.s3-website-us-west-2.amazonaws.com/datasets/area_of_interest/v1.0/AOI_tibet",
        "s3://s3-us-west-2.amazonaws.com:80/ops-bucket/datasets/area_of_interest/v1.0/AOI_tibet"
      ],
      browse: {
        location: "s3://s3-us-west-2.amazonaws.com:80/ops-bucket/browse/area_of_interest/v1.0/AOI_tibet",
        urls: ["http://ops-bucket.s3-website-us-west-2.amazonaws.com/browse/area_of_interest/v1.0/AOI_tibet"]
      }
    })
  })

  test("alt_match_pattern groups come from a file of the product directory", () => {
    const id = "S1A_IW_SLC__1SDV_run7"
    const matched = matchOf(config, `/jobs/j/${id}`, [`${id}.dataset.json`, "S1A_IW_SLC__20240317T101010.zip"])
    expect(matched.groups).toEqual({ id, year: "2024", month: "03", day: "17" })
    const rendered = Either.getOrThrow(DatasetConfig.renderPublish(matched, { values: builtins(id, { type: "slc" }) }))
    expect(rendered.location).toBe(`s3://s3-us-west-2.amazonaws.com:80/ops-bucket/datasets/slc/2024/03/17/${id}`)
    expect(rendered.browse).toBeUndefined()
  })

  test("alt_match_pattern is tried on the path first", () => {
    const dir = "/jobs/S1B_IW_SLC__20230102T030405.zip"
    expect(matchOf(config, dir, ["S1B_IW_SLC__20240317T101010.zip"]).groups).toMatchObject({ year: "2023" })
  })

  test("an entry whose alt_match_pattern finds nothing is skipped", () => {
    expect(Option.isNone(DatasetConfig.match(config, "/jobs/j/S1A_IW_SLC_no_zip", ["readme.txt"]))).toBe(true)
  })

  test("no entry matches", () => {
    expect(Option.isNone(DatasetConfig.match(config, "/jobs/j/other", []))).toBe(true)
  })

  test("a variable with no value for this product names entry, field and variable", () => {
    const matched = matchOf(config, "/jobs/AOI_x")
    const error = Either.getOrThrow(Either.flip(DatasetConfig.renderPublish(matched, { values: builtins("AOI_x", { type: "t" }) })))
    expect(error._tag).toBe("ConfigError")
    expect(error.entry).toBe("datasets[1] (hysds::data/area_of_interest)")
    expect(error.field).toBe("publish.location")
    expect(error.message).toContain("dataset[starttime]")
  })

  test("match groups win over the caller's built-ins, as in HySDS", () => {
    const entry = { ...SLC_ENTRY, match_pattern: "/(?P<type>S1\\w)_(?P<id>.+)$", alt_match_pattern: null }
    const c = parse(file({ ...entry, publish: { location: "s3://b/{type}/{version}/{id}" } }))
    const matched = matchOf(c, "/j/S1A_rest")
    const rendered = DatasetConfig.renderPublish(matched, { values: { id: "S1A_rest", type: "slc", version: "v1" } })
    expect(Either.getOrThrow(rendered).location).toBe("s3://b/S1A/v1/rest")
  })
})

describe("DatasetConfig.match", () => {
  test("the first matching entry wins", () => {
    const general = { ...AOI_ENTRY, ipath: "hysds::data/any", match_pattern: "/(?P<id>[^/]+)$", browse: null }
    const config = parse(file(general, AOI_ENTRY))
    expect(matchOf(config, "/j/AOI_x").entry.name).toBe("hysds::data/any")
    const reversed = parse(file(AOI_ENTRY, general))
    expect(matchOf(reversed, "/j/AOI_x").entry.name).toBe("hysds::data/area_of_interest")
    expect(matchOf(reversed, "/j/other").entry.index).toBe(1)
  })

  test("groups that did not take part in the match are omitted", () => {
    const config = parse(file({ ...AOI_ENTRY, match_pattern: "/(?P<id>AOI_(?P<region>[a-z]+)?.*)$", browse: null }))
    expect(matchOf(config, "/j/AOI_42").groups).toEqual({ id: "AOI_42" })
  })
})

describe("DatasetConfig.match: hostile paths against catastrophic patterns (issue 8, ReDoS)", () => {
  // On a backtracking engine `(a+)+` followed by a failing `$` tries about 2^n
  // ways to split n `a`s. JavaScriptCore gives up after a step budget and
  // answers "no match", which is a WRONG answer when a later alternative (or a
  // later entry) does match: the product is silently misrouted, after seconds of
  // a blocked event loop. Matched in linear time the right answer comes at once.
  // Only answers are asserted here; latency is test/security/Redos.test.ts's job.
  const aaa = "a".repeat(40)
  const hostile = `/jobs/j/${aaa}!`

  test("match_pattern with (a+)+ finds the alternative that matches a 40-char adversarial path", () => {
    const config = parse(file({ ...AOI_ENTRY, match_pattern: "/(?P<id>(a+)+|[^/]*!)$", browse: null }))
    expect(matchOf(config, hostile).groups).toEqual({ id: `${aaa}!` })
    expect(matchOf(config, `/jobs/j/${aaa}`).groups).toEqual({ id: aaa })
  })

  test("(a*)*$ matches (the empty string at the end), as Python says", () => {
    const config = parse(file({ ...AOI_ENTRY, match_pattern: "(a*)*$", publish: { location: "s3://b/{id}" }, browse: null }))
    expect(matchOf(config, hostile).entry.index).toBe(0)
  })

  test("alt_match_pattern with (a+)+ is tried on the path and every file name", () => {
    const alt = "(?P<year>\\d{4})(?P<month>\\d{2})(?P<day>\\d{2})((a+)+|a*!)$"
    const config = parse(file({ ...SLC_ENTRY, match_pattern: "/(?P<id>[^/]+)$", alt_match_pattern: alt }))
    expect(Option.isNone(DatasetConfig.match(config, hostile, [`${aaa}!`, `2024${aaa}!`]))).toBe(true)
    expect(matchOf(config, hostile, [`${aaa}!`, `20240317${aaa}!`]).groups).toMatchObject({ year: "2024", month: "03", day: "17" })
  })
})

describe("DatasetConfig.parse errors", () => {
  test("malformed JSON reports line and column", () => {
    const e = parseError(`{"datasets": [\n  {"ipath": "a/b",\n   "level": x}\n]}`)
    expect(e.message).toContain("malformed JSON at line 3, column 13")
    expect(e.file).toBe("datasets.json")
    expect(parseError(`{"datasets": [],}`).message).toContain("line 1, column 17")
    expect(parseError(``).message).toContain("line 1, column 1")
  })

  test("schema errors name the entry and the field", () => {
    const e = parseError(file(STAC_ENTRY, { ...AOI_ENTRY, publish: { urls: ["x"] } }))
    expect(e.entry).toBe("datasets[1] (hysds::data/area_of_interest)")
    expect(e.field).toBe("publish.location")
    expect(e.message).toContain("is missing")

    const wrongType = parseError(file({ ...AOI_ENTRY, publish: { ...AOI_ENTRY.publish, urls: ["ok", 3] } }))
    expect(wrongType.field).toBe("publish.urls[1]")
    expect(wrongType.message).toContain("Expected string, actual 3")
    expect(wrongType.message).not.toContain("Expected null")

    const noIpath = parseError(file({ ...AOI_ENTRY, ipath: undefined }))
    expect(noIpath.entry).toBe("datasets[0]")
    expect(noIpath.field).toBe("ipath")

    expect(parseError(file({ ...AOI_ENTRY, ipath: "no-slash" })).message).toContain("part after the first '/'")
    expect(parseError(file({ ...AOI_ENTRY, publish: 3 })).field).toBe("publish")
    expect(parseError(`{"datasets": {}}`).field).toBe("datasets")
  })

  test("an entry without publish loads, as HySDS accepts it (its products are indexed, not uploaded)", () => {
    for (const publish of [undefined, null]) {
      const config = parse(file({ ...AOI_ENTRY, publish }))
      expect(config.entries[0]!.entry.publish).toBeUndefined()
    }
  })

  test("every schema problem is listed", () => {
    const e = parseError(file({ ...AOI_ENTRY, level: 1, type: 2 }))
    expect(e.field).toBe("level")
    expect(e.message).toContain("type: Expected string, actual 2")
  })

  test("a bad regex names the entry and the field", () => {
    const e = parseError(file(AOI_ENTRY, { ...SLC_ENTRY, alt_match_pattern: "(?P<year>\\d{4}" }))
    expect(e.entry).toBe("datasets[1] (ariamh::data/S1-IW_SLC)")
    expect(e.field).toBe("alt_match_pattern")
    expect(e.message).toContain(`invalid regular expression "(?P<year>\\\\d{4}": missing closing )`)
    const untranslatable = parseError(file({ ...AOI_ENTRY, match_pattern: "(?x) AOI _ \\N{EM DASH} .+" }))
    expect(untranslatable.field).toBe("match_pattern")
    expect(untranslatable.message).toContain("\\N{EM DASH}")
  })

  test("a pattern that needs backtracking is refused at load, naming entry, field, construct and why", () => {
    const e = parseError(file(AOI_ENTRY, { ...SLC_ENTRY, alt_match_pattern: "(?P<year>\\d{4})(?P=year)" }))
    expect(e.entry).toBe("datasets[1] (ariamh::data/S1-IW_SLC)")
    expect(e.field).toBe("alt_match_pattern")
    expect(e.message).toBe(
      `datasets.json: datasets[1] (ariamh::data/S1-IW_SLC): alt_match_pattern: invalid regular expression "(?P<year>\\\\d{4})(?P=year)": ` +
        "(?P=year) at position 15 is a backreference, which needs a backtracking regex engine; " +
        "hysds-stac matches datasets.json patterns in linear time to stay safe with untrusted job dirs; rewrite the pattern without it"
    )
    const lookahead = parseError(file({ ...AOI_ENTRY, match_pattern: "/(?P<id>AOI_(?!test).+)$" }))
    expect(lookahead.entry).toBe("datasets[0] (hysds::data/area_of_interest)")
    expect(lookahead.field).toBe("match_pattern")
    expect(lookahead.message).toContain("(?!...) at position 12 is a negative lookahead assertion")
  })

  test("an unknown run-time variable names entry, field and variable", () => {
    const e = parseError(file({ ...SLC_ENTRY, alt_match_pattern: null }))
    expect(e.entry).toBe("datasets[0] (ariamh::data/S1-IW_SLC)")
    expect(e.field).toBe("publish.location")
    expect(e.message).toContain("unknown variable year")
    expect(e.hint).toContain("id")

    const inUrl = parseError(file({ ...AOI_ENTRY, browse: { ...AOI_ENTRY.browse, urls: ["http://x/${product}"] } }))
    expect(inUrl.field).toBe("browse.urls[0]")
    expect(inUrl.message).toContain("unknown variable product")
  })

  test("malformed run-time templates and keys on plain strings are refused at load", () => {
    const unbalanced = parseError(file({ ...AOI_ENTRY, publish: { location: "s3://b/{id" } }))
    expect(unbalanced.field).toBe("publish.location")
    expect(unbalanced.message).toContain("single '{'")
    const keyed = parseError(file({ ...AOI_ENTRY, publish: { location: "s3://b/{id[0]}" } }))
    expect(keyed.message).toContain("only dataset[...] and met[...] take [keys]")
    const spec = parseError(file({ ...AOI_ENTRY, publish: { location: "s3://b/{dataset[starttime]:%Y}" } }))
    expect(spec.message).toContain("invalid format specifier")
  })

  test("built-ins, dataset[...] and met[...] are accepted", () => {
    const location = "s3://b/{hostname}/{level}/{type}/{version}/{met[track]}/{dataset[a][b]}/{id}"
    expect(parse(file({ ...AOI_ENTRY, browse: null, publish: { location } })).entries).toHaveLength(1)
  })

  test("an unset deploy-time setting names the variable, the entry and the field", () => {
    const e = parseError(file(STAC_ENTRY, AOI_ENTRY), { DATASET_BUCKET: "b" })
    expect(e.entry).toBe("datasets[1] (hysds::data/area_of_interest)")
    expect(e.field).toBe("publish.location")
    expect(e.message).toContain("DATASET_S3_ENDPOINT")
    expect(e.hint).toContain("DATASET_S3_ENDPOINT")
  })

  test("a setting's value cannot break the JSON: only string values are rendered", () => {
    const config = parse(file(STAC_ENTRY), { STAC_S3_BUCKET: 'quote"d' })
    const rendered = DatasetConfig.renderPublish(matchOf(config, "/j/stac_catalog_1"), { values: { id: "stac_catalog_1" } })
    expect(Either.getOrThrow(rendered).location).toBe('s3://quote"d/catalogs/stac_catalog_1')
  })
})

describe("DatasetConfig.load", () => {
  const run = <A>(effect: Effect.Effect<A, ConfigError, never>) => Effect.runPromise(Effect.either(effect))
  const provide = <A>(effect: Effect.Effect<A, ConfigError, import("@effect/platform").FileSystem.FileSystem>) =>
    run(effect.pipe(Effect.provide(BunContext.layer)))

  test("reads and parses a file; extra top-level keys are fine", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dc-"))
    const f = path.join(dir, "datasets.json")
    fs.writeFileSync(f, `{"comment": "ops", "datasets": [${STAC_ENTRY}]}`)
    const result = await provide(DatasetConfig.load(f, {}))
    expect(Either.isRight(result) && result.right.file).toBe(f)
    expect(Either.isRight(result) && result.right.entries.length).toBe(1)
  })

  test("a missing file is a ConfigError naming it", async () => {
    const f = path.join(os.tmpdir(), "no-such-dir-dc", "datasets.json")
    const result = await provide(DatasetConfig.load(f, {}))
    const error = Either.getOrThrow(Either.flip(result))
    expect(error._tag).toBe("ConfigError")
    expect(error.file).toBe(f)
    expect(error.message).toContain("cannot read")
  })
})
