/**
 * The S3 clients a store talks through: one per distinct (endpoint, credentials),
 * made on first use and kept, all sharing one keep-alive connection pool.
 *
 * HySDS lets each datasets.json entry name its own profile or keys for its
 * locations, so which client serves a URL depends on the URL: `grant` records
 * credentials for a location, and the longest granted location above a URL
 * decides its client. A URL under no grant uses the store's own credentials
 * (or the SDK's default chain: environment, AWS_PROFILE, instance role).
 */
import { S3Client } from "@aws-sdk/client-s3"
import { fromIni } from "@aws-sdk/credential-providers"
import { ConfiguredRetryStrategy } from "@smithy/core/retry"
import { NodeHttpHandler } from "@smithy/node-http-handler"
import { Retry } from "@hysds-stac/core"
import { Effect, type Scope } from "effect"
import { createHash } from "node:crypto"
import * as http from "node:http"
import * as https from "node:https"
import { redactWith } from "./S3Failure.ts"
import type { S3Target } from "./S3Location.ts"
import type { S3Config } from "./S3Store.ts"

export type Credentials =
  | { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }
  | { readonly profile: string }

export interface Settings {
  readonly region: string
  readonly forcePathStyle: boolean
  readonly maxAttempts: number
  /** The backoff between attempts (default core Retry.requestDefaults'). */
  readonly retryDelays?: Retry.Delays
  readonly maxSockets: number
  readonly requestTimeoutMs?: number
  /** Used where no grant applies; undefined for the SDK's default chain. */
  readonly credentials?: Credentials
}

interface Grant {
  readonly endpoint: string | undefined
  readonly bucket: string
  /** Key prefix the grant covers; empty for the whole bucket. */
  readonly prefix: string
  /** Undefined: the store's own credentials. */
  readonly credentials: Credentials | undefined
}

export interface Clients {
  /** The client for a URL's server and credentials. */
  readonly forTarget: (target: S3Target) => S3Client
  /** Equal for two targets exactly when they are served by the same client. */
  readonly idOf: (target: S3Target) => string
  /** Serves every URL at or below `location` with `credentials` from now on (undefined: the store's own). */
  readonly grant: (location: S3Target, credentials: Credentials | undefined) => void
  /** Removes every secret the clients know of from a text meant for humans. */
  readonly redact: (text: string) => string
  /** Closes the pooled connections. */
  readonly destroy: () => void
}

/**
 * Identifies credentials without holding the secret in the id: two grants with
 * the same keys share a client, and the id is safe to keep as a map key.
 */
const credentialsId = (c: Credentials | undefined): string => {
  if (c === undefined) return "default-chain"
  if ("profile" in c) return `profile:${c.profile}`
  const digest = createHash("sha256").update(`${c.secretAccessKey}\0${c.sessionToken ?? ""}`).digest("hex").slice(0, 16)
  return `keys:${c.accessKeyId}:${digest}`
}

const secretsOf = (c: Credentials | undefined): Array<string> =>
  c === undefined || "profile" in c ? [] : [c.secretAccessKey, ...(c.sessionToken ? [c.sessionToken] : [])]

const covers = (grant: Grant, target: S3Target): boolean =>
  grant.endpoint === target.endpoint &&
  grant.bucket === target.bucket &&
  (grant.prefix === "" || target.key === grant.prefix || target.key.startsWith(`${grant.prefix}/`))

/**
 * One keep-alive pool for every client: connections to a server are reused
 * across files and across clients, and `maxSockets` bounds them per server.
 */
const connectionPool = (settings: Settings): NodeHttpHandler =>
  new NodeHttpHandler({
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: settings.maxSockets }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: settings.maxSockets }),
    ...(settings.requestTimeoutMs !== undefined
      ? { requestTimeout: settings.requestTimeoutMs, throwOnRequestTimeout: true }
      : {})
  })

const sdkCredentials = (c: Credentials) =>
  "profile" in c
    ? fromIni({ profile: c.profile })
    : { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) }

export const make = (settings: Settings): Clients => {
  const handler = connectionPool(settings)
  const clients = new Map<string, S3Client>()
  const grants: Array<Grant> = []
  const secrets = new Set(secretsOf(settings.credentials))
  let redact = redactWith(secrets)

  const credentialsFor = (target: S3Target): Credentials | undefined => {
    let best: Grant | undefined
    for (const g of grants) if (covers(g, target) && (best === undefined || g.prefix.length > best.prefix.length)) best = g
    return best?.credentials ?? settings.credentials
  }

  const idOf = (target: S3Target) => `${target.endpoint ?? "aws"}\n${credentialsId(credentialsFor(target))}`

  const forTarget = (target: S3Target): S3Client => {
    const id = idOf(target)
    const existing = clients.get(id)
    if (existing !== undefined) return existing
    const credentials = credentialsFor(target)
    const client = new S3Client({
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      // The SDK decides what is worth retrying (throttling, 5xx, connection
      // errors); how long to wait is the project's one policy (core Retry).
      retryStrategy: new ConfiguredRetryStrategy(settings.maxAttempts, (retry) =>
        Retry.delayMillis({ ...(settings.retryDelays ?? Retry.requestDefaults), retries: settings.maxAttempts - 1 }, retry)
      ),
      requestHandler: handler,
      ...(target.endpoint !== undefined ? { endpoint: target.endpoint } : {}),
      ...(credentials !== undefined ? { credentials: sdkCredentials(credentials) } : {})
    })
    clients.set(id, client)
    return client
  }

  const grant = (location: S3Target, credentials: Credentials | undefined) => {
    const at = grants.findIndex(
      (g) => g.endpoint === location.endpoint && g.bucket === location.bucket && g.prefix === location.key
    )
    const next: Grant = { endpoint: location.endpoint, bucket: location.bucket, prefix: location.key, credentials }
    if (at >= 0) grants[at] = next
    else grants.push(next)
    for (const s of secretsOf(credentials)) secrets.add(s)
    redact = redactWith(secrets)
  }

  return {
    forTarget,
    idOf,
    grant,
    redact: (text) => redact(text),
    // The clients only borrow the shared handler; destroying it closes every socket.
    destroy: () => handler.destroy()
  }
}

/**
 * The clients for a store's settings, closed with `scope`. `sockets` is the
 * pool size when the config names none: the store moves many objects at once,
 * a journal only its own records.
 */
export const scoped = (config: S3Config, sockets: number): Effect.Effect<Clients, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() =>
      make({
        region: config.region,
        forcePathStyle: config.forcePathStyle,
        maxAttempts: Math.max(1, Math.floor(config.maxAttempts ?? 6)),
        ...(config.retryDelays !== undefined ? { retryDelays: config.retryDelays } : {}),
        maxSockets: Math.max(1, Math.floor(config.maxSockets ?? sockets)),
        ...(config.requestTimeoutMs !== undefined ? { requestTimeoutMs: config.requestTimeoutMs } : {}),
        ...(config.credentials !== undefined ? { credentials: config.credentials } : {})
      })
    ),
    (clients) => Effect.sync(() => clients.destroy())
  )
