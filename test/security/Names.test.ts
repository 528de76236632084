/**
 * Issue 8, cases 2 and 4: hostile file and product-dir names. For every store
 * (a `file://` location, `s3://` mapped into the embedded state dir, the REAL
 * S3 of test/services), a corpus of names a filesystem allows either
 * - is refused at planning, each name's file named, exit 4, nothing published, or
 * - publishes to exactly `<location>/<name>` (the key is the name, byte for
 *   byte: never decoded), and a failure after the files step, a failed forced
 *   re-ingest, or a SIGKILL followed by `recover` all leave the store as it was.
 * Attacks aim `../` names at the canary tree, which must stay unchanged, and a
 * clean ingest of examples/mixed-job succeeds afterwards.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { LocalStore } from "@hysds-stac/adapters"
import * as fs from "node:fs"
import * as path from "node:path"
import { services } from "../integration/Real.ts"
import * as Real from "../integration/Real.ts"
import { DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, CreateBucketCommand, S3Client } from "../integration/S3Sdk.ts"
import { makeCanary } from "./Canary.ts"
import { cli, type CliResult, DATASETS, describeRun, EXIT, hashTree, journalRecords, ROOT, sandbox, sha256, storeDir } from "../support/State.ts"

/** Names that publish faithfully: the key is the name. `%41` proves a name is never decoded. */
const ACCEPTED = [
  "pct%.tif",
  "bad%zz.tif",
  "a%2Fb.tif",
  "%41.tif",
  "caf\u00e9-nfc.tif",
  "cafe\u0301-nfd.tif",
  "\u{1F6F0}\uFE0F-sat.tif",
  "with space.tif",
  "q?.tif",
  "h#.tif"
]
/** A 255-byte file name (the usual filesystem limit); product dirs need room for `<id>.dataset.json`. */
const LONG_FILE = `${"x".repeat(251)}.tif`
const LONG_DIR = `${"y".repeat(235)}.tif`

/** Names refused at planning: control characters, and `..` after decoding (aimed at the canary). */
const REFUSED_FILES = ["new\nline.tif", "cr\rhere.tif", "tab\there.tif", "del\x7f.tif", "..%2F..%2Fcanary%2Fvictim.txt", "%2e%2e", "..%252F..%252Fcanary"]
const REFUSED_DIRS = ["new\nline", "cr\rhere", "tab\there", "del\x7f", "x%2F..%2F..%2Fcanary", "x%252F..%252F..%252Fcanary"]

type Kind = "file" | "embedded-s3" | "real-s3"

interface Store {
  readonly prefix: string
  /** Every object under the publish root, `[key relative to the root, sha256]`, sorted. */
  readonly state: () => Promise<Array<readonly [string, string]>>
  readonly env: Record<string, string>
}

const writeJson = (file: string, json: unknown) => fs.writeFileSync(file, JSON.stringify(json, null, 2))

/** A classic product `dir/<id>` with its dataset.json and met.json (and `quality`: a number, or an object to fail GRQ). */
const product = (job: string, id: string, quality: unknown, files: ReadonlyArray<string> = []) => {
  const dir = path.join(job, id)
  fs.mkdirSync(dir, { recursive: true })
  writeJson(path.join(dir, `${id}.dataset.json`), { version: "v1" })
  writeJson(path.join(dir, `${id}.met.json`), { quality })
  for (const f of files) fs.writeFileSync(path.join(dir, f), `content of ${f}`)
  return dir
}

