import { describe, expect, test } from "bun:test"
import { Errors } from "@hysds-stac/core"
import { mkdtempSync, writeFileSync } from "node:fs"
import { open } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { readWhole } from "./S3Writes.ts"

/** A small file is sent from one read of its checked descriptor: exactly the planned bytes or an error. */
describe("readWhole", () => {
  const file = (content: string) => {
    const path = join(mkdtempSync(join(tmpdir(), "hysds-stac-s3writes-")), "data.bin")
    writeFileSync(path, content)
    return path
  }
  const mismatch = (seen: number) => new Errors.StorageError({ message: `${seen} bytes read` })
  const read = async (path: string, size: number) => {
    const handle = await open(path, "r")
    try {
      return await readWhole(handle, size, mismatch)
    } finally {
      await handle.close()
    }
  }

  test("gives exactly the planned bytes", async () => {
    expect(Buffer.from(await read(file("planned bytes"), 13)).toString()).toBe("planned bytes")
    expect((await read(file(""), 0)).length).toBe(0)
  })

  test("refuses a file that grew since it was measured, without reading all of it", async () => {
    await expect(read(file("planned bytes and more"), 13)).rejects.toThrow("14 bytes read")
  })

  test("refuses a file that shrank since it was measured", async () => {
    await expect(read(file("planned"), 13)).rejects.toThrow("7 bytes read")
  })
})
