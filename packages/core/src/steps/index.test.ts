import { describe, expect, test } from "bun:test"
import { Either, Schema, SchemaAST } from "effect"
import * as Action from "../Action.ts"
import * as JournalRecord from "../JournalRecord.ts"
import * as Steps from "./index.ts"

const expectedOrder = ["ClaimProduct", "BackupObjects", "PutObjects", "RegisterCollection", "RegisterItems", "IndexDocuments", "WriteJobFile"]

/** The `_tag` literals of a union of tagged structs, in the union's order. */
const tagsOf = (ast: SchemaAST.AST): Array<string> => {
  const members = SchemaAST.isUnion(ast) ? ast.types : [ast]
  return members.map((m) => {
    const tag = SchemaAST.getPropertySignatures(m).find((p) => p.name === "_tag")!.type
    if (!SchemaAST.isLiteral(tag)) throw new Error("a record without a literal _tag")
    return String(tag.literal)
  })
}

/** The schema of an Intent record's `action`, as the journal decodes it. */
const intentAction = (): SchemaAST.AST => {
  const record = JournalRecord.RecordV1.ast
  if (!SchemaAST.isUnion(record)) throw new Error("RecordV1 is not a union")
  const intent = record.types.find((m) => tagsOf(m)[0] === "Intent")!
  return SchemaAST.getPropertySignatures(intent).find((p) => p.name === "action")!.type
}

const decodeAction = (action: unknown) =>
  JournalRecord.decode({ v: 1, _tag: "Intent", tx: "t", step: 1, action })

describe("the one list of steps", () => {
  test("runs the seven steps in the documented order, each exported under its tag", () => {
    expect([...Steps.tags] as Array<string>).toEqual(expectedOrder)
    expect(Steps.steps.map((s): string => s.name)).toEqual(expectedOrder)
    for (const s of Steps.steps) expect((Steps as Record<string, unknown>)[s.name]).toBe(s)
  })

  test("the journal's Intent record decodes exactly the steps' records, in the list's order", () => {
    expect(tagsOf(intentAction())).toEqual([...Steps.tags])
    expect(tagsOf(JournalRecord.ActionV1.ast)).toEqual([...Steps.tags])
  })

  test("every step's tag is decodable, and nothing else is", () => {
    const decodedTags = v1Lines.map((l) => {
      const r = JournalRecord.decode(JSON.parse(l))
      if (Either.isLeft(r)) throw new Error(r.left)
      if (r.right._tag !== "Intent") throw new Error("not an Intent")
      return r.right.action._tag
    })
    expect([...new Set(decodedTags)]).toEqual([...Steps.tags])
    // The commit is a record of its own, not a step; other names are refused, not guessed at.
    for (const tag of ["Commit", "DeleteObjects", "claimproduct", ""]) {
      expect(Either.isLeft(decodeAction({ product: "p", marker: "m", tx: "t", urls: [], _tag: tag }))).toBe(true)
    }
    // A known tag with another step's fields is refused too.
    expect(Either.isLeft(decodeAction({ product: "p", urls: [], _tag: "ClaimProduct" }))).toBe(true)
  })

  test("recovery's dispatch finds every step by its tag", () => {
    const decoded = v1Lines.map((l) => {
      const r = Either.getOrThrow(JournalRecord.decode(JSON.parse(l)))
      if (r._tag !== "Intent") throw new Error("not an Intent")
      return r.action
    })
    expect(decoded.map(Action.summary)).toEqual([
      "publish marker s3://bucket/products/S1-IFG_etna/.hysds-stac-publish.json",
      "backup of 1 existing object(s) of S1-IFG_etna",
      "2 object(s) of S1-IFG_etna",
      "STAC collection etna-scenes",
      "STAC collection etna-scenes (replaced)",
      "1 STAC item(s) in etna-scenes",
      "1 GRQ document(s)",
      "job file /jobs/etna/_datasets.json",
      "job file /jobs/etna/_datasets.json"
    ])
  })
})

