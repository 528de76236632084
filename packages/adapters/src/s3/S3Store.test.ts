/**
 * S3Store against a real S3 server (SeaweedFS from test/services): the shared
 * ObjectStore contract in each URL form, then what only S3 has: multipart
 * uploads and copies, batched deletes, conditional creates, credentials per
 * location, and errors that say what to fix without leaking secrets.
 *
 * Everything lives in a bucket made for this file and deleted at the end.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test"
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  AbortMultipartUploadCommand
} from "@aws-sdk/client-s3"
import { Effect, Fiber, ManagedRuntime } from "effect"
import { createHash, randomBytes, randomUUID } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { type Errors, ObjectStore } from "@hysds-stac/core"
import * as FaultProxy from "../contract/FaultProxy.ts"
import { objectStoreContract } from "../contract/ObjectStoreContract.ts"
import { endpoint, services, unique } from "../contract/Services.ts"
import * as S3Location from "./S3Location.ts"
import * as S3Store from "./S3Store.ts"

const MiB = 1024 * 1024
const text = (s: string) => new TextEncoder().encode(s)
const str = (b: Uint8Array) => new TextDecoder().decode(b)
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex")

describe("S3Store without a server", () => {
  test("the endpoint: configured wins; else the URL's host, https only on 443", () => {
    expect(S3Location.endpointFor("http://127.0.0.1:8333", "s3-us-west-2.amazonaws.com:443")).toBe("http://127.0.0.1:8333")
    expect(S3Location.endpointFor(undefined, "minio:9000")).toBe("http://minio:9000")
    expect(S3Location.endpointFor(undefined, "s3.example.org:443")).toBe("https://s3.example.org:443")
    expect(S3Location.endpointFor(undefined, undefined)).toBeUndefined()
    expect(S3Location.endpointFor("minio:9000", "ignored:1")).toBe("http://minio:9000")
  })

  test("backupUrl keeps the bucket (and host) and the LocalStore layout", () => {
    expect(S3Store.backupUrl("s3://bkt/prod/a/f.tif", "tx1")).toBe("s3://bkt/.hysds-stac-backup/tx1/prod/a/f.tif")
    expect(S3Store.backupUrl("s3://h:9000/bkt/prod/f.tif", "tx1")).toBe("s3://h:9000/bkt/.hysds-stac-backup/tx1/prod/f.tif")
    expect(S3Store.backupUrl("s3://bkt/100%25.txt", "tx1")).toBe("s3://bkt/.hysds-stac-backup/tx1/100%25.txt")
  })

  test("content types come from the extension", () => {
    expect(S3Store.contentTypeFor("p/x.JSON")).toBe("application/json")
    expect(S3Store.contentTypeFor("p/x.tif")).toBe("image/tiff")
    expect(S3Store.contentTypeFor("p/x.h5")).toBe("application/x-hdf5")
    expect(S3Store.contentTypeFor("p.d/noext")).toBe("application/octet-stream")
  })

  test("multipart copy ranges cover the object exactly", () => {
    expect(S3Store.copyRanges(12, 5)).toEqual([
      { part: 1, range: "bytes=0-4" },
      { part: 2, range: "bytes=5-9" },
      { part: 3, range: "bytes=10-11" }
    ])
    expect(S3Store.copyRanges(10, 5).map((r) => r.range)).toEqual(["bytes=0-4", "bytes=5-9"])
  })

  test("a DeleteObjects answer fails on its first real error; NoSuchKey is none", () => {
    expect(S3Store.firstDeleteError(undefined)).toBeUndefined()
    expect(S3Store.firstDeleteError([{ Key: "a", Code: "NoSuchKey" }])).toBeUndefined()
    expect(S3Store.firstDeleteError([{ Key: "a", Code: "NoSuchKey" }, { Key: "b", Code: "AccessDenied" }])?.Key).toBe("b")
  })

  test("URLs it cannot serve fail naming the URL and the forms it serves", async () => {
    const store = await Effect.runPromise(Effect.scoped(S3Store.make({ region: "us-east-1", forcePathStyle: true })))
    for (const url of ["file:///tmp/x", "gs://b/k", "s3://bucket-only", "s3://b/100%zz"]) {
      const error = await Effect.runPromise(Effect.flip(store.putBytes(url, text("x"), "text/plain")))
      expect(error._tag).toBe("StorageError")
      expect(error.message).toContain(url)
    }
  })

  test("an unreachable endpoint says to check S3_ENDPOINT", async () => {
    const error = await Effect.runPromise(
      Effect.scoped(
        Effect.flatMap(
          S3Store.make({
            endpoint: "http://127.0.0.1:1",
            region: "us-east-1",
            forcePathStyle: true,
            maxAttempts: 1,
            credentials: { accessKeyId: "AKIAUNREACHABLE", secretAccessKey: "unreachable-secret-0000" }
          }),
          (store) => Effect.flip(store.read("s3://b/k"))
        )
      )
    )
    expect(error.hint).toContain("is S3_ENDPOINT right and the server up?")
    expect(error.url).toBe("s3://b/k")
  })
})

const env = services()

if (env === undefined) {
  describe.skip("S3Store against SeaweedFS (test services not started)", () => {
    test("skipped", () => undefined)
  })
} else {
  const s3Endpoint = endpoint(env, "S3_ENDPOINT")
  const hostPort = new URL(s3Endpoint).host
  const keys = { accessKeyId: endpoint(env, "S3_ACCESS_KEY_ID"), secretAccessKey: endpoint(env, "S3_SECRET_ACCESS_KEY") }
  const region = env.S3_REGION ?? "us-east-1"
  const bucket = unique("s3store")
  const config: S3Store.S3Config = { endpoint: s3Endpoint, region, forcePathStyle: true, credentials: keys }
  const admin = new S3Client({ endpoint: s3Endpoint, region, forcePathStyle: true, credentials: keys })
  const scratch = mkdtempSync(path.join(tmpdir(), "hysds-stac-s3store-"))
  const secret = `wrong-secret-${randomUUID()}`

  // What scripts/test.sh gives every test, for runs of this file alone: uploads
  // of megabytes, and SeaweedFS making each loser of a contended conditional PUT
  // wait about a second more than the previous one (8 racing creates: ~7 s).
  setDefaultTimeout(120_000)

  beforeAll(async () => {
    await admin.send(new CreateBucketCommand({ Bucket: bucket }))
  })

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.dispose()))
    await Promise.all(proxies.map((p) => p.stop()))
    await emptyBucket()
    await admin.send(new DeleteBucketCommand({ Bucket: bucket })).catch((e) => console.warn(`could not delete ${bucket}: ${e}`))
    admin.destroy()
    rmSync(scratch, { recursive: true, force: true })
  })

  const emptyBucket = async () => {
    const uploads = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }))
    for (const u of uploads.Uploads ?? []) {
      await admin.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! })).catch(() => undefined)
    }
    let token: string | undefined
    do {
      const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }))
      const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key! }))
      if (objects.length > 0) await admin.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }))
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token !== undefined)
  }

  interface TestStore {
    readonly run: <A>(f: (s: ObjectStore.ObjectStoreShape) => Effect.Effect<A, Errors.StorageError>) => Promise<A>
    readonly fail: <A>(f: (s: ObjectStore.ObjectStoreShape) => Effect.Effect<A, Errors.StorageError>) => Promise<Errors.StorageError>
    readonly dispose: () => Promise<void>
  }
  const stores: Array<TestStore> = []
  const proxies: Array<FaultProxy.FaultProxy> = []
  /** A store with `overrides` on the test config, closed after the file. */
  const storeWith = (overrides: Partial<S3Store.S3Config> = {}): TestStore => {
    const runtime = ManagedRuntime.make(S3Store.layer({ ...config, ...overrides }))
    const store: TestStore = {
      run: (f) => runtime.runPromise(Effect.flatMap(ObjectStore.ObjectStore, f)),
      fail: (f) => runtime.runPromise(Effect.flip(Effect.flatMap(ObjectStore.ObjectStore, f))),
      dispose: () => runtime.dispose()
    }
    stores.push(store)
    return store
  }
  const store = storeWith()
  const fresh = () => `s3://${bucket}/t/${randomUUID()}`
  const localFile = (bytes: Uint8Array, name = `${randomUUID()}.bin`) => {
    const file = path.join(scratch, name)
    writeFileSync(file, bytes)
    return file
  }

  objectStoreContract("S3Store, s3://bucket/key", () => S3Store.layer(config), () => `s3://${bucket}/contract/${randomUUID()}`)
  objectStoreContract(
    "S3Store, s3://host:port/bucket/key naming an AWS host, served by the configured endpoint",
    () => S3Store.layer(config),
    () => `s3://s3-us-west-2.amazonaws.com:80/${bucket}/contract/${randomUUID()}`
  )
  objectStoreContract(
    "S3Store, no configured endpoint: the server is the URL's host:port",
    () => S3Store.layer({ region, forcePathStyle: true, credentials: keys }),
    () => `s3://${hostPort}/${bucket}/contract/${randomUUID()}`
  )

  describe("S3Store URL forms", () => {
    test("s3://host:port/bucket/key is the same object as s3://bucket/key when an endpoint is configured", async () => {
      const base = fresh()
      const hosted = base.replace("s3://", "s3://aws-host.example.com:443/")
      await store.run((s) => s.putBytes(`${hosted}/a.json`, text("{}"), "application/json"))
      expect(str(await store.run((s) => s.read(`${base}/a.json`)))).toBe("{}")
      expect(await store.run((s) => s.list(hosted))).toEqual([{ url: `${hosted}/a.json`, size: 2 }])
      expect(await store.run((s) => s.list(base))).toEqual([{ url: `${base}/a.json`, size: 2 }])
    })

    test("keys with % and spaces survive list, read and copy", async () => {
      const base = fresh()
      await store.run((s) => s.putBytes(`${base}/p/100%25 done.txt`, text("full"), "text/plain"))
      const [listed] = await store.run((s) => s.list(`${base}/p`))
      // Listed URLs encode each key segment (Location's one representation): parsed back, the key is `100% done.txt`.
      expect(listed?.url).toBe(`${base}/p/100%25%20done.txt`)
      await store.run((s) => s.copy(listed!.url, `${base}/q/copy.txt`))
      expect(str(await store.run((s) => s.read(`${base}/q/copy.txt`)))).toBe("full")
    })

    test("copying an object onto itself leaves it as it is", async () => {
      const url = `${fresh()}/self.txt`
      await store.run((s) => s.putBytes(url, text("same"), "text/plain"))
      await store.run((s) => s.copy(url, url))
      expect(str(await store.run((s) => s.read(url)))).toBe("same")
    })

    test("a key ending in / (a console folder) is not listed: no URL can name it", async () => {
      const base = fresh()
      const key = `${base.slice(`s3://${bucket}/`.length)}/p/folder/`
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: new Uint8Array() }))
      await store.run((s) => s.putBytes(`${base}/p/folder/x.txt`, text("x"), "text/plain"))
      expect((await store.run((s) => s.list(`${base}/p`))).map((o) => o.url)).toEqual([`${base}/p/folder/x.txt`])
    })
  })

  describe("S3Store uploads", () => {
    const multipart = storeWith({ partSizeBytes: 5 * MiB, queueSize: 2, multipartCopyAboveBytes: 5 * MiB })

    test("a file above the part size goes multipart and reads back byte-identical, with its content type", async () => {
      const bytes = new Uint8Array(randomBytes(12 * MiB))
      const url = `${fresh()}/big.tif`
      await multipart.run((s) => s.putFile(url, localFile(bytes), { size: bytes.length }))
      expect(sha256(await multipart.run((s) => s.read(url)))).toBe(sha256(bytes))
      const key = url.slice(`s3://${bucket}/`.length)
      const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
      expect(head.ContentType).toBe("image/tiff")
      expect(head.ContentLength).toBe(bytes.length)
      // A multipart ETag is "<md5 of the parts' md5s>-<parts>": 12 MiB in 5 MiB parts is 3.
      expect(head.ETag).toMatch(/-3"?$/)
    })

    test("an object above the copy threshold is copied part by part, byte-identical, content type kept", async () => {
      const bytes = new Uint8Array(randomBytes(12 * MiB + 7))
      const base = fresh()
      await multipart.run((s) => s.putFile(`${base}/src.h5`, localFile(bytes), { size: bytes.length }))
      await multipart.run((s) => s.copy(`${base}/src.h5`, `${base}/dst.h5`))
      expect(sha256(await multipart.run((s) => s.read(`${base}/dst.h5`)))).toBe(sha256(bytes))
      const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: `${base.slice(`s3://${bucket}/`.length)}/dst.h5` }))
      expect(head.ContentType).toBe("application/x-hdf5")
      expect(head.ETag).toMatch(/-3"?$/)
    })

    test("a declared size that does not match the file fails before anything is written", async () => {
      const base = fresh()
      const error = await store.fail((s) => s.putFile(`${base}/k.bin`, localFile(text("12345")), { size: 4 }))
      expect(error.message).toContain("changed after planning (size 4 → 5 bytes)")
      expect(await store.run((s) => s.list(base))).toEqual([])
    })

    test("a missing local file is named", async () => {
      const missing = path.join(scratch, "no-such-file.bin")
      expect((await store.fail((s) => s.putFile(`${fresh()}/k`, missing, { size: 1 }))).message).toContain(missing)
    })

    test("an interrupted multipart upload leaves neither an object nor parts on the server", async () => {
      const slow = storeWith({ partSizeBytes: 5 * MiB, queueSize: 1 })
      const bytes = new Uint8Array(randomBytes(80 * MiB))
      const url = `${fresh()}/interrupted.bin`
      const key = url.slice(`s3://${bucket}/`.length)
      const file = localFile(bytes)
      const pending = () =>
        admin.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key })).then((r) => (r.Uploads ?? []).length)
      let fiber: Fiber.RuntimeFiber<void, Errors.StorageError> | undefined
      const started = slow.run((s) =>
        Effect.gen(function* () {
          fiber = yield* Effect.forkDaemon(s.putFile(url, file, { size: bytes.length }))
        })
      )
      await started
      // Interrupt once the multipart upload exists on the server (polled, not timed).
      let seen = false
      for (let i = 0; i < 500 && !seen; i++) {
        seen = (await pending()) > 0
        if (!seen) await Bun.sleep(5)
      }
      expect(seen).toBe(true)
      await Effect.runPromise(Fiber.interrupt(fiber!))
      let left = await pending()
      for (let i = 0; i < 100 && left > 0; i++) {
        await Bun.sleep(50)
        left = await pending()
      }
      expect(left).toBe(0)
      expect(await slow.run((s) => s.list(url.slice(0, url.lastIndexOf("/"))))).toEqual([])
    })
  })

  describe("S3Store create", () => {
    test("10 concurrent creates of one marker: exactly one wins, and its content is kept", async () => {
      const url = `${fresh()}/_publish.marker.json`
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.run((s) => s.create(url, text(`writer ${i}`)))))
      expect(results.filter((r) => r)).toHaveLength(1)
      expect(str(await store.run((s) => s.read(url)))).toBe(`writer ${results.indexOf(true)}`)
    })
  })

  describe("S3Store remove", () => {
    test("more than 1000 keys are removed in batches; missing keys are no failure", async () => {
      const base = fresh()
      const urls = Array.from({ length: 1100 }, (_, i) => `${base}/many/${String(i).padStart(4, "0")}.txt`)
      await store.run((s) => Effect.forEach(urls, (u) => s.putBytes(u, text("x"), "text/plain"), { concurrency: 32, discard: true }))
      expect(await store.run((s) => s.list(`${base}/many`))).toHaveLength(1100)
      await store.run((s) => s.remove([...urls, `${base}/never/was.txt`, urls[0]!]))
      expect(await store.run((s) => s.list(`${base}/many`))).toEqual([])
    })
  })

  describe("S3Store remove errors", () => {
    test("a key DeleteObjects reports in its Errors fails the removal, naming that key and the code", async () => {
      // S3 answers DeleteObjects with 200 and lists the keys it could not remove
      // in <Error> entries. SeaweedFS refuses no valid key that way, so a proxy in
      // front of it adds one such entry for `refused.txt` to SeaweedFS's own answer.
      const proxy = FaultProxy.start(s3Endpoint, { preserveHost: true })
      proxies.push(proxy)
      const base = fresh()
      const refusedKey = `${new URL(base).pathname.slice(1)}/refused.txt`
      proxy.fault = (r) =>
        r.method === "POST" && /[?&]delete(=|&|$)/.test(r.path)
          ? {
              rewriteAnswerText: (xml) =>
                xml.replace(
                  "</DeleteResult>",
                  `<Error><Key>${refusedKey}</Key><Code>InvalidRequest</Code><Message>refused for this test</Message></Error></DeleteResult>`
                )
            }
          : undefined
      const through = storeWith({ endpoint: proxy.url })
      await through.run((s) => s.putBytes(`${base}/fine.txt`, text("x"), "text/plain"))
      await through.run((s) => s.putBytes(`${base}/refused.txt`, text("x"), "text/plain"))
      const bad = `${base}/refused.txt`
      const error = await through.fail((s) => s.remove([`${base}/fine.txt`, bad]))
      expect(proxy.seen.filter((r) => r.method === "POST" && /[?&]delete(=|&|$)/.test(r.path))).toHaveLength(1)
      expect(error._tag).toBe("StorageError")
      expect(error.url).toBe(bad)
      expect(error.message).toContain("InvalidRequest")
    })
  })

  describe("S3Store errors", () => {
    test("a wrong secret key fails with a StorageError that names what to check and never the secret", async () => {
      const bad = storeWith({ credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: secret }, maxAttempts: 1 })
      const url = `${fresh()}/x.txt`
      for (const error of [
        await bad.fail((s) => s.putBytes(url, text("x"), "text/plain")),
        await bad.fail((s) => s.preflight(url, 1))
      ]) {
        expect(error._tag).toBe("StorageError")
        expect(error.url).toBe(url)
        expect(error.hint).toContain(`check credentials for ${bucket}`)
        for (const shown of [error.message, error.hint ?? "", String(error.cause), JSON.stringify(error)]) {
          expect(shown).not.toContain(secret)
          expect(shown).not.toContain(keys.secretAccessKey)
        }
      }
    })

    test("a missing bucket says to create it, from preflight and from a write", async () => {
      const missing = unique("no-such-bucket")
      const fromPreflight = await store.fail((s) => s.preflight(`s3://${missing}/prefix`, 1))
      expect(fromPreflight.hint).toContain(`create bucket ${missing}`)
      const fromWrite = await store.fail((s) => s.putBytes(`s3://${missing}/k.json`, text("{}"), "application/json"))
      expect(fromWrite.hint).toContain(`create bucket ${missing}`)
      expect(fromWrite.message).toContain("NoSuchBucket")
    })

    test("preflight accepts any size of an existing bucket and refuses a negative one", async () => {
      await store.run((s) => s.preflight(`s3://${bucket}/p`, 2 ** 50))
      expect((await store.fail((s) => s.preflight(`s3://${bucket}/p`, -1)))._tag).toBe("StorageError")
    })

    test("probe writes and removes its object", async () => {
      const base = fresh()
      await store.run((s) => s.probe(base))
      expect(await store.run((s) => s.list(base))).toEqual([])
    })
  })

  describe("S3Store authorize", () => {
    test("bad static keys for one location fail only that location; a deeper grant wins", async () => {
      const authorized = storeWith({ maxAttempts: 1 })
      const base = fresh()
      await authorized.run((s) => s.authorize(`${base}/locked`, { accessKeyId: "AKIAWRONG", secretAccessKey: secret }))
      await authorized.run((s) => s.authorize(`${base}/locked/inner`, keys))
      const error = await authorized.fail((s) => s.putBytes(`${base}/locked/x.txt`, text("x"), "text/plain"))
      expect(error.hint).toContain("check credentials")
      expect(JSON.stringify(error)).not.toContain(secret)
      await authorized.run((s) => s.putBytes(`${base}/lockedness/x.txt`, text("x"), "text/plain"))
      await authorized.run((s) => s.putBytes(`${base}/open/x.txt`, text("x"), "text/plain"))
      await authorized.run((s) => s.putBytes(`${base}/locked/inner/x.txt`, text("x"), "text/plain"))
      expect((await authorized.fail((s) => s.preflight(`${base}/locked`, 1))).hint).toContain("check credentials")
    })

    test("half a key pair is refused", async () => {
      const error = await store.fail((s) => s.authorize(`${fresh()}`, { accessKeyId: "AKIA" }))
      expect(error.hint).toContain("both keys")
    })

    test("a profile from the shared credentials file serves its location; copies across credentials stream", async () => {
      const credentialsFile = path.join(scratch, "aws-credentials")
      writeFileSync(
        credentialsFile,
        `[hysds-stac-good]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n`
      )
      const saved = { file: process.env.AWS_SHARED_CREDENTIALS_FILE, config: process.env.AWS_CONFIG_FILE }
      process.env.AWS_SHARED_CREDENTIALS_FILE = credentialsFile
      process.env.AWS_CONFIG_FILE = path.join(scratch, "no-aws-config")
      try {
        const profiled = storeWith({ maxAttempts: 1 })
        const base = fresh()
        await profiled.run((s) => s.authorize(`${base}/by-profile`, { profile: "hysds-stac-good" }))
        await profiled.run((s) => s.authorize(`${base}/no-profile`, { profile: "hysds-stac-missing" }))
        await profiled.run((s) => s.putBytes(`${base}/plain/a.txt`, text("streamed"), "text/plain"))
        await profiled.run((s) => s.copy(`${base}/plain/a.txt`, `${base}/by-profile/a.txt`))
        expect(str(await profiled.run((s) => s.read(`${base}/by-profile/a.txt`)))).toBe("streamed")
        const error = await profiled.fail((s) => s.read(`${base}/no-profile/a.txt`))
        expect(error.hint).toContain("check credentials")
      } finally {
        if (saved.file === undefined) delete process.env.AWS_SHARED_CREDENTIALS_FILE
        else process.env.AWS_SHARED_CREDENTIALS_FILE = saved.file
        if (saved.config === undefined) delete process.env.AWS_CONFIG_FILE
        else process.env.AWS_CONFIG_FILE = saved.config
      }
    })
  })
}
