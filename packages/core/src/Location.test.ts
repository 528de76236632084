import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import * as Location from "./Location.ts"

describe("Location.parse", () => {
  test("bucket form", () => {
    expect(Location.parse("s3://my.bucket/a/b/")).toEqual(Either.right({ scheme: "s3", bucket: "my.bucket", key: "a/b" }))
  })
  test("HySDS host:port form", () => {
    expect(Location.parse("s3://s3-us-west-2.amazonaws.com:80/bkt/products/x")).toEqual(
      Either.right({ scheme: "s3", endpoint: "s3-us-west-2.amazonaws.com:80", bucket: "bkt", key: "products/x" })
    )
  })
  test("file URLs", () => {
    expect(Location.parse("file:///data/out/")).toEqual(Either.right({ scheme: "file", path: "/data/out" }))
    expect(Either.isLeft(Location.parse("file://otherhost/x"))).toBe(true)
  })
  test("unsupported and malformed", () => {
    expect(Location.parse("ftp://x/y")).toEqual(Either.left(`"ftp://x/y": unsupported scheme ftp:// (supported: s3://, file://)`))
    expect(Either.isLeft(Location.parse("/just/a/path"))).toBe(true)
  })
  test("join", () => {
    expect(Location.join("s3://b/p/", "/x/y.json")).toBe("s3://b/p/x/y.json")
    expect(Location.join("s3://b/p", "")).toBe("s3://b/p")
  })
})
