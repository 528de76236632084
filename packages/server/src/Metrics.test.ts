import { describe, expect, test } from "bun:test"
import { JournalRecord, Steps } from "@hysds-stac/core"
import { SchemaAST } from "effect"
import * as Metrics from "./Metrics.ts"

/** The `_tag` literals of a union of tagged structs, in the union's order. */
const tagsOf = (ast: SchemaAST.AST): Array<string> =>
  (SchemaAST.isUnion(ast) ? ast.types : [ast]).map((m) => {
    const tag = SchemaAST.getPropertySignatures(m).find((p) => p.name === "_tag")!.type
    return SchemaAST.isLiteral(tag) ? String(tag.literal) : "?"
  })

describe("the step duration metric's action labels", () => {
  test("are the steps' tags from core's one list, in its order: the tags the journal decodes, and no others", () => {
    expect([...Metrics.actions]).toEqual([...Steps.tags])
    expect(tagsOf(JournalRecord.ActionV1.ast)).toEqual([...Metrics.actions])
    expect(Metrics.actions).toContain("RegisterItems")
  })
})
