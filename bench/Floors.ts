/**
 * Raw floors: the same work as each ingest phase done the plainest way, on the
 * same data and servers in the same run, so each phase of the project is
 * reported as a ratio to what its backend can do at all (the machine is shared
 * and loaded; absolute seconds alone say little).
 *
 * - filesystem: walk, stat every entry, read and JSON-parse every .json file
 *   (synchronous node:fs, one thread, no validation);
 * - S3: one bare PutObject per file, `concurrency` at a time, through a client
 *   made by the store's own S3Clients with the store's defaults (keep-alive
 *   pool of 32 sockets, 6 attempts);
 * - STAC: `bulk_items` POSTs of the same items, `batch` per request, one after
 *   another, into a scratch collection;
 * - GRQ: `_bulk` of the same documents, `batch` per request, one after
 *   another, no refresh per request and one `_refresh` at the end, into a
 *   scratch index made with the installed `grq` template's settings and
 *   mappings (so the same analysis work), outside the alias `grq`.
 *
 * Each floor removes what it wrote.
 */
import { DeleteObjectsCommand, PutObjectCommand } from "@aws-sdk/client-s3"
import { S3Clients } from "@hysds-stac/adapters"
import * as fs from "node:fs"
import * as path from "node:path"

type Json = Record<string, unknown>

const seconds = async (work: () => Promise<void>): Promise<number> => {
  const started = performance.now()
  await work()
  return (performance.now() - started) / 1000
}

/** (a) Walk + stat + read + parse of the job tree. */
export const filesystem = (jobDir: string): Promise<{ seconds: number; files: number; json: number }> => {
  let files = 0
  let json = 0
  return seconds(async () => {
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name)
        const st = fs.lstatSync(full)
        if (st.isDirectory()) {
          walk(full)
          continue
        }
        files++
        if (entry.name.endsWith(".json")) {
          JSON.parse(fs.readFileSync(full, "utf8"))
          json++
        }
      }
    }
    walk(fs.realpathSync(jobDir))
  }).then((s) => ({ seconds: s, files, json }))
}

export interface S3Floor {
  readonly endpoint: string
  readonly region: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly bucket: string
}

/** Runs `work` over `list`, `concurrency` at a time. */
const pool = async <A>(list: ReadonlyArray<A>, concurrency: number, work: (a: A) => Promise<void>) => {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, list.length) }, async () => {
      while (next < list.length) await work(list[next++]!)
    })
  )
}

/** (b) Bare PutObject of `files` (absolute paths) under `prefix`; the objects are deleted after. */
export const s3 = async (target: S3Floor, prefix: string, files: ReadonlyArray<string>, concurrency: number): Promise<number> => {
  const clients = S3Clients.make({
    region: target.region,
    forcePathStyle: true,
    maxAttempts: 6,
    maxSockets: 32,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey }
  })
  const client = clients.forTarget({ url: `s3://${target.bucket}/${prefix}`, endpoint: target.endpoint, bucket: target.bucket, key: prefix })
  const keys = files.map((f, i) => `${prefix}/${i}-${path.basename(f)}`)
  try {
    return await seconds(() =>
      pool(
        files.map((f, i) => [f, keys[i]!] as const),
        concurrency,
        async ([file, key]) => {
          await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: fs.readFileSync(file) }))
        }
      )
    )
  } finally {
    for (let i = 0; i < keys.length; i += 1000) {
      await client.send(
        new DeleteObjectsCommand({ Bucket: target.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } })
      )
    }
    clients.destroy()
  }
}

const send = async (url: string, init: { method: string; body?: string | Json; contentType?: string }): Promise<Json> => {
  const res = await fetch(url, {
    method: init.method,
    headers: { "content-type": init.contentType ?? "application/json" },
    ...(init.body !== undefined ? { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) } : {})
  })
  const text = await res.text()
  if (!res.ok && res.status !== 404) throw new Error(`${init.method} ${url}: ${res.status} ${text.slice(0, 300)}`)
  return text ? (JSON.parse(text) as Json) : {}
}

/** (c) Bare `bulk_items` of `items`, `batch` per request, into scratch collection `collection` (deleted after). */
export const stac = async (baseUrl: string, template: Json, collection: string, items: ReadonlyArray<Json>, batch: number): Promise<number> => {
  const base = baseUrl.replace(/\/$/, "")
  await send(`${base}/collections`, { method: "POST", body: { ...template, id: collection, links: [] } })
  try {
    return await seconds(async () => {
      for (let i = 0; i < items.length; i += batch) {
        const part = items.slice(i, i + batch)
        const reply = await send(`${base}/collections/${collection}/bulk_items`, {
          method: "POST",
          body: { items: Object.fromEntries(part.map((it) => [String(it.id), { ...it, collection }])), method: "insert" }
        })
        if (Array.isArray(reply.errors) && reply.errors.length > 0) throw new Error(`bulk_items refused: ${JSON.stringify(reply.errors[0])}`)
      }
    })
  } finally {
    // pgstac deletes a collection's items with it.
    await send(`${base}/collections/${collection}`, { method: "DELETE" })
  }
}

/** (d) Bare `_bulk` of `docs`, `batch` per request, one `_refresh` at the end, into scratch index `index` (deleted after). */
export const grq = async (baseUrl: string, index: string, docs: ReadonlyArray<{ id: string; doc: unknown }>, batch: number): Promise<number> => {
  const base = baseUrl.replace(/\/$/, "")
  const template = (await send(`${base}/_index_template/grq`, { method: "GET" })) as { index_templates?: Array<{ index_template: { template: Json } }> }
  const t = template.index_templates?.[0]?.index_template.template ?? {}
  await send(`${base}/${index}`, { method: "PUT", body: { ...(t.settings ? { settings: t.settings } : {}), ...(t.mappings ? { mappings: t.mappings } : {}) } })
  try {
    return await seconds(async () => {
      for (let i = 0; i < docs.length; i += batch) {
        const body = docs
          .slice(i, i + batch)
          .map((d) => `${JSON.stringify({ index: { _index: index, _id: d.id } })}\n${JSON.stringify(d.doc)}\n`)
          .join("")
        const reply = await send(`${base}/_bulk`, { method: "POST", body, contentType: "application/x-ndjson" })
        if (reply.errors === true) throw new Error(`_bulk rejected documents: ${JSON.stringify(reply).slice(0, 300)}`)
      }
      await send(`${base}/${index}/_refresh`, { method: "POST" })
    })
  } finally {
    await send(`${base}/${index}`, { method: "DELETE" })
  }
}
