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

describe("one representation: names become segments, decoded exactly once", () => {
  const names = ["a%2Fb.tif", "%41.tif", "pct%.tif", "bad%zz.tif", "q?.tif", "h#.tif", "with space.tif", "caf\u00e9.tif", "cafe\u0301.tif", "\u{1F6F0}\uFE0F.tif", "..%2F..%2Fx"]
  test.each(names)("s3 and file: child(%p) parses back to exactly that name", (name) => {
    const s3 = Location.parse(Location.child("s3://bucket/products/p", name))
    expect(s3).toEqual(Either.right({ scheme: "s3", bucket: "bucket", key: `products/p/${name}` }))
    const file = Location.parse(Location.child("file:///data/pub", `dir/${name}`))
    expect(file).toEqual(Either.right({ scheme: "file", path: `/data/pub/dir/${name}` }))
  })
  test("encoded separators, dot segments and bad escapes in a URL are refused, never decoded into a path", () => {
    expect(Either.isLeft(Location.parse("file:///data/pub/..%2F..%2Ftmp%2Fvictim.txt"))).toBe(true)
    expect(Either.isLeft(Location.parse("file:///data/pub/%2e%2e/x"))).toBe(true)
    expect(Either.isLeft(Location.parse("file:///data/../etc"))).toBe(true)
    expect(Either.isLeft(Location.parse("s3://b/a%zz.tif"))).toBe(true)
    expect(Either.isLeft(Location.parse("s3://b/a\nb"))).toBe(false) // parsed, not thrown: SafeName refuses such names at planning
  })
})
