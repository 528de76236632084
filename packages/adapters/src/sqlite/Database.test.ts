import { afterAll, describe, expect, test } from "bun:test"
import { Database as Connection } from "bun:sqlite"
import { Effect, Exit, Layer, ManagedRuntime } from "effect"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { GrqIndex, StacRegistry } from "@hysds-stac/core"
import * as Database from "./Database.ts"
import * as SqliteIndex from "./SqliteIndex.ts"
import * as SqliteRegistry from "./SqliteRegistry.ts"

const temp = mkdtempSync(path.join(tmpdir(), "hysds-stac-database-"))
afterAll(() => rmSync(temp, { recursive: true, force: true }))

const both = (file: string) =>
  Layer.merge(SqliteIndex.layer(), SqliteRegistry.layer()).pipe(Layer.provide(Database.layer(file)))

describe("Database", () => {
  test("creates the parent directory, uses WAL, and closes when the scope ends", async () => {
    const file = path.join(temp, "nested", "dir", "state.sqlite")
    const shape = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const db = yield* Database.open(file)
          const mode = db.connection.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()
          expect(mode?.journal_mode).toBe("wal")
          const timeout = db.connection.query<{ timeout: number }, []>("PRAGMA busy_timeout").get()
          expect(timeout?.timeout).toBe(30_000)
          return db
        })
      )
    )
    expect(existsSync(file)).toBe(true)
    expect(() => shape.connection.query("SELECT 1").get()).toThrow()
  })

  // Seen in CI: two ingests into one fresh state dir, one failed with "database
  // is locked". SQLite answers a switch to WAL at once with SQLITE_BUSY, without
  // its busy handler, while another connection holds a write lock (as a second
  // process creating the tables does); the open must wait for it instead.
  /** A connection to a new file `name`, holding a write lock (an open write transaction). */
  const writeLocked = (name: string) => {
    const file = path.join(temp, name)
    const other = new Connection(file)
    other.run("CREATE TABLE held (a)")
    other.run("BEGIN IMMEDIATE")
    other.run("INSERT INTO held VALUES (1)")
    return { file, other }
  }

  test("opening waits for another connection's write lock instead of failing", async () => {
    const { file, other } = writeLocked("locked.sqlite")
    // Let go only after the open has met the lock: it runs first, on this thread.
    const release = setTimeout(() => {
      other.run("COMMIT")
      other.close()
    }, 50)
    try {
      const mode = await Effect.runPromise(
        Effect.scoped(
          Effect.map(Database.open(file, { busyTimeoutMs: 60_000 }), (db) =>
            db.connection.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode
          )
        )
      )
      expect(mode).toBe("wal")
    } finally {
      clearTimeout(release)
    }
  })

  test("a write lock held past the busy timeout fails the open with a StorageError that says so", async () => {
    const { file, other } = writeLocked("held.sqlite")
    try {
      const error = await Effect.runPromise(Effect.flip(Effect.scoped(Database.open(file, { busyTimeoutMs: 200 }))))
      expect(error._tag).toBe("StorageError")
      expect(error.message).toContain("database is locked")
      expect(error.hint).toContain("locked longer than the busy timeout")
    } finally {
      other.run("COMMIT")
      other.close()
    }
  })

  test("a file from a newer schema is refused with a StorageError", async () => {
    const file = path.join(temp, "newer.sqlite")
    const raw = new Connection(file)
    raw.run(`PRAGMA user_version = ${Database.SCHEMA_VERSION + 1}`)
    raw.close()
    const exit = await Effect.runPromiseExit(Effect.scoped(Database.open(file)))
    expect(Exit.isFailure(exit)).toBe(true)
    const error = await Effect.runPromise(Effect.flip(Effect.scoped(Database.open(file))))
    expect(error._tag).toBe("StorageError")
    expect(error.message).toContain("newer hysds-stac")
  })

  test("a path that cannot be a database fails with a StorageError and a hint", async () => {
    const error = await Effect.runPromise(Effect.flip(Effect.scoped(Database.open(temp))))
    expect(error._tag).toBe("StorageError")
    expect(error.hint).toBeDefined()
  })

  test("two Database instances on one file see each other's writes (index and registry share it)", async () => {
    const file = path.join(temp, "shared.sqlite")
    const one = ManagedRuntime.make(both(file))
    const two = ManagedRuntime.make(both(file))
    try {
      await one.runPromise(Effect.flatMap(GrqIndex.GrqIndex, (g) => g.bulkIndex([{ index: "grq_s", id: "from-one", doc: { id: "from-one" } }])))
      await two.runPromise(Effect.flatMap(GrqIndex.GrqIndex, (g) => g.bulkIndex([{ index: "grq_s", id: "from-two", doc: { id: "from-two" } }])))
      await two.runPromise(
        Effect.flatMap(StacRegistry.StacRegistry, (r) => r.putCollection({ id: "c", description: "d" }, "create"))
      )
      const seenByOne = await one.runPromise(Effect.flatMap(GrqIndex.GrqIndex, (g) => g.list({})))
      expect(seenByOne.map((r) => r.id)).toEqual(["from-one", "from-two"])
      const collections = await one.runPromise(Effect.flatMap(StacRegistry.StacRegistry, (r) => r.listCollections()))
      expect(collections.map((c) => c["id"])).toEqual(["c"])
    } finally {
      await one.dispose()
      await two.dispose()
    }
  })

  test("concurrent processes writing one file lose nothing", async () => {
    const file = path.join(temp, "processes.sqlite")
    const fixture = path.join(import.meta.dir, "Database.fixture.ts")
    const children = ["p1", "p2"].map((prefix) =>
      Bun.spawn([process.execPath, fixture, file, prefix, "150"], { stdout: "pipe", stderr: "pipe" })
    )
    const runtime = ManagedRuntime.make(both(file))
    try {
      for (let i = 0; i < 150; i++) {
        const id = `main-${i}`
        await runtime.runPromise(
          Effect.flatMap(GrqIndex.GrqIndex, (g) =>
            g.bulkIndex([{ index: "grq_v1_concurrent", id, doc: { id, dataset: "concurrent", metadata: { n: 2 } } }])
          )
        )
      }
      for (const child of children) {
        const code = await child.exited
        if (code !== 0) throw new Error(`writer process failed: ${await new Response(child.stderr).text()}`)
      }
      const all = await runtime.runPromise(Effect.flatMap(GrqIndex.GrqIndex, (g) => g.list({ dataset: "concurrent" })))
      expect(all).toHaveLength(450)
    } finally {
      await runtime.dispose()
    }
  }, 30_000)
})
