import { afterAll, describe, expect, test } from "bun:test"
import { Database as Connection } from "bun:sqlite"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { randomUUID } from "node:crypto"
import { type Errors, GrqIndex } from "@hysds-stac/core"
import { grqIndexContract } from "../contract/GrqIndexContract.ts"
import * as Database from "./Database.ts"
import * as SqliteIndex from "./SqliteIndex.ts"

const temp = mkdtempSync(path.join(tmpdir(), "hysds-stac-sqliteindex-"))
afterAll(() => rmSync(temp, { recursive: true, force: true }))

const indexLayer = (file: string, options: SqliteIndex.Options = {}) =>
  SqliteIndex.layer(options).pipe(Layer.provide(Database.layer(file)))

grqIndexContract("SqliteIndex", () => indexLayer(path.join(temp, "contract.sqlite")))

/** Runs against a fresh file unless one is given; each call opens and closes the database. */
const withIndex = <A, E>(
  f: (index: GrqIndex.GrqIndexShape) => Effect.Effect<A, E>,
  file = path.join(temp, `${randomUUID()}.sqlite`),
  options: SqliteIndex.Options = {}
) => Effect.runPromise(Effect.flatMap(GrqIndex.GrqIndex, f).pipe(Effect.provide(indexLayer(file, options))))

const rec = (index: string, id: string, doc: Record<string, unknown> = {}): GrqIndex.GrqRecord => ({
  index,
  id,
  doc: { id, dataset: "ds", ...doc }
})

describe("SqliteIndex, like an Elasticsearch bulk request", () => {
  test("rejected documents are reported (first one and count); all the others are written", async () => {
    const file = path.join(temp, `${randomUUID()}.sqlite`)
    const error = await withIndex(
      (g) =>
        Effect.flip(
          g.bulkIndex([
            rec("grq_v1_ds", "ok1", { metadata: { quality: { score: 1 } } }),
            rec("grq_v1_ds", "ok2", { metadata: { quality: { score: 2 } } }),
            rec("grq_v1_ds", "bad1", { metadata: { quality: "good" } }),
            rec("grq_v1_ds", "ok3", { metadata: { quality: { score: 3 } } }),
            rec("grq_v1_ds", "bad2", { metadata: { quality: 7 } })
          ])
        ),
      file
    )
    expect(error._tag).toBe("IndexError")
    expect(error.id).toBe("bad1")
    expect(error.message).toContain("rejected 2 of 5")
    expect(error.message).toContain(
      "object mapping for [metadata.quality] tried to parse field [quality] as object, but found a concrete value"
    )
    expect(error.hint).toBeDefined()
    const ids = await withIndex((g) => g.list({ dataset: "ds" }), file)
    expect(ids.map((r) => r.id)).toEqual(["ok1", "ok2", "ok3"])
  })

  test("a rejected document's new fields are not mapped", async () => {
    const file = path.join(temp, `${randomUUID()}.sqlite`)
    await withIndex((g) => g.bulkIndex([rec("grq_x", "a", { metadata: { q: 1 } })]), file)
    await withIndex((g) => Effect.flip(g.bulkIndex([rec("grq_x", "b", { metadata: { q: "no", fresh: 1 } })])), file)
    // "fresh" was only in the rejected document, so an object may take that field now.
    await withIndex((g) => g.bulkIndex([rec("grq_x", "c", { metadata: { fresh: { now: "an object" } } })]), file)
    const found = await withIndex((g) => Effect.all([g.find("a"), g.find("b"), g.find("c")]), file)
    expect(found.map((o) => Option.getOrUndefined(o)?.id)).toEqual(["a", undefined, "c"])
  })

  test("mappings are per index", async () => {
    // The same field is a number in one index and an object in another: both are taken.
    const file = path.join(temp, `${randomUUID()}.sqlite`)
    await withIndex((g) => g.bulkIndex([rec("grq_v1_a", "x", { metadata: { f: 1 } }), rec("grq_v1_b", "y", { metadata: { f: { o: 1 } } })]), file)
    const found = await withIndex((g) => Effect.all([g.find("x"), g.find("y")]), file)
    expect(found.map((o) => Option.getOrUndefined(o)?.index)).toEqual(["grq_v1_a", "grq_v1_b"])
  })

  test("mappings persist across reopening the file", async () => {
    const file = path.join(temp, `${randomUUID()}.sqlite`)
    await withIndex((g) => g.bulkIndex([rec("grq_v1_p", "first", { metadata: { when: "2020-01-01" } })]), file)
    const error = await withIndex((g) => Effect.flip(g.bulkIndex([rec("grq_v1_p", "second", { metadata: { when: "N/A" } })])), file)
    expect(error.id).toBe("second")
    expect(error.message).toContain("of type [date]")
  })

  test("options: date detection off, a smaller total fields limit", async () => {
    const file = path.join(temp, `${randomUUID()}.sqlite`)
    const noDates = { dateDetection: false }
    await withIndex((g) => g.bulkIndex([rec("grq_o", "a", { when: "2020-01-01" }), rec("grq_o", "b", { when: "N/A" })]), file, noDates)
    const error = await withIndex(
      (g) => Effect.flip(g.bulkIndex([rec("grq_small", "many", { a: 1, b: 2, c: 3, d: 4, e: 5 })])),
      file,
      { totalFieldsLimit: 5 }
    )
    expect(error.message).toContain("Limit of total fields [5]")
  })

  test("invalid index names and ids are rejected as ES does", async () => {
    const upper = await withIndex((g) => Effect.flip(g.bulkIndex([rec("grq_V1_DS", "u")])))
    expect(upper.message).toContain("invalid_index_name_exception")
    expect(upper.message).toContain("must be lowercase")
    const long = await withIndex((g) => Effect.flip(g.bulkIndex([rec("grq_ok", "x".repeat(513))])))
    expect(long.message).toContain("512 bytes")
    expect(SqliteIndex.indexNameProblem("grq_v1.0_slc")).toBeUndefined()
    expect(SqliteIndex.indexNameProblem("grq_a b")).toContain("' '")
  })
})

