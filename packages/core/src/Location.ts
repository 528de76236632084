/**
 * Publish locations as HySDS writes them. An `s3://` URL names either a bucket
 * (`s3://bucket/key`) or, as osaka allows, a host first (`s3://host:port/bucket/key`).
 * Bucket names may contain dots but never a colon, so a port is what tells
 * the two apart.
 */
import { Either } from "effect"

export type Location =
  | { readonly scheme: "s3"; readonly endpoint?: string; readonly bucket: string; readonly key: string }
  | { readonly scheme: "file"; readonly path: string }

export const parse = (url: string): Either.Either<Location, string> => {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/i.exec(url)
  if (!m) return Either.left(`"${url}" is not a URL; expected s3://bucket/prefix or file:///path`)
  const scheme = m[1]!.toLowerCase()
  const authority = m[2]!
  const rest = decodeURIComponent((m[3] ?? "").replace(/^\/+/, ""))
  if (scheme === "file") {
    if (authority !== "" && authority !== "localhost") {
      return Either.left(`"${url}": file URLs must be local (file:///absolute/path)`)
    }
    return Either.right({ scheme: "file", path: "/" + rest.replace(/\/+$/, "") })
  }
  if (scheme === "s3") {
    if (authority.includes(":")) {
      const [bucket = "", ...key] = rest.split("/")
      if (!bucket) return Either.left(`"${url}": no bucket after the host`)
      return Either.right({ scheme: "s3", endpoint: authority, bucket, key: key.join("/").replace(/\/+$/, "") })
    }
    if (!authority) return Either.left(`"${url}": no bucket`)
    return Either.right({ scheme: "s3", bucket: authority, key: rest.replace(/\/+$/, "") })
  }
  return Either.left(`"${url}": unsupported scheme ${scheme}:// (supported: s3://, file://)`)
}

/** `base` + `/` + `rel`, with exactly one slash between them. */
export const join = (base: string, rel: string): string =>
  rel === "" ? base.replace(/\/+$/, "") : `${base.replace(/\/+$/, "")}/${rel.replace(/^\/+/, "")}`
