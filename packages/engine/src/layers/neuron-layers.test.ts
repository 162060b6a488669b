import type { LayerParameter } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { Blob } from "../core/blob.js"
import type { Layer, LayerContext } from "../core/layer.js"
import { Rng } from "../core/rng.js"
import { AbsValLayer } from "./abs-val.js"
import { BNLLLayer } from "./bnll.js"
import { ClipLayer } from "./clip.js"
import { ELULayer } from "./elu.js"
import { ExpLayer } from "./exp.js"
import { expectClose, expectGradientsOk, blobOf, param, randomBlob, setUpForward, testContext, values } from "./layer-test-kit.js"
import { LogLayer } from "./log.js"
import { PowerLayer } from "./power.js"
import { PReLULayer } from "./prelu.js"
import { SigmoidLayer } from "./sigmoid.js"
import { SwishLayer } from "./swish.js"
import { TanHLayer } from "./tanh.js"
import { ThresholdLayer } from "./threshold.js"

type Make = (p: LayerParameter, ctx: LayerContext) => Layer
const SHAPES: number[][] = [[2, 3, 4, 5], [3, 5], [1, 7, 3]]

interface Case {
  name: string
  make: Make
  p: LayerParameter
  lo?: number
  hi?: number
  kinks?: number[]
}

const cases: Case[] = [
  { name: "AbsVal", make: (p, c) => new AbsValLayer(p, c), p: { type: "AbsVal" }, kinks: [0] },
  { name: "BNLL", make: (p, c) => new BNLLLayer(p, c), p: { type: "BNLL" }, lo: -3, hi: 3 },
  { name: "ELU", make: (p, c) => new ELULayer(p, c), p: { type: "ELU" }, kinks: [0] },
  { name: "ELU α=0.5", make: (p, c) => new ELULayer(p, c), p: { type: "ELU", elu_param: { alpha: 0.5 } }, kinks: [0] },
  { name: "Sigmoid", make: (p, c) => new SigmoidLayer(p, c), p: { type: "Sigmoid" }, lo: -3, hi: 3 },
  { name: "TanH", make: (p, c) => new TanHLayer(p, c), p: { type: "TanH" }, lo: -2, hi: 2 },
  { name: "Power general", make: (p, c) => new PowerLayer(p, c), p: { type: "Power", power_param: { power: 0.37, scale: 0.83, shift: 2.4 } } },
  { name: "Power square", make: (p, c) => new PowerLayer(p, c), p: { type: "Power", power_param: { power: 2, scale: 0.83, shift: -2.4 } } },
  { name: "Power shift 0", make: (p, c) => new PowerLayer(p, c), p: { type: "Power", power_param: { power: 3, scale: 1.5 } }, kinks: [0], lo: -1, hi: 1 },
  { name: "Power 1", make: (p, c) => new PowerLayer(p, c), p: { type: "Power", power_param: { power: 1, scale: 0.83, shift: -2.4 } } },
  { name: "Power 0", make: (p, c) => new PowerLayer(p, c), p: { type: "Power", power_param: { power: 0, scale: 0.83, shift: -2.4 } } },
  { name: "Exp e", make: (p, c) => new ExpLayer(p, c), p: { type: "Exp" } },
  { name: "Exp base 2", make: (p, c) => new ExpLayer(p, c), p: { type: "Exp", exp_param: { base: 2, scale: 0.5, shift: 1.2 } } },
  { name: "Log e", make: (p, c) => new LogLayer(p, c), p: { type: "Log" }, lo: 0.5, hi: 2 },
  { name: "Log base 2", make: (p, c) => new LogLayer(p, c), p: { type: "Log", log_param: { base: 2, scale: 0.5, shift: 1.2 } } },
  { name: "Clip", make: (p, c) => new ClipLayer(p, c), p: { type: "Clip", clip_param: { min: -0.5, max: 0.6 } }, kinks: [-0.5, 0.6] },
  { name: "Swish", make: (p, c) => new SwishLayer(p, c), p: { type: "Swish" }, lo: -3, hi: 3 },
  { name: "Swish β=1.7", make: (p, c) => new SwishLayer(p, c), p: { type: "Swish", swish_param: { beta: 1.7 } }, lo: -3, hi: 3 },
  { name: "PReLU", make: (p, c) => new PReLULayer(p, c), p: { type: "PReLU", prelu_param: { filler: { type: "uniform", min: 0.1, max: 0.6 } } }, kinks: [0] },
  { name: "PReLU shared", make: (p, c) => new PReLULayer(p, c), p: { type: "PReLU", prelu_param: { channel_shared: true, filler: { type: "constant", value: 0.3 } } }, kinks: [0] }
]

