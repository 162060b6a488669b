import { parsePrototxt } from "@deepspark/caffe"
import { afterAll, describe, expect, it } from "vitest"
import { Net } from "../../net/net.js"
import { updateSolverFromParameter } from "../../solvers/create-solver.js"
import { referenceBackend } from "../reference.js"
import { GpuContext } from "./gpu-context.js"
import { ResidentNet } from "./resident-net.js"
import { openTestDevice } from "./test-device.js"

const device = await openTestDevice()
const ctx = device instanceof GpuContext ? device : undefined
afterAll(() => ctx?.destroy())

const net = `
name: "solvers"
layer { name: "in" type: "Input" top: "x" top: "label" input_param { shape { dim: 4 dim: 2 dim: 6 dim: 6 } shape { dim: 4 } } }
layer { name: "conv" type: "Convolution" bottom: "x" top: "conv" param { lr_mult: 1 } param { lr_mult: 2 decay_mult: 0 } convolution_param { num_output: 3 kernel_size: 3 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "ip" type: "InnerProduct" bottom: "conv" top: "ip" inner_product_param { num_output: 5 weight_filler { type: "gaussian" std: 0.2 } bias_filler { type: "gaussian" std: 0.1 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`

const solvers: ReadonlyArray<readonly [string, string]> = [
  ["SGD", `type: "SGD" base_lr: 0.05 momentum: 0.9`],
  ["Nesterov", `type: "Nesterov" base_lr: 0.05 momentum: 0.9`],
  ["AdaGrad", `type: "AdaGrad" base_lr: 0.05 delta: 1e-6`],
  ["RMSProp", `type: "RMSProp" base_lr: 0.01 rms_decay: 0.98 delta: 1e-6`],
  ["AdaDelta", `type: "AdaDelta" base_lr: 1 momentum: 0.95 delta: 1e-6`],
  ["Adam", `type: "Adam" base_lr: 0.01 momentum: 0.9 momentum2: 0.999 delta: 1e-8`]
]

const flatParams = (n: Net): Float32Array => {
  const out: number[] = []
  for (const p of n.learnableParams()) for (let k = 0; k < p.blob.count; k++) out.push(p.blob.data[k]!)
  return Float32Array.from(out)
}

describe.skipIf(ctx === undefined)(`solver updates on the device (${ctx?.adapter.description ?? "no adapter"})`, () => {
  it.each(solvers)("%s: 4 updates (weight decay, lr/decay multipliers) match the host solver on the reference backend (relative 1e-4)", async (_name, text) => {
    const param = parsePrototxt("SolverParameter", `${text} lr_policy: "fixed" weight_decay: 0.004 max_iter: 10`)
    const host = new Net(parsePrototxt("NetParameter", net), { backend: referenceBackend })
    const x = host.blobByName("x")!
    for (let k = 0; k < x.count; k++) x.data[k] = Math.sin(k * 0.61)
    host.blobByName("label")!.data.set([0, 3, 1, 4])
    const dev = new ResidentNet(ctx!, host)
    const solver = updateSolverFromParameter(param)
    const rates = updateSolverFromParameter(param)
    const deviceLosses: number[] = []
    const hostLosses: number[] = []
    for (let it = 0; it < 4; it++) {
      deviceLosses.push(await dev.trainIteration(solver.settings, rates.learningRate(it), it))
      host.clearParamDiffs()
      hostLosses.push(host.forwardBackward())
      solver.applyUpdate(host.learnableParams(), it)
    }
    const got = await dev.readParams()
    const want = flatParams(host)
    let err = 0
    let scale = 0
    for (let k = 0; k < want.length; k++) {
      err = Math.max(err, Math.abs(got[k]! - want[k]!))
      scale = Math.max(scale, Math.abs(want[k]!))
    }
    expect(err / scale).toBeLessThan(1e-4)
    deviceLosses.forEach((l, k) => expect(Math.abs(l - hostLosses[k]!) / hostLosses[k]!).toBeLessThan(1e-4))
    // The weights moved: the comparison is not between untouched initial values.
    expect(hostLosses[3]).not.toBeCloseTo(hostLosses[0]!, 3)
  }, 60_000)

  it("elastic exchange: one copy out, one in, x_i ← α·x̃ + (1−α)·x_i on the device as src/easgd's workerElastic", async () => {
    const host = new Net(parsePrototxt("NetParameter", net), { backend: referenceBackend })
    const dev = new ResidentNet(ctx!, host)
    const before = flatParams(host)
    const center = before.map((v, k) => v * 0.5 + Math.sin(k))
    let sent: Float32Array | undefined
    ctx!.resetCounters()
    await dev.elasticExchange(async (x) => {
      sent = x
      return center
    }, 0.2)
    const after = await dev.readParams()
    expect(sent).toEqual(before)
    expect(ctx!.bytesRead).toBe(2 * before.length * 4) // the exchange's copy out + this test's read
    const a = Math.fround(0.2)
    const keep = Math.fround(1 - a)
    const want = before.map((x, k) => a * center[k]! + keep * x)
    for (let k = 0; k < want.length; k++) expect(Math.abs(after[k]! - want[k]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[k]!)))
  })
})
