import { parsePrototxt } from "@deepspark/caffe"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Backend, ConvGeometry, LrnGeometry, PoolGeometry } from "../backend.js"
import { referenceBackend as ref } from "../reference.js"
import { Net } from "../../net/net.js"
import { GpuBackend, createGpuBackend } from "./gpu-backend.js"
import { chooseGpuJsMode } from "./gpujs-runtime.js"

// Deterministic data (a small LCG): failures reproduce.
let seed = 4242
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
  return seed / 2 ** 32 - 0.5
}
const randomArray = (n: number): Float32Array => Float32Array.from({ length: n }, rand)

/** max|a−b| / max|b| (norm-wise: the meaningful measure for float32 sums that may cancel). */
const normError = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length)
  let diff = 0
  let scale = 0
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]!) !== Number.isNaN(b[i]!)) return Infinity
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!))
    scale = Math.max(scale, Math.abs(b[i]!))
  }
  return diff / Math.max(scale, 1e-30)
}
const firstMismatch = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i
  return a.length === b.length ? -1 : Math.min(a.length, b.length)
}

const convGeometry = (c: number, h: number, w: number, k: number, pad: number, stride: number, dilation = 1): ConvGeometry => {
  const ext = dilation * (k - 1) + 1
  return {
    channels: c, height: h, width: w, kernelH: k, kernelW: k, padH: pad, padW: pad, strideH: stride, strideW: stride,
    dilationH: dilation, dilationW: dilation, outH: Math.floor((h + 2 * pad - ext) / stride) + 1, outW: Math.floor((w + 2 * pad - ext) / stride) + 1
  }
}
/** Caffe's pooled size (ceil mode, last window starting inside the image + pad). */
const poolGeometry = (num: number, c: number, h: number, w: number, k: number, pad: number, stride: number): PoolGeometry => {
  const pooled = (n: number) => {
    let p = Math.ceil((n + 2 * pad - k) / stride) + 1
    if (pad > 0 && (p - 1) * stride >= n + pad) p--
    return p
  }
  return { num, channels: c, height: h, width: w, kernelH: k, kernelW: k, padH: pad, padW: pad, strideH: stride, strideW: stride, pooledH: pooled(h), pooledW: pooled(w) }
}

