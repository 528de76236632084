/**
 * `_datasets.json` of the example mixed job, byte for byte: the golden file
 * test/parity/golden/mixed-job._datasets.json was derived with
 * golden/hysds_datasets_json.py (HySDS's update_json and json.dump rules,
 * written for this project): its classic products built by the script from
 * the job dir, its STAC item entries taken from hysds-stac's own output (HySDS
 * has no rule for them; they come first, as in HySDS's STAC branch).
 */
import { describe, expect, test } from "bun:test"
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { copyJob, ingest, options, tempDir } from "../workflow/Harness.ts"

const GOLDEN = path.join(import.meta.dir, "golden", "mixed-job._datasets.json")
const SCRIPT = path.join(import.meta.dir, "golden", "hysds_datasets_json.py")
const REPO = path.resolve(import.meta.dir, "..", "..")

describe("_datasets.json of examples/mixed-job", () => {
  let written = ""
  let job = ""

  test("is byte for byte the golden file (what HySDS writes for its classic products)", async () => {
    job = copyJob("mixed-job")
    const exit = await Effect.runPromiseExit(ingest(tempDir("state"), options(job)).effect)
    expect(Exit.isSuccess(exit)).toBe(true)
    written = fs.readFileSync(path.join(job, "_datasets.json"), "utf8")
    expect(written).toBe(fs.readFileSync(GOLDEN, "utf8"))
  }, 120_000)

  const python = Bun.which("python3")
  test.skipIf(python === null)("the golden file is what the derivation script prints (python3)", async () => {
    expect(written).not.toBe("")
    const stacFrom = path.join(tempDir("golden"), "_datasets.json")
    fs.writeFileSync(stacFrom, written)
    // No DATASET_BUCKET & co: the datasets.json defaults, as in the ingest above.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|S3_|GRQ_|STAC_|HYSDS_|DATASET_|BROWSE_)/.test(k)))
    const p = Bun.spawn([python!, SCRIPT, job, path.join(REPO, "examples", "datasets.json"), "--stac-from", stacFrom], {
      env,
      stdout: "pipe",
      stderr: "pipe"
    })
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()])
    expect(await p.exited).toBe(0)
    expect(err).toBe("")
    expect(out).toBe(fs.readFileSync(GOLDEN, "utf8"))
  }, 60_000)
})
