import { spawnSync } from "node:child_process"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { GpuContext } from "@deepspark/engine"
import { openTestDevice } from "../packages/engine/src/backend/webgpu/test-device.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const probe = await openTestDevice()
const available = probe instanceof GpuContext
if (probe instanceof GpuContext) probe.destroy()

/**
 * A run whose trainers train on a WebGPU device ends early (another worker failed, the caller's scope
 * closed, a signal): its threads must end without taking the process down. Dawn aborts the process
 * (`FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw`, or an unsettled device promise) when a
 * thread is terminated inside one of its calls; the pool asks such threads to stop between iterations.
 */
describe.skipIf(!available)("interrupting a run on the gpu backend", () => {
  it("a run interrupted while its trainer threads choose an adapter, open the device, build or train: the process lives on", () => {
    const child = spawnSync(process.execPath, [path.join(here, "../bin/run-ts.mjs"), path.join(here, "support/gpu-run-interrupt.child.ts")], {
      encoding: "utf8",
      timeout: 170_000
    })
    const output = `${child.stdout}\n${child.stderr}`
    expect(output).not.toContain("FATAL ERROR")
    expect(child.stdout).toContain("survived")
    expect(child.status).toBe(0)
    // Every run was interrupted before it could finish its 100,000 iterations.
    expect(child.stdout.match(/: stopped in \d+ ms/g)).toHaveLength(5)
  }, 180_000)
})