describe("gpu backend (gpu.js webasm) against the reference backend", () => {
  let gpu: GpuBackend
  beforeAll(async () => {
    // webgpu disabled: the auto order is then headlessgl (not opted in here) → webasm, on any machine.
    gpu = await createGpuBackend({ mode: "auto", env: { DEEPSPARK_GPU_WEBGPU: "0" } })
  })
  afterAll(() => gpu.destroy())

  it("chooses gpu.js's webasm backend explicitly, and says why", () => {
    const none = new Float32Array(4)
    gpu.reluForward(Float32Array.of(1, -2, 3, -4), none, 4, 0)
    expect(gpu.name).toBe("gpu")
    expect(gpu.description).toContain("webasm (WebAssemblyKernel")
    expect(gpu.description).toContain("webgpu skipped: disabled")
    expect(gpu.description).toContain("headlessgl skipped: not opted in")
  })

  it("never picks headlessgl silently: opting in without a display falls through to webasm, or fails when demanded", async () => {
    const env = { DEEPSPARK_GPU_WEBGPU: "0", DEEPSPARK_GPU_HEADLESSGL: "1" }
    expect((await chooseGpuJsMode("auto", env)).mode).toBe("webasm")
    await expect(chooseGpuJsMode("headlessgl", env)).rejects.toThrow(/DISPLAY/)
    await expect(chooseGpuJsMode("webgpu", { DEEPSPARK_GPU_WEBGPU: "0" })).rejects.toThrow(/webgpu requested but unavailable/)
  })

  it("the synchronous worker bridge (used for webgpu) returns the same results, here with gpu.js webasm in the worker", async () => {
    const { WorkerGpuJsKernels } = await import("./worker-kernels.js")
    const { createRequire } = await import("node:module")
    const bridged = new GpuBackend(new WorkerGpuJsKernels({ mode: "webasm", gpujsPath: createRequire(import.meta.url).resolve("gpu.js") }), ["bridge test"])
    try {
      const [M, N, K] = [6, 11, 7]
      const A = randomArray(M * K)
      const B = randomArray(N * K)
      const [want, got] = [new Float32Array(M * N), new Float32Array(M * N)]
      ref.gemm(false, true, M, N, K, 1.5, A, 0, B, 0, 0, want, 0)
      bridged.gemm(false, true, M, N, K, 1.5, A, 0, B, 0, 0, got, 0)
      bridged.gemm(false, true, M, N, K, 1.5, A, 0, B, 0, 0, got, 0) // second call: cached kernel, no spec sent
      expect(normError(got, want)).toBeLessThan(1e-5)
      const g = poolGeometry(1, 2, 6, 6, 2, 0, 2)
      const x = randomArray(72)
      const [tW, tG, mW, mG] = [new Float32Array(18), new Float32Array(18), new Int32Array(18), new Int32Array(18)]
      ref.maxPoolForward(g, x, tW, mW)
      bridged.maxPoolForward(g, x, tG, mG)
      expect(firstMismatch(tG, tW)).toBe(-1)
      expect(firstMismatch(mG, mW)).toBe(-1)
      expect(bridged.description).toContain("WebAssemblyKernel")
    } finally {
      bridged.destroy()
    }
  })

  it.each([
    [7, 13, 9],
    [1, 5, 3],
    [5, 1, 7],
    [20, 37, 25],
    [9, 6, 1100] // K beyond gpu.js's 1000-iteration loop cap for argument bounds
  ])("gemm %i×%i×%i, every transpose, alpha/beta, offsets", (M, N, K) => {
    for (const transA of [false, true])
      for (const transB of [false, true])
        for (const [alpha, beta] of [[1, 0], [0.7, -0.3]] as const) {
          const A = randomArray(M * K + 3)
          const B = randomArray(K * N + 2)
          const C0 = randomArray(M * N + 5)
          if (beta === 0) C0.fill(Number.NaN) // beta 0 must ignore C
          const want = C0.slice()
          const got = C0.slice()
          ref.gemm(transA, transB, M, N, K, alpha, A, 3, B, 2, beta, want, 5)
          gpu.gemm(transA, transB, M, N, K, alpha, A, 3, B, 2, beta, got, 5)
          expect(normError(got.subarray(5), want.subarray(5)), `${transA} ${transB} ${alpha} ${beta}`).toBeLessThan(1e-5)
        }
  })

  it("gemv, both transposes, with offsets", () => {
    for (const transA of [false, true]) {
      const [M, N] = [11, 7]
      const A = randomArray(M * N + 1)
      const x = randomArray((transA ? M : N) + 2)
      const y0 = randomArray((transA ? N : M) + 3)
      const want = y0.slice()
      const got = y0.slice()
      ref.gemv(transA, M, N, 0.5, A, 1, x, 2, 2, want, 3)
      gpu.gemv(transA, M, N, 0.5, A, 1, x, 2, 2, got, 3)
      expect(normError(got, want)).toBeLessThan(1e-5)
    }
  })

  it.each([
    ["3×7×9, k3 pad1 stride2", convGeometry(3, 7, 9, 3, 1, 2)],
    ["2×6×5, k2 pad0 stride1 dilation2", convGeometry(2, 6, 5, 2, 0, 1, 2)],
    ["1×12×12, k5 (LeNet conv1-like)", convGeometry(1, 12, 12, 5, 0, 1)]
  ])("im2col and col2im, %s, exactly", (_, g) => {
    const imageLen = g.channels * g.height * g.width
    const colLen = g.channels * g.kernelH * g.kernelW * g.outH * g.outW
    const data = randomArray(imageLen + 4)
    const want = new Float32Array(colLen)
    const got = new Float32Array(colLen)
    ref.im2col(g, data, 4, want)
    gpu.im2col(g, data, 4, got)
    expect(firstMismatch(got, want)).toBe(-1)
    const col = randomArray(colLen)
    const imgWant = randomArray(imageLen + 4)
    const imgGot = imgWant.slice()
    ref.col2im(g, col, imgWant, 4)
    gpu.col2im(g, col, imgGot, 4)
    expect(firstMismatch(imgGot, imgWant)).toBe(-1)
  })

  it.each([
    ["2×3×7×9 k3 s2 pad1", poolGeometry(2, 3, 7, 9, 3, 1, 2)],
    ["1×2×8×8 k2 s2", poolGeometry(1, 2, 8, 8, 2, 0, 2)],
    ["1×1×5×7 k3 s1 (overlapping)", poolGeometry(1, 1, 5, 7, 3, 0, 1)]
  ])("MAX pooling forward/backward, %s, exactly", (_, g) => {
    const inLen = g.num * g.channels * g.height * g.width
    const outLen = g.num * g.channels * g.pooledH * g.pooledW
    // Repeated values exercise the first-maximum tie rule.
    const bottom = Float32Array.from({ length: inLen }, () => Math.round(rand() * 6) / 2)
    const [topW, topG] = [new Float32Array(outLen), new Float32Array(outLen)]
    const [maskW, maskG] = [new Int32Array(outLen), new Int32Array(outLen)]
    ref.maxPoolForward(g, bottom, topW, maskW)
    gpu.maxPoolForward(g, bottom, topG, maskG)
    expect(firstMismatch(topG, topW)).toBe(-1)
    expect(firstMismatch(maskG, maskW)).toBe(-1)
    const topDiff = randomArray(outLen)
    const [dW, dG] = [randomArray(inLen), randomArray(inLen)]
    ref.maxPoolBackward(g, topDiff, maskW, dW)
    gpu.maxPoolBackward(g, topDiff, maskW, dG)
    expect(firstMismatch(dG, dW)).toBe(-1)
  })

  it.each([
    ["2×3×7×9 k3 s2 pad1", poolGeometry(2, 3, 7, 9, 3, 1, 2)],
    ["1×2×9×9 k3 s2 (CIFAR-like)", poolGeometry(1, 2, 9, 9, 3, 0, 2)]
  ])("AVE pooling forward/backward, %s", (_, g) => {
    const inLen = g.num * g.channels * g.height * g.width
    const outLen = g.num * g.channels * g.pooledH * g.pooledW
    const bottom = randomArray(inLen)
    const [topW, topG] = [new Float32Array(outLen), new Float32Array(outLen)]
    ref.avePoolForward(g, bottom, topW)
    gpu.avePoolForward(g, bottom, topG)
    expect(normError(topG, topW)).toBeLessThan(1e-6)
    const topDiff = randomArray(outLen)
    const [dW, dG] = [randomArray(inLen), randomArray(inLen)]
    ref.avePoolBackward(g, topDiff, dW)
    gpu.avePoolBackward(g, topDiff, dG)
    expect(normError(dG, dW)).toBeLessThan(1e-6)
  })

  it("ReLU forward/backward: exact for slope 0, float32-rounded slope otherwise; in place", () => {
    const n = 1001
    const x = randomArray(n)
    const dy = randomArray(n)
    for (const slope of [0, 0.1]) {
      const [yW, yG] = [new Float32Array(n), new Float32Array(n)]
      ref.reluForward(x, yW, n, slope)
      gpu.reluForward(x, yG, n, slope)
      const [dW, dG] = [new Float32Array(n), new Float32Array(n)]
      ref.reluBackward(x, dy, dW, n, slope)
      gpu.reluBackward(x, dy, dG, n, slope)
      if (slope === 0) {
        expect(firstMismatch(yG, yW)).toBe(-1)
        expect(firstMismatch(dG, dW)).toBe(-1)
      } else {
        expect(normError(yG, yW)).toBeLessThan(1e-6)
        expect(normError(dG, dW)).toBeLessThan(1e-6)
      }
    }
    const inPlace = x.slice()
    gpu.reluForward(inPlace, inPlace, n, 0)
    const want = new Float32Array(n)
    ref.reluForward(x, want, n, 0)
    expect(firstMismatch(inPlace, want)).toBe(-1)
  })

  it("softmax over the middle axis (outer 3, channels 7, inner 5)", () => {
    const x = Float32Array.from(randomArray(105), (v) => v * 20)
    const [yW, yG] = [new Float32Array(105), new Float32Array(105)]
    ref.softmaxForward(x, yW, 3, 7, 5)
    gpu.softmaxForward(x, yG, 3, 7, 5)
    for (let i = 0; i < 105; i++) expect(Math.abs(yG[i]! - yW[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(yW[i]!, 1e-3))
  })

  it("cross-channel LRN forward/backward (2×7×3×5, size 5)", () => {
    const g: LrnGeometry = { num: 2, channels: 7, height: 3, width: 5, size: 5, alpha: 1e-2, beta: 0.75, k: 1 }
    const n = 2 * 7 * 15
    const x = Float32Array.from(randomArray(n), (v) => v * 8)
    const [yW, yG, sW, sG] = [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n)]
    ref.lrnForward(g, x, yW, sW)
    gpu.lrnForward(g, x, yG, sG)
    expect(normError(sG, sW)).toBeLessThan(1e-5)
    expect(normError(yG, yW)).toBeLessThan(1e-5)
    const dy = randomArray(n)
    const [dW, dG] = [new Float32Array(n), new Float32Array(n)]
    ref.lrnBackward(g, x, yW, sW, dy, dW)
    gpu.lrnBackward(g, x, yW, sW, dy, dG)
    expect(normError(dG, dW)).toBeLessThan(1e-5)
  })

  it("axpy and dot (with offsets; dot beyond one 1024-element chunk)", () => {
    const n = 2501
    const x = randomArray(n + 3)
    const y = randomArray(n + 1)
    const [yW, yG] = [y.slice(), y.slice()]
    ref.axpy(n, -0.37, x, 3, yW, 1)
    gpu.axpy(n, -0.37, x, 3, yG, 1)
    expect(normError(yG, yW)).toBeLessThan(1e-6)
    expect(yG[0]).toBe(y[0]) // outside the range: untouched
    const want = ref.dot(n, x, 3, y, 1)
    expect(Math.abs(gpu.dot(n, x, 3, y, 1) - want)).toBeLessThan(1e-5 * Math.max(Math.abs(want), 1))
    expect(gpu.dot(1, Float32Array.of(3), 0, Float32Array.of(-2), 0)).toBe(-6)
  })
})

// Caffe's MNIST LeNet TRAIN net (lenet_train_test.prototxt) with an Input layer and a small batch.
const lenet = (batch: number) => `
name: "LeNet"
layer { name: "data" type: "Input" top: "data" top: "label"
  input_param { shape { dim: ${batch} dim: 1 dim: 28 dim: 28 } shape { dim: ${batch} } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 20 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" value: 0.1 } } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2" param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 50 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" value: 0.1 } } }
layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool2" top: "ip1" param { lr_mult: 1 } param { lr_mult: 2 }
  inner_product_param { num_output: 500 weight_filler { type: "xavier" } bias_filler { type: "constant" value: 0.1 } } }
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" param { lr_mult: 1 } param { lr_mult: 2 }
  inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" value: 0.1 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
`

describe("LeNet through the engine Net on the gpu backend", () => {
  it("forward + backward equal the reference backend's (loss and every parameter gradient)", async () => {
    const batch = 4
    const run = (backend: Backend) => {
      const net = new Net(parsePrototxt("NetParameter", lenet(batch)), { backend })
      seed = 99 // identical inputs for both runs (the weights come from the Net's seeded fillers)
      const data = net.blobByName("data")!
      for (let i = 0; i < data.count; i++) data.data[i] = rand() + 0.5
      const label = net.blobByName("label")!
      for (let i = 0; i < batch; i++) label.data[i] = i % 10
      net.clearParamDiffs()
      const loss = net.forwardBackward()
      return { loss, params: net.learnableParams().map((p) => ({ data: p.blob.data.slice(0, p.blob.count), diff: p.blob.diff.slice(0, p.blob.count) })) }
    }
    const gpu = await createGpuBackend({ mode: "webasm" })
    try {
      const want = run(ref)
      const got = run(gpu)
      expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-4 * Math.abs(want.loss))
      got.params.forEach((p, k) => {
        expect(firstMismatch(p.data, want.params[k]!.data)).toBe(-1) // same initial weights
        expect(normError(p.diff, want.params[k]!.diff), `param ${k}`).toBeLessThan(1e-4)
        expect(p.diff.some((v) => v !== 0)).toBe(true)
      })
    } finally {
      gpu.destroy()
    }
  })
})
