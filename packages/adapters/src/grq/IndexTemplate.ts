/**
 * GRQ's index template, one definition for Elasticsearch and OpenSearch.
 *
 * It follows grq2's template (what HySDS clusters already have), moved to
 * the composable `_index_template` API both engines support:
 * - the alias `grq` is in the template, so every `grq_<version>_<dataset>`
 *   index joins it the moment the first bulk request creates it; nothing
 *   needs to add it afterwards, and a product can never be written where the
 *   "exists" check (a search on the alias) does not look;
 * - the fields HySDS and the STAC bridge look up exactly are `keyword`;
 *   `location` is a `geo_shape` and `center` a `geo_point`, for spatial
 *   queries in GRQ's UI; the time fields are dates;
 * - every other string gets a `keyword` sub-field (ES's own default, and
 *   grq2's since ES 7), and is copied into `text_fields` for grq2's free-text search;
 * - `metadata.context` is stored but not indexed: jobs put arbitrary,
 *   inconsistently typed data there, which would otherwise cause mapping
 *   conflicts (the embedded index emulates exactly this, see DynamicMapping.ts).
 *
 * Deliberately unlike grq2: no `index.refresh_interval: 5s` (writes wait for
 * the refresh, see `refresh: wait_for`, and 5 s per bulk request is too
 * slow), and no custom default analyzer (it needs the `analysis-common`
 * module, absent from minimal distributions, and nothing here searches text).
 */
import { Predicate } from "effect"

export const NAME = "grq"
export const ALIAS = "grq"
export const PATTERN = "grq_*"

/** Bumped whenever the body changes, so `check` can tell an outdated install. */
export const VERSION = 1

/**
 * Above the built-in templates of Elasticsearch (`logs-*-*` etc. use 100 and
 * below) so that ours wins for `grq_*` should some other broad pattern match.
 */
export const PRIORITY = 200

/**
 * The date formats of ES's date detection: an explicit date field accepts
 * what a dynamically mapped one would, so a time string is never accepted
 * in one product field and refused in another.
 */
const DATE = {
  type: "date",
  format: "strict_date_optional_time||yyyy/MM/dd HH:mm:ss Z||yyyy/MM/dd Z||epoch_millis"
} as const

const KEYWORD = { type: "keyword", ignore_above: 1024 } as const

export const KEYWORD_FIELDS = [
  "id",
  "objectid",
  "dataset",
  "dataset_type",
  "dataset_level",
  "version",
  "system_version",
  "ipath",
  "stac_collection",
  "stac_item_id"
] as const

export const DATE_FIELDS = ["starttime", "endtime", "creation_timestamp", "@timestamp"] as const

export interface Options {
  /**
   * Map `location` as `geo_shape`. Elasticsearch has it in its spatial
   * module, which minimal distributions (the integration-test zip) lack;
   * there `location` is kept in `_source` but not indexed.
   */
  readonly geoShape: boolean
}

/** The `_index_template` body. */
export const body = (options: Options): Record<string, unknown> => ({
  index_patterns: [PATTERN],
  priority: PRIORITY,
  version: VERSION,
  _meta: { managed_by: "hysds-stac", geo_shape: options.geoShape },
  template: {
    aliases: { [ALIAS]: {} },
    mappings: {
      dynamic_templates: [
        {
          strings: {
            match_mapping_type: "string",
            mapping: {
              type: "text",
              norms: false,
              copy_to: "text_fields",
              fields: { keyword: { type: "keyword", ignore_above: 256 } }
            }
          }
        }
      ],
      properties: {
        ...Object.fromEntries(KEYWORD_FIELDS.map((f) => [f, KEYWORD])),
        ...Object.fromEntries(DATE_FIELDS.map((f) => [f, DATE])),
        location: options.geoShape ? { type: "geo_shape" } : { type: "object", enabled: false },
        center: { type: "geo_point" },
        text_fields: { type: "text", norms: false },
        metadata: { properties: { context: { type: "object", enabled: false } } }
      }
    }
  }
})

/**
 * What is wrong with an installed composable template for GRQ (undefined when
 * nothing): it must cover `grq_*` and put new indexes under the alias.
 */
export const problem = (installed: Record<string, unknown>): string | undefined => {
  const patterns = Array.isArray(installed["index_patterns"]) ? installed["index_patterns"] : [installed["index_patterns"]]
  if (!patterns.includes(PATTERN)) return `it does not cover ${PATTERN} (index_patterns: ${JSON.stringify(installed["index_patterns"])})`
  const template = Predicate.isRecord(installed["template"]) ? installed["template"] : {}
  const aliases = Predicate.isRecord(template["aliases"]) ? template["aliases"] : {}
  if (!(ALIAS in aliases)) return `it does not add new indexes to the alias ${ALIAS}`
  return undefined
}

/** The same for a legacy (`_template`) template, grq2's kind: `{index_patterns|template, aliases}`. */
export const legacyProblem = (installed: Record<string, unknown>): string | undefined => {
  const raw = installed["index_patterns"] ?? installed["template"]
  const patterns = Array.isArray(raw) ? raw : [raw]
  if (!patterns.includes(PATTERN)) return `it does not cover ${PATTERN}`
  const aliases = Predicate.isRecord(installed["aliases"]) ? installed["aliases"] : {}
  if (!(ALIAS in aliases)) return `it does not add new indexes to the alias ${ALIAS}`
  return undefined
}

/** The installed template's version, when it is ours. */
export const installedVersion = (installed: Record<string, unknown>): number | undefined =>
  typeof installed["version"] === "number" ? installed["version"] : undefined
