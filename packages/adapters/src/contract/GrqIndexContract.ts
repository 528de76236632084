/**
 * The behaviour every GrqIndex adapter must have, as `bun:test` blocks: the
 * embedded SQLite index now, Elasticsearch and OpenSearch later.
 *
 * Safe against a shared real server: ids and datasets are unique per test,
 * indexes are unique per suite run (`grq_contract_<run>_*`), and documents are
 * removed at the end. Reads follow writes at once, so server adapters must
 * make writes visible before returning (`refresh=wait_for`).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, type Layer, ManagedRuntime, Option } from "effect"
import { randomUUID } from "node:crypto"
import { GrqIndex } from "@hysds-stac/core"

export interface GrqIndexContractOptions {
  /**
   * Whether the backend rejects a document whose field is an object where an
   * earlier one had a value (or the reverse), as Elasticsearch and OpenSearch
   * dynamic mapping do. On by default; only a backend without mappings turns it off.
   */
  readonly mappingConflicts?: boolean
  /** Prefix of the index names this run uses (default `grq_contract_<random>`). */
  readonly indexPrefix?: string
}

export const grqIndexContract = (
  name: string,
  layer: () => Layer.Layer<GrqIndex.GrqIndex, unknown>,
  options: GrqIndexContractOptions = {}
): void => {
  describe(`GrqIndex contract: ${name}`, () => {
    const run = randomUUID().slice(0, 8)
    const prefix = options.indexPrefix ?? `grq_contract_${run}`
    const indexA = `${prefix}_a`
    const indexB = `${prefix}_b`
    let runtime: ManagedRuntime.ManagedRuntime<GrqIndex.GrqIndex, unknown>
    const written: Array<GrqIndex.DocRef> = []

    beforeAll(() => {
      runtime = ManagedRuntime.make(layer())
    })
    afterAll(async () => {
      await exec((g) => g.remove(written)).catch(() => undefined)
      await runtime.dispose()
    })

    const exec = <A, E>(f: (index: GrqIndex.GrqIndexShape) => Effect.Effect<A, E>): Promise<A> =>
      runtime.runPromise(Effect.flatMap(GrqIndex.GrqIndex, f))
    const failure = <A, E>(f: (index: GrqIndex.GrqIndexShape) => Effect.Effect<A, E>): Promise<E> =>
      runtime.runPromise(Effect.flip(Effect.flatMap(GrqIndex.GrqIndex, f)))
    const uid = (label: string) => `${label}-${randomUUID()}`
    const record = (index: string, id: string, extra: Record<string, unknown> = {}): GrqIndex.GrqRecord => {
      written.push({ index, id })
      return { index, id, doc: { id, objectid: id, dataset: "contract", system_version: "v1", ...extra } }
    }

    test("find returns a document from any index under the alias", async () => {
      const a = record(indexA, uid("in-a"))
      const b = record(indexB, uid("in-b"))
      await exec((g) => g.bulkIndex([a, b]))
      const foundA = Option.getOrThrow(await exec((g) => g.find(a.id)))
      expect(foundA.index).toBe(indexA)
      expect(foundA.id).toBe(a.id)
      expect(foundA.doc["objectid"]).toBe(a.id)
      const foundB = Option.getOrThrow(await exec((g) => g.find(b.id)))
      expect(foundB.index).toBe(indexB)
    })

    test("findMany answers what find answers for each id, in the order asked, skipping unknown ids", async () => {
      const a = record(indexA, uid("many-a"))
      const b = record(indexB, uid("many-b"))
      const twice = uid("many-twice")
      await exec((g) => g.bulkIndex([a, b, record(indexB, twice), record(indexA, twice)]))
      const unknown = uid("many-unknown")
      const found = await exec((g) => g.findMany([b.id, unknown, a.id, twice, a.id]))
      const single = Option.getOrThrow(await exec((g) => g.find(twice)))
      expect(found.map((r) => [r.index, r.id])).toEqual([
        [indexB, b.id],
        [indexA, a.id],
        [single.index, twice]
      ])
      expect(found[1]!.doc["objectid"]).toBe(a.id)
      expect(await exec((g) => g.findMany([]))).toEqual([])
    })

    test("bulkIndex with deferRefresh, then refresh: every document is found and listed", async () => {
      const dataset = uid("deferred")
      const records = Array.from({ length: 3 }, (_, i) => record(indexA, uid(`deferred-${i}`), { dataset }))
      await exec((g) => Effect.zipRight(g.bulkIndex(records, { deferRefresh: true }), g.refresh([indexA, indexA, uid("no_such_index")])))
      expect((await exec((g) => g.findMany(records.map((r) => r.id)))).map((r) => r.id)).toEqual(records.map((r) => r.id))
      expect((await exec((g) => g.list({ dataset }))).map((r) => r.id).sort()).toEqual(records.map((r) => r.id).sort())
    })

    test("find of an unknown id is none", async () => {
      expect(Option.isNone(await exec((g) => g.find(uid("unknown"))))).toBe(true)
    })

    test("bulkIndex replaces a document with the same index and id", async () => {
      const id = uid("replaced")
      const dataset = uid("ds")
      await exec((g) => g.bulkIndex([record(indexA, id, { dataset, label: "first" })]))
      await exec((g) => g.bulkIndex([record(indexA, id, { dataset, label: "second" })]))
      const found = Option.getOrThrow(await exec((g) => g.find(id)))
      expect(found.doc["label"]).toBe("second")
      expect((await exec((g) => g.list({ dataset }))).map((r) => r.id)).toEqual([id])
    })

    test("bulkIndex of nothing succeeds", async () => {
      await exec((g) => g.bulkIndex([]))
    })

    if (options.mappingConflicts ?? true) {
      test("a concrete value where an object was mapped is rejected, naming the document", async () => {
        const field = `q${run}`
        const first = record(indexA, uid("object"), { metadata: { [field]: { score: 1 } } })
        const bad = record(indexA, uid("concrete"), { metadata: { [field]: "good" } })
        await exec((g) => g.bulkIndex([first]))
        const error = await failure((g) => g.bulkIndex([bad]))
        expect(error._tag).toBe("IndexError")
        expect(error.id).toBe(bad.id)
        expect(error.message).toContain(bad.id)
        expect(error.message).toContain(field)
        expect(Option.isSome(await exec((g) => g.find(first.id)))).toBe(true)
        expect(Option.isNone(await exec((g) => g.find(bad.id)))).toBe(true)
      })

      test("an object where a concrete value was mapped is rejected, naming the document", async () => {
        const field = `r${run}`
        const ok = record(indexB, uid("value"), { metadata: { [field]: 3 } })
        const bad = record(indexB, uid("object"), { metadata: { [field]: { nested: true } } })
        const error = await failure((g) => g.bulkIndex([ok, bad]))
        expect(error._tag).toBe("IndexError")
        expect(error.id).toBe(bad.id)
        expect(error.message).toContain(bad.id)
        expect(Option.isNone(await exec((g) => g.find(bad.id)))).toBe(true)
      })
    }

    test("remove deletes; removing again, or what never existed, succeeds", async () => {
      const doc = record(indexA, uid("removed"))
      await exec((g) => g.bulkIndex([doc]))
      await exec((g) => g.remove([{ index: doc.index, id: doc.id }]))
      expect(Option.isNone(await exec((g) => g.find(doc.id)))).toBe(true)
      await exec((g) => g.remove([{ index: doc.index, id: doc.id }]))
      await exec((g) => g.remove([{ index: indexB, id: uid("never") }]))
      await exec((g) => g.remove([{ index: `${prefix}_never_created`, id: uid("never") }]))
      await exec((g) => g.remove([]))
    })

    test("aliases: added to an index, read back, removed; removing again or on a missing index succeeds", async () => {
      const alias = `${prefix}_alias`
      expect(await exec((g) => g.aliasesOf(`${prefix}_never_created`))).toEqual([])
      const doc = record(indexA, uid("aliased"))
      await exec((g) => g.bulkIndex([doc]))
      expect(await exec((g) => g.aliasesOf(indexA))).not.toContain(alias)
      await exec((g) => g.addAliases([{ index: indexA, alias }]))
      expect(await exec((g) => g.aliasesOf(indexA))).toContain(alias)
      expect(await exec((g) => g.aliasesOf(indexB))).not.toContain(alias)
      await exec((g) => g.removeAliases([{ index: indexA, alias }]))
      expect(await exec((g) => g.aliasesOf(indexA))).not.toContain(alias)
      await exec((g) => g.removeAliases([{ index: indexA, alias }]))
      await exec((g) => g.removeAliases([{ index: `${prefix}_never_created`, alias }]))
      await exec((g) => g.removeAliases([]))
    })

    test("an alias named like an existing index is refused", async () => {
      const doc = record(indexA, uid("clash"))
      await exec((g) => g.bulkIndex([doc, record(indexB, uid("clash-b"))]))
      const error = await failure((g) => g.addAliases([{ index: indexA, alias: indexB }]))
      expect(error._tag).toBe("IndexError")
      expect(await exec((g) => g.aliasesOf(indexA))).not.toContain(indexB)
    })

    test("list filters by dataset across indexes", async () => {
      const ds1 = uid("ds1")
      const ds2 = uid("ds2")
      const docs = [
        record(indexA, `${ds1}-b`, { dataset: ds1 }),
        record(indexB, `${ds1}-a`, { dataset: ds1 }),
        record(indexA, `${ds2}-a`, { dataset: ds2 })
      ]
      await exec((g) => g.bulkIndex(docs))
      const listed = await exec((g) => g.list({ dataset: ds1 }))
      expect(listed.map((r) => r.id).sort()).toEqual([`${ds1}-a`, `${ds1}-b`])
      expect(listed.find((r) => r.id === `${ds1}-a`)?.index).toBe(indexB)
      const all = (await exec((g) => g.list({}))).map((r) => r.id)
      for (const d of docs) expect(all).toContain(d.id)
      expect(await exec((g) => g.list({ dataset: uid("no-such-dataset") }))).toEqual([])
    })
  })
}