/**
 * Intent lines as the journal stored them before the steps became modules
 * (written by commit b63f0ba's Action.ts through JournalRecord.encode), one per
 * step and one per optional field present or absent. A journal a dead process
 * left behind holds lines like these; recovery must still read them.
 */
const v1Lines: ReadonlyArray<string> = [
  "{\"v\":1,\"_tag\":\"Intent\",\"tx\":\"ingest-20240115-103000-0a1b2c3d\",\"step\":1,\"action\":{\"product\":\"S1-IFG_etna\",\"marker\":\"s3://bucket/products/S1-IFG_etna/.hysds-stac-publish.json\",\"tx\":\"ingest-20240115-103000-0a1b2c3d\",\"_tag\":\"ClaimProduct\"}}",
  "{\"v\":1,\"_tag\":\"Intent\",\"tx\":\"ingest-20240115-103000-0a1b2c3d\",\"step\":2,\"action\":{\"product\":\"S1-IFG_etna\",\"objects\":[{\"url\":\"s3://bucket/products/S1-IFG_etna/a.tif\",\"backup\":\"s3://bucket/products/S1-IFG_etna/a.tif.hysds-stac-backup-x\"}],\"_tag\":\"BackupObjects\"}}",
  "{\"v\":1,\"_tag\":\"Intent\",\"tx\":\"ingest-20240115-103000-0a1b2c3d\",\"step\":3,\"action\":{\"product\":\"S1-IFG_etna\",\"urls\":[\"s3://bucket/products/S1-IFG_etna/a.tif\",\"s3://bucket/products/S1-IFG_etna/S1-IFG_etna.met.json\"],\"_tag\":\"PutObjects\"}}",
  "{\"v\":1,\"_tag\":\"Intent\",\"tx\":\"ingest-20240115-103000-0a1b2c3d\",\"step\":4,\"action\":{\"id\":\"etna-scenes\",\"_tag\":\"RegisterCollection\"}}",
  "{\"v\":1,\"_tag\":\"Intent\",\"tx\":\"ingest-20240115-103000-0a1b2c3d\",\"step\":5,\"action\":{\"id\":\"etna-scenes\",\"previous\":{\"type\":\"Collection\",\"id\":\"etna-scenes\",\"links\":[]},\"_tag\":\"RegisterCollection\"}}",
  "{\"v\":1,\"_tag\":\"Intent\",\"tx\":\"ingest-20240115-103000-0a1b2c3d\",\"step\":6,\"action\":{\"collection\":\"etna-scenes\",\"ids\":[\"etna-scene-001\"],\"previous\":[{\"type\":\"Feature\",\"id\":\"etna-scene-001\",\"properties\":{\"datetime\":null}}],\"_tag\":\"RegisterItems\"}}",
  "{\"v\":1,\"_tag\":\"Intent\",\"tx\":\"ingest-20240115-103000-0a1b2c3d\",\"step\":7,\"action\":{\"refs\":[{\"index\":\"grq_v1_s1-ifg\",\"id\":\"S1-IFG_etna\"}],\"previous\":[{\"index\":\"grq_v1_s1-ifg\",\"id\":\"S1-IFG_etna\",\"doc\":{\"id\":\"S1-IFG_etna\",\"metadata\":{\"n\":1}}}],\"_tag\":\"IndexDocuments\"}}",
  "{\"v\":1,\"_tag\":\"Intent\",\"tx\":\"ingest-20240115-103000-0a1b2c3d\",\"step\":8,\"action\":{\"path\":\"/jobs/etna/_datasets.json\",\"_tag\":\"WriteJobFile\"}}",
  "{\"v\":1,\"_tag\":\"Intent\",\"tx\":\"ingest-20240115-103000-0a1b2c3d\",\"step\":9,\"action\":{\"path\":\"/jobs/etna/_datasets.json\",\"previous\":\"[]\\n\",\"_tag\":\"WriteJobFile\"}}"
]

