/**
 * The plan's records of a STAC product's files and documents, kept small: a
 * catalog of 100,000 items has 100,000 of each, held from planning to the end
 * of the publish. Each record is the listed file it names (ProductFiles, which
 * keeps its relative path, where it was found and its identity) and where the
 * product publishes; its URL, real path and identity object are made when asked
 * for (once per publish of it).
 *
 * Why a reference to the listed file rather than a copy of its fields: the
 * listing and the records are both alive at a plan's busiest point, and a copy
 * was most of a record's size.
 */
import * as Location from "./Location.ts"
import type { FileIdentity } from "./ObjectStore.ts"
import type { FileSource, PlannedFile } from "./Plan.ts"
import type { ProductFile } from "./ProductFiles.ts"
import type * as Stac from "./Stac.ts"
import type { PlannedItem, StacDocument } from "./StacSource.ts"

abstract class Entry {
  constructor(
    /** Where the product publishes (shared by all its records). */
    protected readonly location: string,
    protected readonly file: ProductFile
  ) {}
  get relPath(): string {
    return this.file.relPath
  }
  get size(): number {
    return this.file.size
  }
  /** The real path planning read. */
  get path(): string {
    return this.file.realPath
  }
  get identity(): FileIdentity {
    return this.file.identity
  }
  get url(): string {
    return Location.child(this.location, this.file.relPath)
  }
}

/** A file published as it is: an asset, or any file of the catalog dir that is not one of its STAC documents. */
export class CatalogFile extends Entry implements PlannedFile {
  get source(): FileSource {
    return { _tag: "File", path: this.path, identity: this.identity }
  }
}

/** A catalog or collection of the tree. */
export class CatalogDocument extends Entry implements StacDocument {
  constructor(
    location: string,
    file: ProductFile,
    readonly type: Stac.StacType,
    readonly id: string
  ) {
    super(location, file)
  }
}

/** An item, with the collection it belongs to. */
export class CatalogItem extends Entry implements PlannedItem {
  // A getter, not a field: one less slot in each of the many items.
  get type(): "Feature" {
    return "Feature"
  }
  constructor(
    location: string,
    file: ProductFile,
    readonly id: string,
    readonly collection: string
  ) {
    super(location, file)
  }
}
