import { describe, expect, it } from "vitest"
import type { ConvGeometry } from "../backend.js"
import { referenceBackend } from "../reference.js"
import { Blob } from "../../core/blob.js"
import { Rng } from "../../core/rng.js"
import { ConvolutionLayer } from "../../layers/convolution.js"
import { expectGradientsOk, param } from "../../layers/layer-test-kit.js"
import { type CpuBackend, createCpuBackend } from "./cpu-backend.js"

const geometry = (channels: number, height: number, width: number, kernel: number, pad: number): ConvGeometry => ({
  channels,
  height,
  width,
  kernelH: kernel,
  kernelW: kernel,
  padH: pad,
  padW: pad,
  strideH: 1,
  strideW: 1,
  dilationH: 1,
  dilationW: 1,
  outH: height + 2 * pad - kernel + 1,
  outW: width + 2 * pad - kernel + 1
})

/** LeNet's and CIFAR-10 quick's 5×5 shapes, 3×3 ones, K > 256 (several kc blocks), ragged channel counts. */
const cases: ReadonlyArray<readonly [string, ConvGeometry, number]> = [
  ["LeNet conv1", geometry(1, 28, 28, 5, 0), 20],
  ["LeNet conv2 (K 500: two kc blocks)", geometry(20, 12, 12, 5, 0), 50],
  ["CIFAR conv1 (padded)", geometry(3, 32, 32, 5, 2), 32],
  ["CIFAR conv3 (K 800)", geometry(32, 8, 8, 5, 2), 7],
  ["3×3 padded, one vector per row", geometry(5, 4, 4, 3, 1), 6],
  ["3×3, 12 wide (8 + 4 columns)", geometry(3, 14, 14, 3, 0), 9],
  ["4×4 kernel (no unrolled row width)", geometry(2, 9, 11, 4, 0), 5]
]

const fill = (a: Float32Array, seed: number): Float32Array => {
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 0.731 + seed) * 1.5
  return a
}

describe("direct convolution forward (cpu backend)", () => {
  it("gives bit-identical outputs to im2col + GEMM, and the reference backend's within 1e-5", async () => {
    const cpu = await createCpuBackend({ convolution: "direct" })
    for (const [name, g, M] of cases) {
      const K = g.channels * g.kernelH * g.kernelW
      const N = g.outH * g.outW
      const w = fill(cpu.allocator.allocFloat32(M * K), 1)
      // Two images; the second at an offset, as the layer passes them.
      const imageLen = g.channels * g.height * g.width
      const x = fill(cpu.allocator.allocFloat32(2 * imageLen), 2)
      const direct = cpu.directConvolution(g, M)
      expect(direct, name).toBeDefined()
      const out = cpu.allocator.allocFloat32(2 * M * N).fill(Number.NaN)
      direct!(w, x, imageLen, out, M * N)

      const col = cpu.allocator.allocFloat32(K * N)
      const viaGemm = cpu.allocator.allocFloat32(M * N)
      cpu.im2col(g, x, imageLen, col)
      cpu.gemm(false, false, M, N, K, 1, w, 0, col, 0, 0, viaGemm, 0)
      const got = new Int32Array(out.buffer, out.byteOffset + 4 * M * N, M * N)
      const want = new Int32Array(viaGemm.buffer, viaGemm.byteOffset, M * N)
      let differing = 0
      for (let i = 0; i < M * N; i++) if (got[i] !== want[i]) differing++
      expect(differing, `${name}: elements differing from im2col + GEMM`).toBe(0)
      // The first image's slot stays untouched.
      expect(out.subarray(0, M * N).every(Number.isNaN), name).toBe(true)

      const refCol = new Float32Array(K * N)
      const ref = new Float32Array(M * N)
      referenceBackend.im2col(g, Float32Array.from(x), imageLen, refCol)
      referenceBackend.gemm(false, false, M, N, K, 1, Float32Array.from(w), 0, refCol, 0, 0, ref, 0)
      const scale = Math.max(...ref.map(Math.abs))
      let worst = 0
      for (let i = 0; i < M * N; i++) worst = Math.max(worst, Math.abs(out[M * N + i]! - ref[i]!) / scale)
      expect(worst, name).toBeLessThan(1e-5)
    }
  })

  it("is offered only for stride 1 with output rows a multiple of 4 wide, and only when asked for", async () => {
    const direct = await createCpuBackend({ convolution: "direct" })
    const plain = await createCpuBackend()
    expect(plain.directConvolution(geometry(1, 28, 28, 5, 0), 20)).toBeUndefined()
    expect(direct.directConvolution(geometry(1, 27, 27, 5, 0), 20)).toBeUndefined() // 23 wide
    expect(direct.directConvolution({ ...geometry(3, 32, 32, 5, 0), strideH: 2, strideW: 2, outH: 14, outW: 14 }, 8)).toBeUndefined()
  })

  it("the Convolution layer takes it at reshape when the backend offers it: same top, gradients check", async () => {
    const direct = await createCpuBackend({ convolution: "direct" })
    const plain = await createCpuBackend()
    const layerOn = (backend: CpuBackend) =>
      new ConvolutionLayer(
        param({
          type: "Convolution",
          convolution_param: { num_output: 6, kernel_size: [3], pad: [1], weight_filler: { type: "gaussian", std: 0.5 }, bias_filler: { type: "gaussian", std: 0.5 } }
        }),
        { phase: "TRAIN", backend, rng: new Rng(5), services: {} }
      )
    const input = (backend: CpuBackend) => {
      const x = new Blob([2, 3, 8, 8], backend.allocator)
      const rng = new Rng(9)
      for (let i = 0; i < x.count; i++) x.data[i] = rng.uniform(-1, 1)
      return x
    }
    const tops = [direct, plain].map((backend) => {
      const layer = layerOn(backend)
      const bottom = [input(backend)]
      const top = [new Blob([1], backend.allocator)]
      layer.setUp(bottom, top)
      layer.reshape(bottom, top)
      layer.forward(bottom, top)
      return { layer, bottom, top }
    })
    expect(tops[0]!.layer.forwardMethod).toBe("direct kernel (no im2col)")
    expect(tops[1]!.layer.forwardMethod).toBe("im2col + GEMM")
    const a = tops[0]!.top[0]!.data
    const b = tops[1]!.top[0]!.data
    expect(Array.from(a.subarray(0, tops[0]!.top[0]!.count))).toEqual(Array.from(b.subarray(0, tops[1]!.top[0]!.count)))
    const { layer, bottom, top } = tops[0]!
    expectGradientsOk(layer, bottom, top)
  })
})
