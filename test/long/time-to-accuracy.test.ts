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
    await benchTimeToAccuracy(["accuracy", "--rules=async-easgd", "--workers=2", "--seeds=1", "--targets=0.9", "--test-interval=100", "--cap-s=600", `--out=${out}`])
    const records = fs.readFileSync(path.join(out, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as {
      rule: string
      workers: number
      seed: number
      stoppedBy: string
      tests: Array<{ seconds: number; iteration: number; accuracy: number }>
    })
    expect(records.map((r) => [r.rule, r.workers, r.seed])).toEqual([["single", 1, 1701], ["async-easgd", 2, 1701]])
    for (const r of records) {
      expect(r.stoppedBy).toBe("target")
      const p = r.tests.find((t) => t.accuracy >= 0.9)!
      expect(p.iteration % 100).toBe(0)
      expect(p.seconds).toBeGreaterThan(0)
    }
    expect(fs.readFileSync(path.join(out, "logs/seed1701-single.log"), "utf8")).toMatch(/Optimization stopped early/)
    const distLog = fs.readdirSync(path.join(out, "logs")).find((f) => /^seed1701-async-easgd-.*-x2\.log$/.test(f))!
    expect(fs.readFileSync(path.join(out, "logs", distLog), "utf8")).toMatch(/stopped by the center/)
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
}, 30 * 60_000)
