/**
 * The cpu backend's fused SGD update (one wasm pass per parameter) against the JS passes it replaces:
 * data, diffs and history must agree bit for bit after every step — with and without weight decay,
 * momentum, iter_size normalisation and clipping, on parameters whose sizes leave SIMD tails, with
 * storage inside the wasm heap (in place) and outside it (staged), and on awkward values (±0,
 * subnormals, huge, mixed signs).
 */
import type { SolverParameter } from "@deepspark/caffe"
import { beforeAll, describe, expect, it } from "vitest"
import type { Backend } from "../backend/backend.js"
import { createCpuBackend } from "../backend/cpu/cpu-backend.js"
import { updateSolverFromParameter } from "./create-solver.js"
import type { LearnableParam } from "./learnable-param.js"

let cpu: Backend
beforeAll(async () => {
  cpu = await createCpuBackend()
})

const sizes = [1, 3, 4, 7, 64, 1027]
const awkward = [0, -0, 1e-42, -1e-42, 3.4e38, -3.4e38, 1, -1, 0.1, 1e-8]

/** A deterministic value stream: mostly ordinary floats, sometimes an awkward one. */
const values = (seed: number) => {
  let s = seed >>> 0
  return (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    if (s % 17 === 0) return awkward[(s >>> 8) % awkward.length]!
    return ((s / 2 ** 32) * 2 - 1) * 10 ** (((s >>> 5) % 7) - 4)
  }
}

interface Run {
  readonly params: LearnableParam[]
  readonly solver: ReturnType<typeof updateSolverFromParameter>
}

const makeRun = (param: SolverParameter, alloc: (n: number) => Float32Array, backend: Backend | undefined): Run => {
  const next = values(7)
  const params = sizes.map((n, i): LearnableParam => {
    const data = alloc(n)
    for (let k = 0; k < n; k++) data[k] = next()
    return { blob: { data, diff: alloc(n), count: n, shape: [n] }, lrMult: [1, 2, 0.5][i % 3]!, decayMult: [1, 0, 2][i % 3]! }
  })
  const solver = updateSolverFromParameter(param)
  if (backend) solver.useBackend(backend)
  return { params, solver }
}

const bits = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex")

/** Runs both and returns how many times the fused kernel ran. */
const expectSameTrajectory = (param: SolverParameter, where: "heap" | "staged"): number => {
  let kernelCalls = 0
  const counting: Backend = Object.create(cpu) as Backend
  counting.sgdUpdate = (...args) => {
    kernelCalls++
    cpu.sgdUpdate!(...args)
  }
  const js = makeRun(param, (n) => new Float32Array(n), undefined)
  const fused = makeRun(param, where === "heap" ? (n) => cpu.allocator.allocFloat32(n) : (n) => new Float32Array(n), counting)
  for (let iter = 0; iter < 6; iter++) {
    const grad = values(100 + iter)
    for (let i = 0; i < sizes.length; i++) {
      for (let k = 0; k < sizes[i]!; k++) {
        const g = grad()
        js.params[i]!.blob.diff[k] = g
        fused.params[i]!.blob.diff[k] = g
      }
    }
    js.solver.applyUpdate(js.params, iter)
    fused.solver.applyUpdate(fused.params, iter)
    for (let i = 0; i < sizes.length; i++) {
      const at = `iteration ${iter}, param ${i} (${sizes[i]} values)`
      expect(bits(fused.params[i]!.blob.data), `data, ${at}`).toBe(bits(js.params[i]!.blob.data))
      expect(bits(fused.params[i]!.blob.diff), `diff, ${at}`).toBe(bits(js.params[i]!.blob.diff))
      expect(bits(fused.solver.history[i]!), `history, ${at}`).toBe(bits(js.solver.history[i]!))
    }
  }
  return kernelCalls
}

const settings: ReadonlyArray<[string, SolverParameter]> = [
  ["LeNet's solver (inv policy, momentum 0.9, weight decay 5e-4)", { base_lr: 0.01, lr_policy: "inv", gamma: 0.0001, power: 0.75, momentum: 0.9, weight_decay: 0.0005 }],
  ["no momentum, no weight decay", { base_lr: 0.1, lr_policy: "fixed" }],
  ["iter_size 3 and clipping", { base_lr: 0.05, lr_policy: "step", gamma: 0.5, stepsize: 2, momentum: 0.95, weight_decay: 0.004, iter_size: 3, clip_gradients: 5 }],
  ["L1 with decay (runs the JS passes)", { base_lr: 0.01, lr_policy: "fixed", momentum: 0.9, weight_decay: 0.001, regularization_type: "L1" }]
]

describe("fused SGD update on the cpu backend", () => {
  for (const [label, param] of settings) {
    it(`${label}: bit-identical to the JS passes, storage in the wasm heap`, () => {
      const calls = expectSameTrajectory(param, "heap")
      expect(calls).toBe(param.regularization_type === "L1" ? 0 : 6 * sizes.length)
    })
  }
  it("bit-identical with storage outside the wasm heap (staged through scratch)", () => {
    expect(expectSameTrajectory(settings[0]![1], "staged")).toBe(6 * sizes.length)
  })
  it("the history lives in the backend's memory", () => {
    const run = makeRun(settings[0]![1], (n) => cpu.allocator.allocFloat32(n), cpu)
    run.solver.ensureHistory(run.params)
    expect(run.solver.history.every((h) => h.buffer instanceof SharedArrayBuffer)).toBe(true)
  })
})