const job = (root: string, name: string, prefix: string, options: { readonly names: "accepted" | "refused"; readonly fail?: boolean }) => {
  const dir = path.join(root, name)
  fs.mkdirSync(dir, { recursive: true })
  writeJson(path.join(dir, "_job.json"), { status: "job-completed" })
  writeJson(path.join(dir, "_context.json"), {})
  if (options.names === "accepted") {
    product(dir, `${prefix}files`, 1, [...ACCEPTED, LONG_FILE])
    for (const n of [...ACCEPTED, LONG_DIR]) product(dir, `${prefix}${n}`, 1)
  } else {
    product(dir, `${prefix}files`, 1, REFUSED_FILES)
    for (const n of REFUSED_DIRS) product(dir, `${prefix}${n}`, 1)
  }
  // Sorted last: its GRQ document conflicts with the mapping the others set, after every file was published.
  if (options.fail) product(dir, `${prefix}zzzz_fail`, { score: 3 })
  return dir
}

/** The keys an accepted job publishes, relative to the publish root, and their content. */
const expectedKeys = (prefix: string): Array<readonly [string, string]> => {
  const out: Array<readonly [string, string]> = []
  for (const f of [...ACCEPTED, LONG_FILE]) out.push([`${prefix}files/${f}`, sha256(`content of ${f}`)])
  return out
}

const datasets = (file: string, root: string) =>
  writeJson(file, {
    datasets: [
      {
        ipath: "hysds::data/names-file",
        version: "v1",
        level: "l0",
        type: "names",
        match_pattern: "(?s)/(?P<id>NF_.+)$",
        publish: { location: `file://${root}/pub/{id}`, urls: ["https://example.com/nf/{id}"] }
      },
      {
        ipath: "hysds::data/names-s3",
        version: "v1",
        level: "l0",
        type: "names",
        match_pattern: "(?s)/(?P<id>NS_.+)$",
        publish: { location: "s3://{{ NAMES_BUCKET | default('names-bucket') }}/products/{id}", urls: ["https://example.com/ns/{id}"] }
      }
    ]
  })

const run = (args: ReadonlyArray<string>, env: Record<string, string>, timeoutMs = 110_000) => cli(args, { env, timeoutMs })

const expectExit = (r: CliResult, code: number) => {
  if (r.exitCode !== code) throw new Error(`expected exit ${code}\n${describeRun(r)}`)
}

const sandboxes: Array<{ cleanup: () => void }> = []
afterAll(() => {
  for (const s of sandboxes) s.cleanup()
})

const localStore = (kind: "file" | "embedded-s3", root: string, state: string): Store =>
  kind === "file"
    ? { prefix: "NF_", state: async () => hashTree(path.join(root, "pub")), env: {} }
    : { prefix: "NS_", state: async () => hashTree(path.join(storeDir(state), "s3", "names-bucket", "products")), env: {} }

/** The whole corpus against one store. */
const corpus = async (kind: Kind, make: (root: string, state: string) => Promise<Store>) => {
  const box = sandbox(`names-${kind}`)
  sandboxes.push(box)
  const canary = makeCanary(box.root)
  const before = canary.hashes()
  const ds = box.path("datasets.json")
  datasets(ds, box.root)
  const state = box.stateDir
  const store = await make(box.root, state)
  const ingest = (jobDir: string, extra: ReadonlyArray<string> = []) =>
    run(["ingest", jobDir, "--datasets", ds, "--state-dir", state, "--json", ...extra], store.env)

  // 1. Refused at planning, every name named, nothing published.
  const refusedJob = job(box.root, "refused-job", store.prefix, { names: "refused" })
  const refused = await ingest(refusedJob)
  expectExit(refused, EXIT.validation)
  const problems = (JSON.parse(refused.stdout) as { error: { problems: Array<{ file: string; message: string }> } }).error.problems
  for (const n of REFUSED_FILES) {
    expect(problems.some((p) => p.file === path.join(refusedJob, `${store.prefix}files`, n))).toBe(true)
  }
  for (const n of REFUSED_DIRS) {
    expect(problems.some((p) => p.file.startsWith(path.join(refusedJob, `${store.prefix}${n}`)))).toBe(true)
  }
  expect(await store.state()).toEqual([])
  expect(canary.hashes()).toEqual(before)

  // 2. A failure after the files step rolls every hostile name back.
  const failing = await ingest(job(box.root, "failing-job", store.prefix, { names: "accepted", fail: true }))
  expectExit(failing, EXIT.index)
  expect(JSON.parse(failing.stdout).rollback.failed).toEqual([])
  expect(await store.state()).toEqual([])
  expect(canary.hashes()).toEqual(before)

  // 3. Published: each file at exactly <location>/<name>.
  const good = job(box.root, "good-job", store.prefix, { names: "accepted" })
  expectExit(await ingest(good), EXIT.ok)
  const published = await store.state()
  for (const [key, hash] of expectedKeys(store.prefix)) expect(published).toContainEqual([key, hash])
  for (const n of [...ACCEPTED, LONG_DIR]) {
    const id = `${store.prefix}${n}`
    expect(published.map(([k]) => k)).toContain(`${id}/${id}.dataset.json`)
  }
  expect(published.filter(([k]) => k.includes(".hysds-stac-"))).toEqual([])

  // 4. A failed forced re-ingest puts every hostile name back byte for byte (backups under odd names).
  const forced = await ingest(job(box.root, "forced-job", store.prefix, { names: "accepted", fail: true }), ["--force"])
  expectExit(forced, EXIT.index)
  expect(JSON.parse(forced.stdout).rollback.failed).toEqual([])
  expect(await store.state()).toEqual(published)
  expect(canary.hashes()).toEqual(before)
  return { box, state, store, canary, before }
}