describe("elementwise layers: finite-difference gradients", () => {
  for (const c of cases) {
    it(c.name, () => {
      const rng = new Rng(42)
      for (const shape of SHAPES) {
        const bottom = randomBlob(shape, rng, c.lo ?? -1, c.hi ?? 1, c.kinks ?? [], 0.05)
        const layer = c.make(param(c.p), testContext())
        expectGradientsOk(layer, [bottom], [new Blob()], { step: 1e-2, threshold: 1e-3 })
      }
    })
  }
})

/** Runs forward + backward out of place and in place from the same input and top diff; all must agree. */
const runBoth = (c: Case, shape: number[]) => {
  const rng = new Rng(7)
  const input = randomBlob(shape, rng, c.lo ?? -1, c.hi ?? 1, c.kinks ?? [], 0.05)
  const topDiff = randomBlob(shape, rng)
  const run = (inPlace: boolean) => {
    const bottom = blobOf(shape, values(input))
    const top = inPlace ? bottom : new Blob()
    const layer = c.make(param(c.p), testContext())
    setUpForward(layer, [bottom], [top])
    const out = values(top)
    top.diff.set(topDiff.data.subarray(0, topDiff.count))
    layer.blobs.forEach((b) => b.zeroDiff())
    layer.backward([top], [true], [bottom])
    return { out, dx: Array.from(bottom.diff.subarray(0, bottom.count)), params: layer.blobs.map((b) => Array.from(b.diff.subarray(0, b.count))) }
  }
  return { apart: run(false), inPlace: run(true) }
}

describe("elementwise layers: in place equals out of place", () => {
  for (const c of cases) {
    it(c.name, () => {
      const { apart, inPlace } = runBoth(c, [2, 3, 4, 3])
      expect(inPlace.out).toEqual(apart.out)
      expect(inPlace.dx).toEqual(apart.dx)
      expect(inPlace.params).toEqual(apart.params)
    })
  }
})

const forwardOf = (make: Make, p: LayerParameter, shape: number[], input: number[]): number[] => {
  const bottom = blobOf(shape, input)
  const top = new Blob()
  setUpForward(make(param(p), testContext()), [bottom], [top])
  expect(top.shape).toEqual(shape)
  return values(top)
}

