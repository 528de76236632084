/**
 * The plan's records of a STAC product's files and documents, kept small: a
 * catalog of 100,000 items has 100,000 of each, held from planning to the end
 * of the publish. Each record keeps its path relative to the catalog dir and
 * the identity of the file planning read, as plain fields; its URL, real path
 * and identity object are made when asked for (once per publish of it), from
 * what the product's records share: where it publishes, and the real dir its
 * files were found under.
 */
import * as Location from "./Location.ts"
import type { FileIdentity } from "./ObjectStore.ts"
import type { FileSource, PlannedFile } from "./Plan.ts"
import type { ProductFile } from "./ProductFiles.ts"
import type * as Stac from "./Stac.ts"
import type { PlannedItem, StacDocument } from "./StacSource.ts"

/** What every record of one product shares. */
export class CatalogRoot {
  /** Real dirs files were found under, one string each (most files share one). */
  private readonly bases = new Map<string, string>()
  constructor(readonly location: string) {}

  /** `real` as a shared base plus a tail that is `relPath` itself whenever it can be. */
  split(real: string, relPath: string): readonly [string, string] {
    if (relPath === "" || !real.endsWith("/" + relPath)) return ["", real]
    const base = real.slice(0, real.length - relPath.length)
    let shared = this.bases.get(base)
    if (shared === undefined) this.bases.set(base, (shared = base))
    return [shared, relPath]
  }
}

/** A file's identity as fields (no object per file), and its real path as base + tail. */
abstract class Entry {
  readonly size: number
  private readonly ino: number | undefined
  private readonly dev: number | undefined
  private readonly mtimeMs: number | undefined
  private readonly base: string
  private readonly tail: string
  constructor(
    protected readonly root: CatalogRoot,
    readonly relPath: string,
    file: ProductFile
  ) {
    const identity = file.identity
    this.size = identity.size
    this.ino = identity.ino
    this.dev = identity.dev
    this.mtimeMs = identity.mtimeMs
    ;[this.base, this.tail] = root.split(file.realPath, relPath)
  }
  /** The real path planning read. */
  get path(): string {
    return this.base + this.tail
  }
  get identity(): FileIdentity {
    const identity: { -readonly [K in keyof FileIdentity]: FileIdentity[K] } = { size: this.size }
    if (this.ino !== undefined) identity.ino = this.ino
    if (this.dev !== undefined) identity.dev = this.dev
    if (this.mtimeMs !== undefined) identity.mtimeMs = this.mtimeMs
    return identity
  }
  get url(): string {
    return Location.child(this.root.location, this.relPath)
  }
}

/** A file published as it is: an asset, or any file of the catalog dir that is not one of its STAC documents. */
export class CatalogFile extends Entry implements PlannedFile {
  constructor(root: CatalogRoot, file: ProductFile) {
    super(root, file.relPath, file)
  }
  get source(): FileSource {
    return { _tag: "File", path: this.path, identity: this.identity }
  }
}

/** A catalog or collection of the tree. */
export class CatalogDocument extends Entry implements StacDocument {
  constructor(
    root: CatalogRoot,
    file: ProductFile,
    readonly type: Stac.StacType,
    readonly id: string
  ) {
    super(root, file.relPath, file)
  }
}

/** An item, with the collection it belongs to. */
export class CatalogItem extends Entry implements PlannedItem {
  // A getter, not a field: one less slot in each of the many items.
  get type(): "Feature" {
    return "Feature"
  }
  constructor(
    root: CatalogRoot,
    file: ProductFile,
    readonly id: string,
    readonly collection: string
  ) {
    super(root, file.relPath, file)
  }
}