describe("hostile names: embedded file:// location", () => {
  test(
    "refused at planning or published faithfully and rolled back; a clean ingest follows",
    async () => {
      const { box, state } = await corpus("file", async (root, state) => localStore("file", root, state))
      const clean = await run(["ingest", box.copyExample("mixed-job"), "--datasets", DATASETS, "--state-dir", state, "--json"], {})
      expectExit(clean, EXIT.ok)
    },
    300_000
  )
})

describe("hostile names: embedded s3:// (mapped into the state dir)", () => {
  test(
    "refused at planning or published faithfully and rolled back; a clean ingest follows",
    async () => {
      const { box, state } = await corpus("embedded-s3", async (root, state) => localStore("embedded-s3", root, state))
      const clean = await run(["ingest", box.copyExample("mixed-job"), "--datasets", DATASETS, "--state-dir", state, "--json"], {})
      expectExit(clean, EXIT.ok)
    },
    300_000
  )
})

describe("hostile names: SIGKILL after the files step, then recover", () => {
  test(
    "recover removes every hostile-named object and every partial-upload temp file",
    async () => {
      const box = sandbox("names-crash")
      sandboxes.push(box)
      const ds = box.path("datasets.json")
      datasets(ds, box.root)
      for (const prefix of ["NF_", "NS_"]) {
        // Where the PutObjects step of the first product is done: every file is on disk.
        const refState = box.path(`ref-${prefix}`)
        const ref = await run(["ingest", job(box.root, `ref-${prefix}`, prefix, { names: "accepted" }), "--datasets", ds, "--state-dir", refState, "--json"], {})
        expectExit(ref, EXIT.ok)
        fs.rmSync(path.join(box.root, "pub"), { recursive: true, force: true }) // the file:// location is shared
        const records = journalRecords(refState)
        const putIntent = records.findIndex((r) => r._tag === "Intent" && r.action?._tag === "PutObjects" && r.action.product === `${prefix}files`)
        const putDone = records.findIndex((r, i) => i > putIntent && r._tag === "Done" && r.step === records[putIntent]!.step)
        expect(putIntent).toBeGreaterThan(0)
        expect(putDone).toBeGreaterThan(putIntent)
        // Kill right after the files step of the product holding every hostile file name is done.
        const state = box.path(`state-${prefix}`)
        const crashJob = job(box.root, `crash-${prefix}`, prefix, { names: "accepted" })
        const crashed = await run(["ingest", crashJob, "--datasets", ds, "--state-dir", state, "--json"], {
          HYSDS_STAC_CRASH_AT: String(putDone + 1)
        })
        expect(crashed.exitCode).not.toBe(0)
        const published = prefix === "NF_" ? hashTree(path.join(box.root, "pub")) : hashTree(storeDir(state))
        expect(published.length).toBeGreaterThan(0) // a test that cannot fail is a defect: there is something to recover
        const dirOf = (id: string) =>
          prefix === "NF_" ? path.join(box.root, "pub", id) : path.join(storeDir(state), "s3", "names-bucket", "products", id)
        // What an upload cut off by SIGKILL leaves: a temp sibling of each target, for a few hostile names.
        for (const n of ["a%2Fb.tif", "q?.tif", "caf\u00e9-nfc.tif"]) {
          const target = path.join(dirOf(`${prefix}files`), n)
          fs.mkdirSync(path.dirname(target), { recursive: true })
          fs.writeFileSync(LocalStore.partialPath(target), "half an upload")
        }
        expectExit(await run(["recover", "--state-dir", state, "--json"], {}), EXIT.ok)
        const left = prefix === "NF_" ? hashTree(path.join(box.root, "pub")) : hashTree(storeDir(state))
        expect(left).toEqual([])
        // And the crashed job can now be published.
        expectExit(await run(["ingest", crashJob, "--datasets", ds, "--state-dir", state, "--json"], {}), EXIT.ok)
        fs.rmSync(path.join(box.root, "pub"), { recursive: true, force: true })
      }
    },
    300_000
  )
})

