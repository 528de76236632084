/**
 * The test services as the benchmarks that run the CLI as a process see them:
 * the environment that points an ingest at them (from
 * test/services/.run/services.env, written by `services.sh start`), the bench
 * bucket, and the removal of what generated jobs published.
 */
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3"
import * as fs from "node:fs"
import * as path from "node:path"
import { namesOf } from "./Generate.ts"

export const BUCKET = "hysds-stac-bench"

const FILE = path.resolve(import.meta.dir, "..", "test", "services", ".run", "services.env")

/** What a generated job published: its tag and number of items name all of it (Generate.namesOf). */
export interface Published {
  readonly tag: string
  readonly items: number
}

export interface Services {
  /** The process environment for `hysds-stac ingest` against the services (this process's own, backend settings replaced). */
  readonly env: Record<string, string>
  /** Removes every object under `prefix` of the bench bucket. */
  readonly removePrefix: (prefix: string) => Promise<void>
  /** Removes what the jobs published: STAC collections (pgstac deletes their items), GRQ documents, objects. */
  readonly remove: (published: ReadonlyArray<Published>) => Promise<void>
  readonly close: () => void
}

/** The services' endpoints as `services.sh start` wrote them; undefined when they were not started here. */
export const endpoints = (): Record<string, string> | undefined =>
  fs.existsSync(FILE)
    ? Object.fromEntries(
        fs.readFileSync(FILE, "utf8").split("\n").filter((l) => l.includes("=") && !l.startsWith("#")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])
      )
    : undefined

/** Connects to the running test services and makes sure the bench bucket exists; fails with what to run when they are not up. */
export const connect = async (): Promise<Services> => {
  const svc = endpoints()
  if (svc === undefined) throw new Error(`${FILE} is missing: start the test services first (bash test/services/services.sh start)`)
  const env: Record<string, string> = {
    ...(Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(AWS_|S3_|GRQ_|STAC_|HYSDS_)/.test(k))) as Record<string, string>),
    HYSDS_STAC_STORE: "s3",
    S3_ENDPOINT: svc.S3_ENDPOINT!,
    S3_ACCESS_KEY_ID: svc.S3_ACCESS_KEY_ID!,
    S3_SECRET_ACCESS_KEY: svc.S3_SECRET_ACCESS_KEY!,
    S3_REGION: svc.S3_REGION ?? "us-east-1",
    GRQ_ES_ENGINE: "opensearch",
    GRQ_ES_URL: svc.OPENSEARCH_URL!,
    STAC_API_URL: svc.STAC_API_URL!,
    BENCH_BUCKET: BUCKET
  }
  const s3 = new S3Client({
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION!,
    forcePathStyle: true,
    credentials: { accessKeyId: env.S3_ACCESS_KEY_ID!, secretAccessKey: env.S3_SECRET_ACCESS_KEY! }
  })
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((e: { name?: string }) => {
    if (e.name !== "BucketAlreadyOwnedByYou" && e.name !== "BucketAlreadyExists") throw e
  })

  const removePrefix = async (prefix: string) => {
    for (;;) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))
      const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key! }))
      if (objects.length === 0) return
      await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: objects, Quiet: true } }))
    }
  }

  const remove = async (published: ReadonlyArray<Published>) => {
    const stac = env.STAC_API_URL!.replace(/\/+$/, "")
    for (const { tag } of published) await fetch(`${stac}/collections/${encodeURIComponent(namesOf(tag).collection)}`, { method: "DELETE" }).catch(() => undefined)
    const ids = published.flatMap(({ tag, items }) => {
      const { catalogId, itemId } = namesOf(tag)
      return [catalogId, ...Array.from({ length: items }, (_, i) => itemId(i))]
    })
    for (let i = 0; i < ids.length; i += 1000) {
      const r = await fetch(`${env.GRQ_ES_URL!.replace(/\/+$/, "")}/grq_*/_delete_by_query?refresh=true&ignore_unavailable=true&allow_no_indices=true&conflicts=proceed`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: { ids: { values: ids.slice(i, i + 1000) } } })
      }).catch((e: unknown) => ({ ok: false, status: String(e), text: async () => "" }))
      if (!r.ok) console.error(`could not delete GRQ documents: ${r.status} ${await r.text()}`)
    }
    for (const { tag } of published) await removePrefix(`catalogs/${namesOf(tag).catalogId}/`)
  }

  return { env, removePrefix, remove, close: () => s3.destroy() }
}
