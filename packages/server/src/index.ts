/**
 * The hysds-stac HTTP ingest service: the contract (Api), its implementation
 * as layers, and the pieces other hosts may reuse. `bin.ts` runs it.
 */
export * as AllowedRoots from "./AllowedRoots.ts"
export * as Api from "./Api.ts"
export * as ApiErrors from "./ApiErrors.ts"
export * as ApiKeys from "./ApiKeys.ts"
export * as ApiSchemas from "./ApiSchemas.ts"
export * as Docs from "./Docs.ts"
export * as IngestQueue from "./IngestQueue.ts"
export * as Metrics from "./Metrics.ts"
export * as Prometheus from "./Prometheus.ts"
export * as Server from "./Server.ts"
export * as ServerConfig from "./ServerConfig.ts"