const svc = services()
describe.skipIf(svc === undefined)("hostile names: the real S3 (SeaweedFS)", () => {
  test(
    "refused at planning or published faithfully and rolled back; a clean ingest follows",
    async () => {
      const t = Real.tag()
      const bucket = `hsit-${t}-names`
      const buckets = Real.bucketsFor(t)
      const client = Real.s3Client(svc!)
      await client.send(new CreateBucketCommand({ Bucket: bucket }))
      await Real.createBuckets(client, buckets)
      const credentials = Real.credentialsFile(svc!)
      const env: Record<string, string> = {
        HYSDS_STAC_STORE: "s3",
        S3_ENDPOINT: svc!.S3_ENDPOINT!,
        S3_ACCESS_KEY_ID: svc!.S3_ACCESS_KEY_ID!,
        S3_SECRET_ACCESS_KEY: svc!.S3_SECRET_ACCESS_KEY!,
        S3_REGION: svc!.S3_REGION ?? "us-east-1",
        S3_FORCE_PATH_STYLE: "true",
        AWS_SHARED_CREDENTIALS_FILE: credentials,
        AWS_CONFIG_FILE: `${credentials}.config-absent`,
        NAMES_BUCKET: bucket,
        STAC_S3_BUCKET: buckets.catalogs,
        DATASET_BUCKET: buckets.products,
        BROWSE_BUCKET: buckets.browse
      }
      const state = async () => {
        const out: Array<readonly [string, string]> = []
        let token: string | undefined
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "products/", ...(token ? { ContinuationToken: token } : {}) }))
          for (const o of page.Contents ?? []) {
            const body = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))
            out.push([o.Key!.slice("products/".length), Real.sha256(await body.Body!.transformToByteArray())])
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined
        } while (token)
        return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      }
      try {
        const { state: stateDir } = await corpus("real-s3", async () => ({ prefix: "NS_", state, env }))
        const mixed = Real.mixedJob(t)
        expectExit(await run(["ingest", mixed.dir, "--datasets", DATASETS, "--state-dir", stateDir, "--json"], env), EXIT.ok)
      } finally {
        for (const b of [bucket]) {
          const page = await client.send(new ListObjectsV2Command({ Bucket: b }))
          const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }))
          if (keys.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: keys } }))
          await client.send(new DeleteBucketCommand({ Bucket: b })).catch(() => undefined)
        }
        await Real.deleteBuckets(client, buckets)
      }
    },
    400_000
  )
})

void ROOT
void S3Client