describe("SqliteIndex, the alias grq", () => {
  test("find looks across grq_* indexes and answers deterministically when several match", async () => {
    const file = path.join(temp, `${randomUUID()}.sqlite`)
    await withIndex((g) => g.bulkIndex([rec("grq_v2_ds", "same"), rec("grq_v1_ds", "same"), rec("grq_v3_ds", "same")]), file)
    for (let i = 0; i < 3; i++) {
      const found = await withIndex((g) => g.find("same"), file)
      expect(Option.getOrThrow(found).index).toBe("grq_v1_ds")
    }
  })

  test("documents in indexes outside the alias are kept but not found or listed", async () => {
    const file = path.join(temp, `${randomUUID()}.sqlite`)
    await withIndex((g) => g.bulkIndex([rec("other_index", "hidden"), rec("grqx", "also-hidden")]), file)
    expect(Option.isNone(await withIndex((g) => g.find("hidden"), file))).toBe(true)
    expect(Option.isNone(await withIndex((g) => g.find("also-hidden"), file))).toBe(true)
    expect(await withIndex((g) => g.list({}), file)).toEqual([])
  })

  test("list is ordered by id and returns the documents as written", async () => {
    const file = path.join(temp, `${randomUUID()}.sqlite`)
    const docs = ["c", "a", "b"].map((id) => rec("grq_v1_ds", id, { metadata: { n: id.charCodeAt(0) } }))
    await withIndex((g) => g.bulkIndex(docs), file)
    const listed = await withIndex((g) => g.list({}), file)
    expect(listed.map((r) => r.id)).toEqual(["a", "b", "c"])
    expect(listed[0]).toEqual({ index: "grq_v1_ds", id: "a", doc: { id: "a", dataset: "ds", metadata: { n: 97 } } })
  })
})

describe("SqliteIndex errors", () => {
  test("a database held by another writer fails with a hint after the busy timeout", async () => {
    const file = path.join(temp, `${randomUUID()}.sqlite`)
    const runtime = ManagedRuntime.make(SqliteIndex.layer().pipe(Layer.provide(Database.layer(file, { busyTimeoutMs: 50 }))))
    await runtime.runPromise(Effect.flatMap(GrqIndex.GrqIndex, (g) => g.list({})))
    const other = new Connection(file)
    other.run("BEGIN IMMEDIATE")
    try {
      const error: Errors.IndexError = await runtime.runPromise(
        Effect.flip(Effect.flatMap(GrqIndex.GrqIndex, (g) => g.bulkIndex([rec("grq_busy", "x")])))
      )
      expect(error._tag).toBe("IndexError")
      expect(error.hint).toContain("another process")
      // Readers are not blocked by the writer (WAL).
      expect(await runtime.runPromise(Effect.flatMap(GrqIndex.GrqIndex, (g) => g.list({})))).toEqual([])
    } finally {
      other.run("ROLLBACK")
      other.close()
      await runtime.dispose()
    }
  })
})
