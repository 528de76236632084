/**
 * hysds-stac core: domain schemas, tagged errors, ports and the ingest workflow.
 * It depends on `effect` and `@effect/platform` only, never on an adapter or a
 * runtime package (a test enforces it), so any runtime can host it.
 */
export * as Action from "./Action.ts"
export * as DatasetConfig from "./DatasetConfig.ts"
export * as Discovery from "./Discovery.ts"
export * as Errors from "./Errors.ts"
export * as GrqDocument from "./GrqDocument.ts"
export * as GrqIndex from "./GrqIndex.ts"
export * as Ingest from "./Ingest.ts"
export * as JobInfo from "./JobInfo.ts"
export * as Journal from "./Journal.ts"
export * as JsonFile from "./JsonFile.ts"
export * as Location from "./Location.ts"
export * as ObjectStore from "./ObjectStore.ts"
export * as Plan from "./Plan.ts"
export * as ProductFiles from "./ProductFiles.ts"
export * as Progress from "./Progress.ts"
export * as PyRegex from "./PyRegex.ts"
export * as Stac from "./Stac.ts"
export * as StacPublish from "./StacPublish.ts"
export * as StacRegistry from "./StacRegistry.ts"
export * as StacTree from "./StacTree.ts"
export * as Step from "./Step.ts"
export * as Template from "./Template.ts"
export * as Validate from "./Validate.ts"
