/**
 * What a walk keeps of each real path it has reached (a STAC document, an
 * entered directory): the entry number the tree index gives the path
 * (TreeIndex.slot) picks its place in an array; a path the index has no number
 * for is kept in a Map.
 *
 * Why not a Map for all: a walk of a catalog of 100,000 items keeps one per
 * document or directory, and a Map entry keyed by a path costs about 170 bytes
 * where an array slot costs 8.
 */
import type { TreeIndex } from "./TreeIndex.ts"

export class Visits<A> {
  private readonly bySlot: Array<A | undefined> = []
  private readonly byPath = new Map<string, A>()
  constructor(private readonly tree: Pick<TreeIndex, "slot">) {}

  get(real: string): A | undefined {
    const slot = this.tree.slot(real)
    return slot < 0 ? this.byPath.get(real) : this.bySlot[slot]
  }

  set(real: string, value: A): void {
    const slot = this.tree.slot(real)
    if (slot < 0) this.byPath.set(real, value)
    else {
      // Grown by filling, never by a hole: an array with holes is kept as a slower, larger dictionary.
      while (this.bySlot.length <= slot) this.bySlot.push(undefined)
      this.bySlot[slot] = value
    }
  }
}
