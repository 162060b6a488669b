/**
 * Opt-in (npm run test:long): `npm run bench -- accuracy` end to end with a low target, so both runs —
 * one solver and 2 workers — reach it within minutes and stop there (about 1–3 minutes on 2 shared vCPUs).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expect, it } from "vitest"
import { benchTimeToAccuracy } from "../../bench/time-to-accuracy.js"

it("bench accuracy: one solver and 2 workers each reach 90 % on MNIST, stop at the target and record when", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-tta-"))
  try {
    await benchTimeToAccuracy(["accuracy", "--targets=0.9", "--test-interval=100", "--cap-s=600", `--out=${out}`])
    const lines = fs.readFileSync(path.join(out, "results.jsonl"), "utf8").trim().split("\n")
    expect(lines).toHaveLength(1)
    const result = JSON.parse(lines[0]!) as { runs: Array<{ workers: number; stoppedBy: string; reached: Record<string, { seconds: number; iteration: number; accuracy: number }> }> }
    expect(result.runs.map((r) => r.workers)).toEqual([1, 2])
    for (const r of result.runs) {
      expect(r.stoppedBy).toBe("target")
      const p = r.reached["0.9"]!
      expect(p.accuracy).toBeGreaterThanOrEqual(0.9)
      expect(p.iteration % 100).toBe(0)
      expect(p.seconds).toBeGreaterThan(0)
    }
    expect(fs.readFileSync(path.join(out, "single.log"), "utf8")).toMatch(/Optimization stopped early/)
    expect(fs.readFileSync(path.join(out, "dist.log"), "utf8")).toMatch(/stopped by the center/)
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
}, 30 * 60_000)
