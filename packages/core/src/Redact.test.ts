import { describe, expect, test } from "bun:test"
import { redact, redactDeep } from "./Redact.ts"

describe("Redact", () => {
  test("credentials inside URLs", () => {
    expect(redact("connect ECONNREFUSED https://elastic:s3cr3tpw@grq.example.com:9200/_bulk")).toBe(
      "connect ECONNREFUSED https://elastic:***@grq.example.com:9200/_bulk"
    )
  })
  test("named secrets in headers, JSON and query strings", () => {
    expect(redact('X-Api-Key: abcdef123')).toBe("X-Api-Key: ***")
    expect(redact("Authorization: Bearer eyJhbGciOi.x.y")).toBe("Authorization: Bearer ***")
    expect(redact('{"password": "hunter22", "user": "bob"}')).toBe('{"password": "***", "user": "bob"}')
    expect(redact("https://h/x?apiKey=zzz999&a=1")).toBe("https://h/x?apiKey=***&a=1")
  })
  test("known secret values anywhere", () => {
    expect(redact("signature for AKIAEXAMPLEKEY failed", ["AKIAEXAMPLEKEY"])).toBe("signature for *** failed")
    expect(redact("nothing secret here", ["abc"])).toBe("nothing secret here") // too short to mask safely
  })
  test("deep", () => {
    expect(redactDeep({ error: { message: "key topsecret1 bad", list: ["topsecret1"] }, n: 1 }, ["topsecret1"])).toEqual({
      error: { message: "key *** bad", list: ["***"] },
      n: 1
    })
  })
})
