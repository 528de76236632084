/**
 * A second process for Database.test.ts: writes `count` GRQ documents one
 * bulk request at a time into the SQLite file given, while the test writes
 * into the same file, to show that concurrent publishers sharing a state dir
 * neither fail nor lose writes.
 *
 * usage: bun Database.fixture.ts <file> <id-prefix> <count>
 */
import { Effect, Layer } from "effect"
import { GrqIndex } from "@hysds-stac/core"
import * as Database from "./Database.ts"
import * as SqliteIndex from "./SqliteIndex.ts"

const [file, prefix, count] = process.argv.slice(2)
if (!file || !prefix || !count) throw new Error("usage: bun Database.fixture.ts <file> <id-prefix> <count>")

const program = Effect.flatMap(GrqIndex.GrqIndex, (grq) =>
  Effect.forEach(
    Array.from({ length: Number(count) }, (_, i) => `${prefix}-${i}`),
    (id) => grq.bulkIndex([{ index: "grq_v1_concurrent", id, doc: { id, dataset: "concurrent", metadata: { n: 1 } } }]),
    { discard: true }
  )
)

await Effect.runPromise(program.pipe(Effect.provide(SqliteIndex.layer().pipe(Layer.provide(Database.layer(file))))))
