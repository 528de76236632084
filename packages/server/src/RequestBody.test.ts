import { describe, expect, test } from "bun:test"
import * as RequestBody from "./RequestBody.ts"

describe("isJson: the media type is application/json, parameters allowed", () => {
  test.each([
    ["application/json", true],
    ["application/json; charset=utf-8", true],
    ["Application/JSON;Charset=\"UTF-8\"", true],
    ["application/json ; charset=utf-8", true],
    ["application/json; foo=bar", true],
    [undefined, false],
    ["", false],
    ["text/plain", false],
    ["text/plain;charset=UTF-8", false],
    ["application/jsonevil", false],
    ["application/json-patch+json", false],
    ["application/x-www-form-urlencoded", false],
    ["multipart/form-data; boundary=x", false],
    ["application/json; charset=utf-16", false],
    ["application/json, text/plain", false]
  ] as const)("%p → %p", (type, expected) => {
    expect(RequestBody.isJson(type)).toBe(expected)
  })
})

describe("tooDeep: nesting beyond the limit, found without recursion", () => {
  test("at the limit is fine, one more is too deep", () => {
    expect(RequestBody.tooDeep(`${"[".repeat(64)}${"]".repeat(64)}`, 64)).toBe(false)
    expect(RequestBody.tooDeep(`{"a":${"[".repeat(64)}${"]".repeat(64)}}`, 64)).toBe(true)
    expect(RequestBody.tooDeep(`${"[".repeat(65)}${"]".repeat(65)}`, 64)).toBe(true)
  })
  test("30,000 levels: answered, not a stack overflow", () => {
    expect(RequestBody.tooDeep("[".repeat(30_000), 64)).toBe(true)
  })
  test("brackets inside strings, escaped quotes included, are not nesting", () => {
    expect(RequestBody.tooDeep(JSON.stringify({ a: "[{".repeat(500) }), 64)).toBe(false)
    expect(RequestBody.tooDeep(JSON.stringify({ a: `\\"${"[".repeat(500)}` }), 64)).toBe(false)
    expect(RequestBody.tooDeep(`{"a":"\\\\"}${"[".repeat(65)}`, 64)).toBe(true)
  })
  test("siblings do not add up", () => {
    expect(RequestBody.tooDeep(JSON.stringify(Array.from({ length: 1000 }, () => [[1]])), 3)).toBe(false)
  })
})

const streamOf = (...chunks: Array<string>) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk))
      c.close()
    }
  })

describe("readBounded: stops reading past the limit", () => {
  test("within the limit: the text", async () => {
    expect(await RequestBody.readBounded(streamOf('{"a":', "1}"), 7)).toEqual({ _tag: "Text", text: '{"a":1}' })
    expect(await RequestBody.readBounded(null, 7)).toEqual({ _tag: "Text", text: "" })
  })
  test("one byte over: too large, in bytes not characters", async () => {
    expect(await RequestBody.readBounded(streamOf('{"a":', "12}"), 7)).toEqual({ _tag: "TooLarge" })
    expect(await RequestBody.readBounded(streamOf('"é"'), 3)).toEqual({ _tag: "TooLarge" })
  })
  test("an endless body is cut off", async () => {
    let pulled = 0
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++
        c.enqueue(new Uint8Array(1024).fill(32))
      }
    })
    expect(await RequestBody.readBounded(endless, 10_000)).toEqual({ _tag: "TooLarge" })
    expect(pulled).toBeLessThan(20)
  })
})
