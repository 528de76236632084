/**
 * Publish locations as HySDS writes them. An `s3://` URL names either a bucket
 * (`s3://bucket/key`) or, as osaka allows, a host first (`s3://host:port/bucket/key`).
 * Bucket names may contain dots but never a colon, so a port is what tells
 * the two apart.
 *
 * One representation (issue 8): the path of a URL is a list of segments, each
 * percent-encoded (RFC 3986) when we build it from a name (`child`), and
 * decoded exactly once, segment by segment, when parsed. So any name N becomes
 * the key `<location key>/N` byte for byte: `a%2Fb.tif` stays one segment named
 * `a%2Fb.tif`, never `a/b.tif`, and never climbs out with `..%2F`. Names are
 * never decoded; what may be published at all is SafeName's rule.
 */
import { Either } from "effect"

export type Location =
  | { readonly scheme: "s3"; readonly endpoint?: string; readonly bucket: string; readonly key: string }
  | { readonly scheme: "file"; readonly path: string }

export const parse = (url: string): Either.Either<Location, string> => {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(\/[\s\S]*)?$/i.exec(url)
  if (!m) return Either.left(`"${JSON.stringify(url).slice(1, -1)}" is not a URL; expected s3://bucket/prefix or file:///path`)
  const scheme = m[1]!.toLowerCase()
  const authority = m[2]!
  const decoded = decodePath((m[3] ?? "").replace(/^\/+/, ""))
  if (Either.isLeft(decoded)) return Either.left(`"${url}": ${decoded.left}`)
  const rest = decoded.right
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

/**
 * Decodes each `/`-separated segment once. A segment that is invalid percent-encoding,
 * or decodes to `.`, `..` or something holding `/` or NUL, is refused: it would name
 * a different place than its URL shows (and `..` could leave the location).
 */
const decodePath = (raw: string): Either.Either<string, string> => {
  const out: Array<string> = []
  for (const segment of raw.split("/")) {
    let d: string
    try {
      d = decodeURIComponent(segment)
    } catch {
      return Either.left(`the path segment ${JSON.stringify(segment)} is not valid percent-encoding`)
    }
    if (d === "." || d === "..") return Either.left(`a path segment is "${d}"; locations and keys cannot climb with "." or ".."`)
    if (segment !== "" && (d.includes("/") || d.includes("\u0000"))) {
      return Either.left(`the path segment ${JSON.stringify(segment)} decodes to ${JSON.stringify(d)}, which holds a "/" or NUL`)
    }
    out.push(d)
  }
  return Either.right(out.join("/"))
}

/** A name as one URL path segment (RFC 3986): what Location.parse decodes back to exactly the name. */
export const encodeSegment = (name: string): string => encodeURIComponent(name)

/** The URL of the object at `relPath` (`/`-separated names, as on disk) below `base`, each name encoded. */
export const child = (base: string, relPath: string): string =>
  relPath === "" ? base.replace(/\/+$/, "") : join(base, relPath.split("/").map(encodeSegment).join("/"))

/** `base` + `/` + `rel`, with exactly one slash between them. `rel` must already be URL-encoded (see `child`). */
export const join = (base: string, rel: string): string =>
  rel === "" ? base.replace(/\/+$/, "") : `${base.replace(/\/+$/, "")}/${rel.replace(/^\/+/, "")}`

/** The scheme of a URL or location template (`s3` of `s3://{id}`), lower-cased; undefined when it has none or a template makes it. */
export const schemeOf = (url: string): string | undefined => /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase()

/**
 * Why no configured store can publish to `url`, when none can: its scheme is
 * not among `schemes` (an object store's). WebDAV (`dav://`, `davs://`), HTTP
 * and other schemes HySDS's osaka speaks have no store here.
 */
export const unservedScheme = (url: string, schemes: ReadonlyArray<string> | undefined): string | undefined => {
  const scheme = schemeOf(url)
  if (schemes === undefined || scheme === undefined || schemes.includes(scheme)) return undefined
  return `no configured object store publishes to ${scheme}:// (the configured one serves ${schemes.map((s) => `${s}://`).join(", ")})`
}
