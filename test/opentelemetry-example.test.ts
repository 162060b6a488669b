import { execFile } from "node:child_process"
import * as path from "node:path"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { repoRoot } from "./support/mnist-workspace.js"

/**
 * Smoke test of examples/opentelemetry-traces.ts: a distributed run traced through @effect/opentelemetry
 * into an in-memory exporter. It runs as a script (bin/run-ts.mjs, Node's own module resolution): inside
 * vitest, whose resolver prefers @opentelemetry/api's "module" build, Node cannot load that build.
 */
describe("examples/opentelemetry-traces.ts", () => {
  it("exports a span per RPC the center serves: 2 workers register, exchange every τ and stop", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(repoRoot, "bin/run-ts.mjs"), path.join(repoRoot, "examples/opentelemetry-traces.ts"), "--iterations", "40"], {
      cwd: repoRoot,
      timeout: 280_000
    })
    // 2 workers × 40 iterations / τ 10 = 8 exchanges, each one span.
    expect(stdout).toMatch(/^8 exchanges; spans: .*RpcServer\.Exchange 8\b/m)
    expect(stdout).toMatch(/RpcServer\.Register 2\b/)
    expect(stdout).toMatch(/RpcServer\.Stop 2\b/)
  }, 300_000)
})
