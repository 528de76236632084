/**
 * GrqIndex on a real search engine (Elasticsearch or OpenSearch), written
 * once over {@link Engine.Engine}; OpenSearchIndex.ts and
 * ElasticsearchIndex.ts only supply the engine.
 *
 * Same semantics as the embedded SqliteIndex, so the shared contract suite
 * holds for all three. One module per concern: BulkWrites (bulk requests:
 * chunking, throttled items, rejections; `bulkIndex`, `remove`), Lookups
 * (`find`, `list` by scroll), Aliases (an entry's `index.aliases`), TemplateAdmin (engine identity, health, the
 * index template and alias: `check`, `init`), over GrqCalls (one retried,
 * traced request; errors with hints).
 */
import { Effect, Layer, type Scope } from "effect"
import { type Errors, GrqIndex } from "@hysds-stac/core"
import * as Aliases from "./Aliases.ts"
import * as BulkWrites from "./BulkWrites.ts"
import * as Config from "./Config.ts"
import type { Connection } from "./Config.ts"
import type * as Engine from "./Engine.ts"
import * as GrqCalls from "./GrqCalls.ts"
import * as Lookups from "./Lookups.ts"
import * as TemplateAdmin from "./TemplateAdmin.ts"

export { chunk } from "./BulkWrites.ts"

export const make = (engine: Engine.Engine, connection: Connection): GrqIndex.GrqIndexShape => {
  const g = GrqCalls.make(engine, connection)
  return {
    check: TemplateAdmin.check(g),
    init: TemplateAdmin.init(g),
    find: Lookups.find(g),
    findMany: Lookups.findMany(g),
    bulkIndex: BulkWrites.bulkIndex(g),
    refresh: BulkWrites.refresh(g),
    remove: BulkWrites.remove(g),
    list: Lookups.list(g),
    aliasesOf: Aliases.aliasesOf(g),
    addAliases: Aliases.addAliases(g),
    removeAliases: Aliases.removeAliases(g)
  }
}

/** The GrqIndex layer over the engine an adapter builds from its resolved connection. */
export const layerOver =
  (engine: (connection: Config.Connection) => Effect.Effect<Engine.Engine, never, Scope.Scope>) =>
  (config: Config.GrqConfig): Layer.Layer<GrqIndex.GrqIndex, Errors.ConfigError> =>
    Layer.scoped(
      GrqIndex.GrqIndex,
      Effect.gen(function* () {
        const connection = yield* Config.resolve(config)
        return make(yield* engine(connection), connection)
      })
    )
