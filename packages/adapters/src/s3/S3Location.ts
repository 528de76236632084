/**
 * What an `s3://` URL names for the S3 adapter: the server requests go to, the
 * bucket and the key, plus the URL's own head (`host:port/bucket` or `bucket`)
 * so URLs we hand back (list, backups) keep the form the caller used.
 *
 * Parsing is Location.parse's; this module only adds what S3 needs on top:
 * which endpoint serves a URL, and how keys are written back into URLs.
 */
import { Either } from "effect"
import { Errors, Location } from "@hysds-stac/core"

export interface S3Target {
  readonly url: string
  /** Where requests go; undefined means AWS's own regional endpoint. */
  readonly endpoint: string | undefined
  readonly bucket: string
  /** Empty when the URL names a whole bucket. */
  readonly key: string
}

/** Directory name under which `backupUrl` keeps copies during a transaction (as LocalStore). */
export const BACKUP_DIR = ".hysds-stac-backup"

export const SUPPORTED = "the S3 store serves s3://bucket/key and s3://host:port/bucket/key"

/**
 * The endpoint serving a URL.
 * - A configured endpoint wins over a host in the URL: HySDS configs name AWS
 *   hosts (`s3://s3-us-west-2.amazonaws.com:80/bucket`) that a test or on-premise
 *   server must stand in for without editing every datasets.json.
 * - Otherwise a URL's `host:port` is the server. The URL carries no scheme, so
 *   we follow osaka (HySDS's transfer library), which turns `s3://` into plain
 *   `http://`; except on port 443, where only TLS can answer, so there it is `https`.
 * - With neither, the SDK resolves AWS's regional endpoint.
 */
export const endpointFor = (configured: string | undefined, hostPort: string | undefined): string | undefined => {
  // S3_ENDPOINT=minio:9000 (no scheme) is read like a URL's host:port.
  if (configured !== undefined) return /^[a-z][a-z0-9+.-]*:\/\//i.test(configured) ? configured : endpointFor(undefined, configured)
  if (hostPort === undefined) return undefined
  return `${hostPort.endsWith(":443") ? "https" : "http"}://${hostPort}`
}

const invalid = (url: string, message: string, hint = SUPPORTED) =>
  new Errors.StorageError({ message, url, hint })

/** Location.parse: each segment decoded once; a bad escape, `.`/`..` or an encoded `/` is a Left. */
const safeParse = (url: string): Either.Either<Location.Location, string> => Location.parse(url)

/** Parses an s3:// URL (a bucket alone is allowed: locations may name one). */
export const parse = (url: string, configuredEndpoint: string | undefined): Either.Either<S3Target, Errors.StorageError> => {
  const parsed = safeParse(url)
  if (Either.isLeft(parsed)) return Either.left(invalid(url, parsed.left))
  const location = parsed.right
  if (location.scheme !== "s3") {
    return Either.left(invalid(url, `"${url}" is not an s3:// URL`))
  }
  return Either.right({
    url,
    endpoint: endpointFor(configuredEndpoint, location.endpoint),
    bucket: location.bucket,
    key: location.key
  })
}

/** Parses a URL that must name an object, not just a bucket. */
export const parseObject = (url: string, configuredEndpoint: string | undefined): Either.Either<S3Target, Errors.StorageError> =>
  Either.flatMap(parse(url, configuredEndpoint), (target) =>
    target.key === ""
      ? Either.left(invalid(url, `"${url}" names a bucket, not an object`, "give a key after the bucket"))
      : Either.right(target)
  )

/**
 * A key as it appears in a URL we hand out: each `/`-separated segment encoded
 * (Location's one representation), so Location.parse gives the key back exactly.
 */
export const encodeKey = (key: string): string => key.split("/").map(Location.encodeSegment).join("/")

/** `host:port/bucket` or `bucket`: the bucket encoded as a segment, the authority kept as it is. */
const encodeHead = (head: string): string => {
  const slash = head.indexOf("/")
  return slash < 0 ? Location.encodeSegment(head) : `${head.slice(0, slash)}/${Location.encodeSegment(head.slice(slash + 1))}`
}

/** The URL of `key` below `prefixUrl`, which names `prefixKey`, in the prefix URL's own form. */
export const childUrl = (prefixUrl: string, prefixKey: string, key: string): string => {
  const rest = prefixKey === "" ? key : key.slice(prefixKey.length + 1)
  return `${prefixUrl.replace(/\/+$/, "")}/${encodeKey(rest)}`
}

/**
 * `s3://[host:port/]bucket/key` → `s3://[host:port/]bucket/.hysds-stac-backup/<tx>/key`,
 * the layout LocalStore uses: same bucket, so the copy is server-side and covered
 * by the credentials the location was authorized with.
 */
export const backupUrl = (url: string, tx: string): string => {
  const parsed = safeParse(url)
  // Not an s3 object URL: unusable anyway, using it fails with the parse error.
  if (Either.isLeft(parsed) || parsed.right.scheme !== "s3" || parsed.right.key === "") return `${url}${BACKUP_DIR}-${tx}`
  const { endpoint, bucket, key } = parsed.right
  const head = endpoint === undefined ? bucket : `${endpoint}/${bucket}`
  return `s3://${encodeHead(head)}/${BACKUP_DIR}/${Location.encodeSegment(tx)}/${encodeKey(key)}`
}

/**
 * CopySource is `bucket/key`, URL-encoded: `/` stays a separator, everything a
 * URL may misread (space, `%`, `+`, `?`, `#`, and the `!'()*` that
 * encodeURIComponent keeps) is escaped.
 */
export const copySource = (bucket: string, key: string): string =>
  `${bucket}/${key
    .split("/")
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join("/")}`