describe("version 1 journal lines written before this change", () => {
  test("still decode, to the same records", () => {
    for (const line of v1Lines) {
      const stored = JSON.parse(line) as Record<string, unknown>
      const decoded = JournalRecord.decode(stored)
      if (Either.isLeft(decoded)) throw new Error(decoded.left)
      const { v: _v, ...record } = stored
      expect(decoded.right).toEqual(record as never)
    }
  })

  test("a line from before records carried `v` still decodes", () => {
    const line = JSON.parse(v1Lines[0]!) as Record<string, unknown>
    delete line.v
    expect(Either.isRight(JournalRecord.decode(line))).toBe(true)
  })

  test("a record made by a step module is stored byte for byte as before", () => {
    const tx = "ingest-20240115-103000-0a1b2c3d"
    const made = [
      Steps.ClaimProduct.make({ product: "S1-IFG_etna", marker: "s3://bucket/products/S1-IFG_etna/.hysds-stac-publish.json", tx }),
      Steps.BackupObjects.make({
        product: "S1-IFG_etna",
        objects: [{ url: "s3://bucket/products/S1-IFG_etna/a.tif", backup: "s3://bucket/products/S1-IFG_etna/a.tif.hysds-stac-backup-x" }]
      }),
      Steps.PutObjects.make({ product: "S1-IFG_etna", urls: ["s3://bucket/products/S1-IFG_etna/a.tif", "s3://bucket/products/S1-IFG_etna/S1-IFG_etna.met.json"] }),
      Steps.RegisterCollection.make({ id: "etna-scenes" }),
      Steps.RegisterCollection.make({ id: "etna-scenes", previous: { type: "Collection", id: "etna-scenes", links: [] } }),
      Steps.RegisterItems.make({ collection: "etna-scenes", ids: ["etna-scene-001"], previous: [{ type: "Feature", id: "etna-scene-001", properties: { datetime: null } }] }),
      Steps.IndexDocuments.make({
        refs: [{ index: "grq_v1_s1-ifg", id: "S1-IFG_etna" }],
        previous: [{ index: "grq_v1_s1-ifg", id: "S1-IFG_etna", doc: { id: "S1-IFG_etna", metadata: { n: 1 } } }]
      }),
      Steps.WriteJobFile.make({ path: "/jobs/etna/_datasets.json" }),
      Steps.WriteJobFile.make({ path: "/jobs/etna/_datasets.json", previous: "[]\n" })
    ]
    const lines = made.map((action, i) => JSON.stringify(JournalRecord.encode({ _tag: "Intent", tx, step: i + 1, action })))
    expect(lines).toEqual([...v1Lines])
  })

  test("each step's own Schema reads its records", () => {
    for (const line of v1Lines) {
      const action = (JSON.parse(line) as { action: { _tag: string } }).action
      const step = Steps.steps.find((s) => s.name === action._tag)!
      expect(Either.isRight(Schema.decodeUnknownEither(step.Schema as Schema.Schema<unknown, unknown>)(action))).toBe(true)
    }
  })
})

describe("a RegisterItems record of a fresh batch", () => {
  test("is stored with `fresh: true` after the fields older records have, and reads back the same", () => {
    const tx = "ingest-20240115-103000-0a1b2c3d"
    const action = Steps.RegisterItems.make({ collection: "etna-scenes", ids: ["etna-scene-001"], previous: [], fresh: true })
    const line = JSON.stringify(JournalRecord.encode({ _tag: "Intent", tx, step: 6, action }))
    expect(line).toBe(
      "{\"v\":1,\"_tag\":\"Intent\",\"tx\":\"ingest-20240115-103000-0a1b2c3d\",\"step\":6,\"action\":{\"collection\":\"etna-scenes\",\"ids\":[\"etna-scene-001\"],\"previous\":[],\"fresh\":true,\"_tag\":\"RegisterItems\"}}"
    )
    const decoded = JournalRecord.decode(JSON.parse(line))
    if (Either.isLeft(decoded)) throw new Error(decoded.left)
    expect(decoded.right).toEqual({ _tag: "Intent", tx, step: 6, action })
  })
})
