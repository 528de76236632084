import { describe, expect, test } from "bun:test"
import { openApi } from "./Api.ts"
import * as Docs from "./Docs.ts"

describe("Docs.render", () => {
  const spec = openApi() as unknown as Record<string, unknown>
  const html = Docs.render(spec)

  test("one section per operation, with its parameters and responses", () => {
    expect(html).toContain('<article id="op-ingests.create">')
    expect(html).toContain("<code>wait</code>")
    expect(html).toContain('<td class=status>429</td>')
    expect(html).toContain('<a href="#schema-IngestStatus">IngestStatus</a>')
    expect(html).toContain('id="auth-apiKey"')
  })

  test("self-contained and escaped", () => {
    expect(html).not.toMatch(/<script|<link|(src|href)="https?:/i)
    const hostile = Docs.render({ openapi: "3.1.0", info: { title: "<script>x</script>", version: "1" }, paths: {} })
    expect(hostile).not.toContain("<script>x")
    expect(hostile).toContain("&lt;script&gt;x&lt;/script&gt;")
  })

  test("typeOf renders the schema shapes the contract uses", () => {
    expect(Docs.typeOf({ type: "array", items: { $ref: "#/components/schemas/Problem" } })).toBe('array of <a href="#schema-Problem">Problem</a>')
    expect(Docs.typeOf({ enum: ["a", "b"] })).toBe('<code>&quot;a&quot;</code> | <code>&quot;b&quot;</code>')
    expect(Docs.typeOf({ type: "object", properties: { n: { type: "number" } }, required: [] })).toBe("{ n?: number }")
    expect(Docs.typeOf({})).toBe("any")
  })
})
