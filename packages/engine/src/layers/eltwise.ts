import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/** Eltwise: element-wise PROD, SUM (with coefficients) or MAX of equally shaped bottoms. */
export class EltwiseLayer extends Layer {
  private op: "PROD" | "SUM" | "MAX" = "SUM"
  private coeffs: number[] = []
  private stableProdGrad = true
  /** MAX: which bottom won each element. */
  private maxIndex = new Int32Array(0)

  override minBottomBlobs(): number {
    return 2
  }
  override exactNumTopBlobs(): number {
    return 1
  }
  layerSetUp(bottom: Blob[]): void {
    const p = this.param.eltwise_param
    this.op = getOr(p, "EltwiseParameter", "operation")
    const coeff = p?.coeff ?? []
    if (coeff.length > 0 && this.op !== "SUM") throw this.setupError("Eltwise layer only takes coefficients for summation")
    if (coeff.length > 0 && coeff.length !== bottom.length)
      throw this.setupError(`Eltwise layer takes one coefficient per bottom blob: ${coeff.length} coefficients for ${bottom.length} bottoms`)
    this.coeffs = bottom.map((_, i) => coeff[i] ?? 1)
    this.stableProdGrad = getOr(p, "EltwiseParameter", "stable_prod_grad")
  }
  reshape(bottom: Blob[], top: Blob[]): void {
    const s = bottom[0]!.shape
    bottom.forEach((b, i) => {
      if (b.shape.length !== s.length || b.shape.some((d, j) => d !== s[j]))
        throw this.setupError(`bottom[${i}] shape [${b.shape.join(", ")}] differs from bottom[0] shape [${s.join(", ")}]`)
    })
    top[0]!.reshapeLike(bottom[0]!)
    if (this.op === "MAX" && this.maxIndex.length < top[0]!.count) this.maxIndex = new Int32Array(top[0]!.count)
  }
  forward(bottom: Blob[], top: Blob[]): void {
    const n = top[0]!.count
    const y = top[0]!.data
    switch (this.op) {
      case "PROD": {
        const a = bottom[0]!.data
        const b = bottom[1]!.data
        for (let i = 0; i < n; i++) y[i] = a[i]! * b[i]!
        for (let k = 2; k < bottom.length; k++) {
          const x = bottom[k]!.data
          for (let i = 0; i < n; i++) y[i] = y[i]! * x[i]!
        }
        return
      }
      case "SUM": {
        y.fill(0, 0, n)
        bottom.forEach((b, k) => this.ctx.backend.axpy(n, this.coeffs[k]!, b.data, 0, y, 0))
        return
      }
      case "MAX": {
        // As Caffe: bottom 0 vs 1 with strict > (ties go to 1), then later bottoms only if strictly greater.
        const a = bottom[0]!.data
        const b = bottom[1]!.data
        const m = this.maxIndex
        for (let i = 0; i < n; i++) {
          if (a[i]! > b[i]!) {
            y[i] = a[i]!
            m[i] = 0
          } else {
            y[i] = b[i]!
            m[i] = 1
          }
        }
        for (let k = 2; k < bottom.length; k++) {
          const x = bottom[k]!.data
          for (let i = 0; i < n; i++) {
            if (x[i]! > y[i]!) {
              y[i] = x[i]!
              m[i] = k
            }
          }
        }
        return
      }
    }
  }
  backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    const n = top[0]!.count
    const dy = top[0]!.diff
    const y = top[0]!.data
    bottom.forEach((b, k) => {
      if (!propagateDown[k]) return
      const dx = b.diff
      switch (this.op) {
        case "PROD": {
          if (this.stableProdGrad) {
            // Product of the other bottoms, avoiding division by zero.
            let first = true
            bottom.forEach((o, j) => {
              if (j === k) return
              if (first) dx.set(o.data.subarray(0, n))
              else for (let i = 0; i < n; i++) dx[i] = dx[i]! * o.data[i]!
              first = false
            })
          } else for (let i = 0; i < n; i++) dx[i] = y[i]! / b.data[i]!
          for (let i = 0; i < n; i++) dx[i] = dx[i]! * dy[i]!
          return
        }
        case "SUM": {
          const c = this.coeffs[k]!
          for (let i = 0; i < n; i++) dx[i] = c * dy[i]!
          return
        }
        case "MAX": {
          const m = this.maxIndex
          for (let i = 0; i < n; i++) dx[i] = m[i] === k ? dy[i]! : 0
          return
        }
      }
    })
  }
}
