import { BunContext } from "@effect/platform-bun"
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Discovery from "./Discovery.ts"

const tmp = () => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "discovery-")))
const write = (root: string, rel: string, text = "{}") => {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
  fs.writeFileSync(path.join(root, rel), text)
}
const discover = (jobDir: string) => Effect.runPromise(Discovery.discover(jobDir, { stac: true }).pipe(Effect.provide(BunContext.layer)))

describe("Discovery: what a job dir holds, in the order of a sorted depth-first walk", () => {
  test("products, a catalog and what it covers, inputs, and links in, out and to a localized input", async () => {
    const root = tmp()
    const job = path.join(root, "job")
    write(job, "a/a.dataset.json")
    write(job, "b/c/c.dataset.json")
    write(job, "cat/catalog.json")
    write(job, "cat/x/x.dataset.json")
    write(job, "d/e/e.dataset.json")
    write(job, "in/in.dataset.json")
    write(job, "in/.localized", "")
    write(root, "outside/o/o.dataset.json")
    write(root, "cache/.localized", "")
    // Sorted after d: its real directory was entered already, so it is not entered again.
    fs.symlinkSync(path.join(job, "d", "e"), path.join(job, "z-alias"))
    // After b: its real directory was entered already.
    fs.symlinkSync(path.join(job, "b"), path.join(job, "b-again"))
    fs.symlinkSync(path.join(root, "outside"), path.join(job, "link-out"))
    fs.symlinkSync(path.join(root, "cache"), path.join(job, "localized-out"))
    fs.symlinkSync(path.join(root, "nowhere"), path.join(job, "broken"))

    const found = await discover(job)
    expect(found.catalogs).toEqual([path.join(job, "cat/catalog.json")])
    expect(found.products).toEqual([path.join(job, "a"), path.join(job, "b/c"), path.join(job, "d/e")])
    expect(found.skipped).toEqual([
      { dir: path.join(job, "localized-out"), reason: `input of the job (.localized), a symlink to ${path.join(root, "cache")}` },
      { dir: path.join(job, "cat/x"), reason: `part of STAC catalog ${path.join(job, "cat/catalog.json")}` },
      { dir: path.join(job, "in"), reason: "input of the job (.localized)" }
    ])
    expect(found.problems.map((p) => p.file)).toEqual([path.join(job, "link-out")])
    expect(found.problems[0]!.message).toContain(`is a symlink to ${path.join(root, "outside")}, outside the job dir ${job}`)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test("a link that names a product dir otherwise and sorts before it does not hide the product", async () => {
    const root = tmp()
    const job = path.join(root, "job")
    write(job, "d/e/e.dataset.json")
    write(job, "d/e/f/f.dataset.json")
    write(job, "e-twin/e-twin.dataset.json")
    // Walked first, so the real directory is entered under this name, which is not `<X>/<X>.dataset.json`.
    fs.symlinkSync(path.join(job, "d", "e"), path.join(job, "alias"))
    // Two names that both match are still one product, found under the first.
    fs.mkdirSync(path.join(job, "b"))
    fs.symlinkSync(path.join(job, "e-twin"), path.join(job, "b", "e-twin"), "dir")
    const found = await discover(job)
    expect(found.products).toEqual([path.join(job, "alias/f"), path.join(job, "b/e-twin"), path.join(job, "d/e")])
    expect(found.problems).toEqual([])
    fs.rmSync(root, { recursive: true, force: true })
  })

  test("a link back up the tree is entered once, never looped", async () => {
    const root = tmp()
    const job = path.join(root, "job")
    write(job, "p/p.dataset.json")
    fs.symlinkSync(job, path.join(job, "p", "up"))
    const found = await discover(job)
    expect(found.products).toEqual([path.join(job, "p")])
    expect(found.problems).toEqual([])
    fs.rmSync(root, { recursive: true, force: true })
  })

  test("a job dir named with a trailing '/' or a '.' segment finds the same products under normalized paths", async () => {
    const root = tmp()
    const job = path.join(root, "job")
    write(job, "a/a.dataset.json")
    write(job, "b/c/c.dataset.json")
    for (const named of [`${job}/`, `${job}/.`, `${root}/./job`]) {
      const found = await discover(named)
      expect(found.products).toEqual([path.join(job, "a"), path.join(job, "b/c")])
    }
    fs.rmSync(root, { recursive: true, force: true })
  })
})
