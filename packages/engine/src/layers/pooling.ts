import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"
import { allocInt32, type PoolGeometry } from "../backend/backend.js"

/**
 * Pooling over (num, channels, height, width): MAX (optional mask top), AVE (divisor from the
 * pad-extended window) and STOCHASTIC (sampling ∝ activation in TRAIN, activation-weighted average in
 * TEST), with global pooling and CEIL/FLOOR rounding, as Caffe's PoolingLayer.
 */
export class PoolingLayer extends Layer {
  private method: "MAX" | "AVE" | "STOCHASTIC" = "MAX"
  private global = false
  private kernel: [number, number] = [0, 0]
  private stride: [number, number] = [1, 1]
  private pad: [number, number] = [0, 0]
  private geometry!: PoolGeometry
  private mask: Int32Array = new Int32Array(0)

  /** The method and geometry reshape resolved, for kernels that run outside the layer (the webgpu executor). */
  resolvedSettings(): { readonly method: "MAX" | "AVE" | "STOCHASTIC"; readonly geometry: PoolGeometry } {
    return { method: this.method, geometry: this.geometry }
  }

  override exactNumBottomBlobs(): number {
    return 1
  }
  override minTopBlobs(): number {
    return 1
  }
  override maxTopBlobs(): number {
    // MAX pooling may output its argmax mask as a second top.
    return getOr(this.param.pooling_param, "PoolingParameter", "pool") === "MAX" ? 2 : 1
  }

  layerSetUp(bottom: Blob[]): void {
    const p = this.param.pooling_param ?? {}
    this.method = getOr(p, "PoolingParameter", "pool")
    this.global = getOr(p, "PoolingParameter", "global_pooling")
    const hasSize = p.kernel_size !== undefined
    const hasHW = p.kernel_h !== undefined || p.kernel_w !== undefined
    if (this.global) {
      if (hasSize || hasHW) throw this.setupError("with global_pooling: true the filter size cannot be specified")
    } else {
      if (hasSize === hasHW) throw this.setupError("filter size is kernel_size OR kernel_h and kernel_w; not both, and one is required")
      if (hasHW && (p.kernel_h === undefined || p.kernel_w === undefined))
        throw this.setupError("for non-square filters both kernel_h and kernel_w are required")
    }
    if (p.pad !== undefined && (p.pad_h !== undefined || p.pad_w !== undefined))
      throw this.setupError("pad is pad OR pad_h and pad_w; not both")
    if ((p.pad_h === undefined) !== (p.pad_w === undefined)) throw this.setupError("for non-square padding both pad_h and pad_w are required")
    if (p.stride !== undefined && (p.stride_h !== undefined || p.stride_w !== undefined))
      throw this.setupError("stride is stride OR stride_h and stride_w; not both")
    if ((p.stride_h === undefined) !== (p.stride_w === undefined)) throw this.setupError("for non-square strides both stride_h and stride_w are required")
    this.kernel = this.global ? [bottom[0]!.height, bottom[0]!.width] : hasSize ? [p.kernel_size!, p.kernel_size!] : [p.kernel_h!, p.kernel_w!]
    if (!(this.kernel[0] > 0 && this.kernel[1] > 0)) throw this.setupError(`filter dimensions must be positive, got ${this.kernel.join("×")}`)
    this.pad = p.pad_h !== undefined ? [p.pad_h, p.pad_w!] : [p.pad ?? 0, p.pad ?? 0]
    this.stride = p.stride_h !== undefined ? [p.stride_h, p.stride_w!] : [p.stride ?? 1, p.stride ?? 1]
    if (this.global && (this.pad[0] !== 0 || this.pad[1] !== 0 || this.stride[0] !== 1 || this.stride[1] !== 1))
      throw this.setupError("with global_pooling: true only pad = 0 and stride = 1 are allowed")
    if (this.pad[0] !== 0 || this.pad[1] !== 0) {
      if (this.method === "STOCHASTIC") throw this.setupError("padding implemented only for average and max pooling")
      if (this.pad[0] >= this.kernel[0] || this.pad[1] >= this.kernel[1])
        throw this.setupError(`pad ${this.pad.join("×")} must be smaller than the kernel ${this.kernel.join("×")}`)
    }
  }

  reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!
    if (b.numAxes !== 4) throw this.setupError(`input must have 4 axes (num, channels, height, width), got [${b.shape.join(", ")}]`)
    const [num, channels, height, width] = b.shape as [number, number, number, number]
    if (this.global) this.kernel = [height, width]
    const round = getOr(this.param.pooling_param, "PoolingParameter", "round_mode") === "CEIL" ? Math.ceil : Math.floor
    const [kh, kw] = this.kernel
    const [ph, pw] = this.pad
    const [sh, sw] = this.stride
    let pooledH = round((height + 2 * ph - kh) / sh) + 1
    let pooledW = round((width + 2 * pw - kw) / sw) + 1
    if (ph !== 0 || pw !== 0) {
      // The last window must start inside the image (or its top/left padding).
      if ((pooledH - 1) * sh >= height + ph) pooledH--
      if ((pooledW - 1) * sw >= width + pw) pooledW--
    }
    if (!(pooledH > 0 && pooledW > 0)) throw this.setupError(`pooled size ${pooledH}×${pooledW} is not positive for input [${b.shape.join(", ")}] and kernel ${kh}×${kw}`)
    this.geometry = { num, channels, height, width, kernelH: kh, kernelW: kw, padH: ph, padW: pw, strideH: sh, strideW: sw, pooledH, pooledW }
    for (const t of top) t.reshape([num, channels, pooledH, pooledW])
    const n = num * channels * pooledH * pooledW
    // In the backend's memory, so the kernels write and read the argmax in place.
    if (this.method !== "AVE" && this.mask.length < n) this.mask = allocInt32(this.ctx.backend.allocator, n)
  }

  forward(bottom: Blob[], top: Blob[]): void {
    const be = this.ctx.backend
    const g = this.geometry
    const x = bottom[0]!.data
    const y = top[0]!.data
    switch (this.method) {
      case "MAX":
        be.maxPoolForward(g, x, y, this.mask)
        if (top.length > 1) {
          const m = top[1]!.data
          for (let i = 0; i < top[1]!.count; i++) m[i] = this.mask[i]!
        }
        return
      case "AVE":
        be.avePoolForward(g, x, y)
        return
      case "STOCHASTIC":
        if (this.ctx.phase === "TRAIN") this.stochasticTrain(x, y)
        else this.stochasticTest(x, y)
        return
    }
  }

  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return
    const be = this.ctx.backend
    const g = this.geometry
    const dy = top[0]!.diff
    const dx = bottom[0]!.diff
    switch (this.method) {
      case "MAX":
        be.maxPoolBackward(g, dy, this.mask, dx)
        return
      case "AVE":
        be.avePoolBackward(g, dy, dx)
        return
      case "STOCHASTIC":
        if (this.ctx.phase !== "TRAIN") throw this.setupError("STOCHASTIC pooling has no backward in the TEST phase")
        // Each top diff goes to the sampled position (the mask holds plane-relative h·W + w, as MAX).
        be.maxPoolBackward(g, dy, this.mask, dx)
        return
    }
  }

  /** Samples one position per window with probability ∝ its (non-negative) activation. */
  private stochasticTrain(x: Float32Array, y: Float32Array): void {
    this.forEachStochasticWindow((plane, out, hs, he, ws, we) => {
      const g = this.geometry
      const base = plane * g.height * g.width
      let sum = 0
      for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) sum += x[base + h * g.width + w]!
      const threshold = this.ctx.rng.nextDouble() * sum
      let cum = 0
      let chosen = hs * g.width + ws
      search: for (let h = hs; h < he; h++) {
        for (let w = ws; w < we; w++) {
          cum += x[base + h * g.width + w]!
          if (cum >= threshold) {
            chosen = h * g.width + w
            break search
          }
        }
      }
      this.mask[out] = chosen
      y[out] = x[base + chosen]!
    })
  }

  /** TEST: Σx² / Σx over the window (the expected value of the TRAIN sample). */
  private stochasticTest(x: Float32Array, y: Float32Array): void {
    this.forEachStochasticWindow((plane, out, hs, he, ws, we) => {
      const g = this.geometry
      const base = plane * g.height * g.width
      let sum = 1.1754943508222875e-38
      let weighted = 0
      for (let h = hs; h < he; h++) {
        for (let w = ws; w < we; w++) {
          const v = x[base + h * g.width + w]!
          sum += v
          weighted += v * v
        }
      }
      y[out] = weighted / sum
    })
  }

  private forEachStochasticWindow(visit: (plane: number, out: number, hs: number, he: number, ws: number, we: number) => void): void {
    const g = this.geometry
    for (let p = 0; p < g.num * g.channels; p++) {
      for (let ph = 0; ph < g.pooledH; ph++) {
        for (let pw = 0; pw < g.pooledW; pw++) {
          const hs = ph * g.strideH
          const ws = pw * g.strideW
          visit(p, (p * g.pooledH + ph) * g.pooledW + pw, hs, Math.min(hs + g.kernelH, g.height), ws, Math.min(ws + g.kernelW, g.width))
        }
      }
    }
  }
}