describe("elementwise layers: hand-computed forward values", () => {
  const x = [-2, -0.5, 0, 0.5, 3]
  const f = (v: number[]) => v.map((e) => Math.fround(e))

  it("AbsVal, Threshold, Clip", () => {
    expect(forwardOf((p, c) => new AbsValLayer(p, c), { type: "AbsVal" }, [5], x)).toEqual([2, 0.5, 0, 0.5, 3])
    expect(forwardOf((p, c) => new ThresholdLayer(p, c), { type: "Threshold" }, [5], x)).toEqual([0, 0, 0, 1, 1])
    expect(forwardOf((p, c) => new ThresholdLayer(p, c), { type: "Threshold", threshold_param: { threshold: 0.5 } }, [5], x)).toEqual([0, 0, 0, 0, 1])
    expect(forwardOf((p, c) => new ClipLayer(p, c), { type: "Clip", clip_param: { min: -1, max: 1 } }, [5], x)).toEqual([-1, -0.5, 0, 0.5, 1])
  })

  it("ELU, Sigmoid, TanH, BNLL", () => {
    expectClose(forwardOf((p, c) => new ELULayer(p, c), { type: "ELU", elu_param: { alpha: 2 } }, [5], x), f(x.map((v) => (v > 0 ? v : 2 * (Math.exp(v) - 1)))), 1e-7)
    expectClose(forwardOf((p, c) => new SigmoidLayer(p, c), { type: "Sigmoid" }, [5], x), f(x.map((v) => 1 / (1 + Math.exp(-v)))), 1e-7)
    expectClose(forwardOf((p, c) => new TanHLayer(p, c), { type: "TanH" }, [5], x), f(x.map(Math.tanh)), 1e-7)
    expectClose(forwardOf((p, c) => new BNLLLayer(p, c), { type: "BNLL" }, [5], x), f(x.map((v) => Math.log(1 + Math.exp(v)))), 1e-7)
  })

  it("Power: general and special cases", () => {
    const mk: Make = (p, c) => new PowerLayer(p, c)
    expectClose(forwardOf(mk, { type: "Power", power_param: { power: 2, scale: 3, shift: 1 } }, [5], x), [25, 0.25, 1, 6.25, 100], 1e-7)
    // diff_scale = power·scale = 0: constant output, 1 for power 0, shift^power for scale 0.
    expect(forwardOf(mk, { type: "Power", power_param: { power: 0, shift: 5 } }, [5], x)).toEqual([1, 1, 1, 1, 1])
    expect(forwardOf(mk, { type: "Power", power_param: { power: 3, scale: 0, shift: 2 } }, [5], x)).toEqual([8, 8, 8, 8, 8])
    expect(forwardOf(mk, { type: "Power" }, [5], x)).toEqual(x)
  })

  it("Power 0.5 has Caffe's y/x gradient with shift 0 (NaN at x = 0)", () => {
    const bottom = blobOf([3], [0, 4, 9])
    const top = new Blob()
    const layer = new PowerLayer(param({ type: "Power", power_param: { power: 0.5 } }), testContext())
    setUpForward(layer, [bottom], [top])
    expect(values(top)).toEqual([0, 2, 3])
    top.diff.set([1, 1, 1])
    layer.backward([top], [true], [bottom])
    expect(Number.isNaN(bottom.diff[0])).toBe(true)
    expectClose([bottom.diff[1]!, bottom.diff[2]!], [0.25, 1 / 6], 1e-7)
  })

  it("Exp and Log with base, scale, shift", () => {
    expectClose(forwardOf((p, c) => new ExpLayer(p, c), { type: "Exp", exp_param: { base: 2, scale: 2, shift: 1 } }, [5], x), f(x.map((v) => 2 ** (1 + 2 * v))), 1e-6)
    expectClose(forwardOf((p, c) => new ExpLayer(p, c), { type: "Exp" }, [5], x), f(x.map(Math.exp)), 1e-6)
    const pos = [0.25, 1, 2, 8, 10]
    expectClose(forwardOf((p, c) => new LogLayer(p, c), { type: "Log", log_param: { base: 2 } }, [5], pos), f(pos.map(Math.log2)), 1e-6)
    expectClose(forwardOf((p, c) => new LogLayer(p, c), { type: "Log", log_param: { base: 10, scale: 2, shift: 1 } }, [5], pos), f(pos.map((v) => Math.log10(1 + 2 * v))), 1e-6)
  })

  it("Swish and PReLU", () => {
    expectClose(forwardOf((p, c) => new SwishLayer(p, c), { type: "Swish", swish_param: { beta: 2 } }, [5], x), f(x.map((v) => v / (1 + Math.exp(-2 * v)))), 1e-6)
    // Default filler: slope 0.25 per channel; channel axis 1.
    expect(forwardOf((p, c) => new PReLULayer(p, c), { type: "PReLU" }, [1, 5], x)).toEqual([-0.5, -0.125, 0, 0.5, 3])
  })

  it("PReLU blob shapes and slope gradient", () => {
    const ctx = testContext()
    const perChannel = new PReLULayer(param({ type: "PReLU" }), ctx)
    perChannel.setUp([new Blob([2, 3, 2])], [new Blob()])
    expect(perChannel.blobs[0]!.shape).toEqual([3])
    const shared = new PReLULayer(param({ type: "PReLU", prelu_param: { channel_shared: true } }), ctx)
    shared.setUp([new Blob([2, 3, 2])], [new Blob()])
    expect(shared.blobs[0]!.shape).toEqual([])
    expect(shared.blobs[0]!.data[0]).toBe(0.25)
    const bottom = blobOf([1, 2, 2], [-1, 2, -3, -4])
    const top = new Blob()
    const layer = new PReLULayer(param({ type: "PReLU" }), ctx)
    setUpForward(layer, [bottom], [top])
    top.diff.set([1, 1, 1, 1])
    layer.backward([top], [true], [bottom])
    expect(values(top)).toEqual([-0.25, 2, -0.75, -1])
    expect(Array.from(layer.blobs[0]!.diff.subarray(0, 2))).toEqual([-1, -7])
    expect(Array.from(bottom.diff.subarray(0, 4))).toEqual([0.25, 1, 0.25, 0.25])
  })

  it("errors name the layer", () => {
    expect(() => new ClipLayer(param({ name: "clip1", type: "Clip" }), testContext()).setUp([new Blob([2])], [new Blob()])).toThrow(/clip1.*min.*max/)
    expect(() => new LogLayer(param({ name: "log1", type: "Log", log_param: { base: -2 } }), testContext()).setUp([new Blob([2])], [new Blob()])).toThrow(/log1/)
    expect(() => new PReLULayer(param({ name: "pr", type: "PReLU" }), testContext()).setUp([new Blob([4])], [new Blob()])).toThrow(/pr.*2 axes/)
    const t = new ThresholdLayer(param({ name: "th", type: "Threshold" }), testContext())
    t.setUp([new Blob([2])], [new Blob()])
    expect(() => t.backward([new Blob([2])], [true], [new Blob([2])])).toThrow(/th.*no backward/)
  })
})
