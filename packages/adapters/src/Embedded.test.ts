import { afterAll, expect, test } from "bun:test"
import { Effect, Option } from "effect"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { GrqIndex, ObjectStore, StacRegistry } from "@hysds-stac/core"
import * as Embedded from "./Embedded.ts"

const stateDir = mkdtempSync(path.join(tmpdir(), "hysds-stac-embedded-"))
afterAll(() => rmSync(stateDir, { recursive: true, force: true }))

test("Embedded.layer serves all three ports from one state dir", async () => {
  await Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* ObjectStore.ObjectStore
      const grq = yield* GrqIndex.GrqIndex
      const stac = yield* StacRegistry.StacRegistry
      yield* store.putBytes("s3://bucket/products/p1/p1.met.json", new TextEncoder().encode("{}"), "application/json")
      yield* grq.bulkIndex([{ index: "grq_v1_ds", id: "p1", doc: { id: "p1", dataset: "ds" } }])
      yield* stac.putCollection({ id: "ds", description: "d" }, "create")
      expect(Option.isSome(yield* grq.find("p1"))).toBe(true)
    }).pipe(Effect.provide(Embedded.layer({ stateDir })))
  )
  expect(existsSync(path.join(stateDir, "store", "s3", "bucket", "products", "p1", "p1.met.json"))).toBe(true)
  expect(existsSync(Embedded.databaseFile(stateDir))).toBe(true)
  // The database was closed when the layer's scope ended: WAL files are checkpointed away.
  expect(existsSync(`${Embedded.databaseFile(stateDir)}-wal`)).toBe(false)
})

test("Embedded.layer options reach the GRQ emulation", async () => {
  const error = await Effect.runPromise(
    Effect.flip(
      Effect.flatMap(GrqIndex.GrqIndex, (grq) =>
        grq.bulkIndex([{ index: "grq_small", id: "x", doc: { a: 1, b: 2 } }])
      ).pipe(Effect.provide(Embedded.layer({ stateDir: path.join(stateDir, "other"), grq: { totalFieldsLimit: 1 } })))
    )
  )
  expect(error._tag).toBe("IndexError")
})
