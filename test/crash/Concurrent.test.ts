/**
 * Two processes ingesting the same product at the same time: exactly one
 * publishes, the other fails fast with "in progress" or "already exists" and
 * touches nothing of the winner's. Repeated, since races hide.
 */
import { describe, expect, test } from "bun:test"
import * as path from "node:path"
import { CLI } from "../support/State.ts"
import { copyJob, examples, repo, snapshot, tempDir } from "../workflow/Harness.ts"

// Batches of two items: the mixed job's three items take the pipelined stages with two batches.
const start = (job: string, state: string) =>
  Bun.spawn([...CLI, "ingest", job, "--datasets", path.join(examples, "datasets.json"), "--state-dir", state, "--json", "--batch-size", "2"], {
    cwd: repo,
    stdout: "pipe",
    stderr: "pipe"
  })

const ROUNDS = 20

describe("concurrent ingests of one product", () => {
  test(`exactly one winner, ${ROUNDS} times, nothing interleaved`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const state = tempDir("race")
      const a = start(copyJob("mixed-job"), state)
      const b = start(copyJob("mixed-job"), state)
      const [ea, eb] = await Promise.all([a.exited, b.exited])
      const outputs = await Promise.all([new Response(a.stdout).text(), new Response(b.stdout).text()])
      const codes = [ea, eb].sort()
      // What both said, when the codes are not a win and a conflict: the failure explains itself.
      const said = codes[0] === 0 && codes[1] === 5 ? [] : await Promise.all([a, b].map(async (p, i) => `${outputs[i]!.slice(-1500)}\n${(await new Response(p.stderr).text()).slice(-1500)}`))
      expect({ round, codes, said }).toEqual({ round, codes: [0, 5], said: [] })
      const loser = outputs[ea === 0 ? 1 : 0]!
      expect(loser).toMatch(/being published by another ingest|already exists/)
      const s = await snapshot(state)
      expect(s.documents).toHaveLength(5)
      expect(s.items).toHaveLength(3)
      expect(s.files.some(([f]) => f.includes(".hysds-stac-claim.json") || f.includes(".hysds-stac-backup"))).toBe(false)
      // The winner's publish context stays at each of its 3 publish locations, as HySDS leaves it.
      expect(s.files.filter(([f]) => f.endsWith("/_publish.context.json"))).toHaveLength(3)
    }
  }, 1_800_000) // a hang guard: 20 rounds took over 300 s at load 20+ (about 27 s a round)

  test("different products ingest in parallel without interference", async () => {
    const state = tempDir("parallel")
    const a = start(copyJob("mixed-job"), state)
    const b = start(copyJob("failing-job"), state) // fails at GRQ and rolls back its own products only
    const [ea, eb] = await Promise.all([a.exited, b.exited])
    // What each said, with the exit codes: an unexpected one is explained by the error it printed.
    const said = async (p: typeof a) => `${(await new Response(p.stdout).text()).slice(-2000)}\n${(await new Response(p.stderr).text()).slice(-2000)}`
    expect({ codes: [ea, eb], mixed: ea === 0 ? "" : await said(a), failing: eb === 7 ? "" : await said(b) }).toEqual({ codes: [0, 7], mixed: "", failing: "" })
    const s = await snapshot(state)
    expect(s.documents.map((d) => (d as { id: string }).id).sort()).toEqual(
      ["AOI_volcano_etna", "S1-IFG_RM_20240115T103000_20240116T103000_etna", "etna-scene-001", "etna-scene-002", "etna-scene-003"].sort()
    )
    expect(s.collections.map((c) => (c as { id: string }).id)).toEqual(["etna-scenes"])
  }, 120_000)
})
