import type { Backend, PoolGeometry } from "./backend.js"
import { heapAllocator } from "./backend.js"

/**
 * The reference backend: every kernel as the plainest loop that states Caffe's arithmetic. It is slow
 * on purpose; the fast backends are tested against it. Sums are accumulated in float64 and stored as
 * float32.
 */
export const referenceBackend: Backend = {
  name: "reference",
  description: "plain JavaScript loops (correctness oracle)",
  allocator: heapAllocator,

  gemm(transA, transB, M, N, K, alpha, A, aOffset, B, bOffset, beta, C, cOffset) {
    // op(A)[i,k] = A[aOffset + i·aRow + k·aCol]; op(B)[k,j] = B[bOffset + k·N + j] or, transposed, B[bOffset + j·K + k].
    const aRow = transA ? 1 : K
    const aCol = transA ? M : 1
    const bRow = N
    const bCol = K
    // Row accumulators in float64; every C[i,j] sums its k terms in ascending order whichever loop
    // order is used (dot-product order when B is transposed, so both operands are read contiguously).
    const acc = new Float64Array(N)
    for (let i = 0; i < M; i++) {
      if (transB) {
        for (let j = 0; j < N; j++) {
          let s = 0
          const bBase = bOffset + j * bCol
          for (let k = 0; k < K; k++) s += A[aOffset + i * aRow + k * aCol]! * B[bBase + k]!
          acc[j] = s
        }
      } else {
        acc.fill(0)
        for (let k = 0; k < K; k++) {
          const a = A[aOffset + i * aRow + k * aCol]!
          const bBase = bOffset + k * bRow
          for (let j = 0; j < N; j++) acc[j] += a * B[bBase + j]!
        }
      }
      const cBase = cOffset + i * N
      // beta 0 ignores C (it may hold garbage/NaN), as BLAS does.
      if (beta === 0) for (let j = 0; j < N; j++) C[cBase + j] = alpha * acc[j]!
      else for (let j = 0; j < N; j++) C[cBase + j] = alpha * acc[j]! + beta * C[cBase + j]!
    }
  },

  gemv(transA, M, N, alpha, A, aOffset, x, xOffset, beta, y, yOffset) {
    if (!transA) {
      for (let i = 0; i < M; i++) {
        let s = 0
        for (let j = 0; j < N; j++) s += A[aOffset + i * N + j]! * x[xOffset + j]!
        y[yOffset + i] = beta === 0 ? alpha * s : alpha * s + beta * y[yOffset + i]!
      }
    } else {
      for (let j = 0; j < N; j++) {
        let s = 0
        for (let i = 0; i < M; i++) s += A[aOffset + i * N + j]! * x[xOffset + i]!
        y[yOffset + j] = beta === 0 ? alpha * s : alpha * s + beta * y[yOffset + j]!
      }
    }
  },

  im2col(g, data, dataOffset, col) {
    let at = 0
    for (let c = 0; c < g.channels; c++) {
      for (let kh = 0; kh < g.kernelH; kh++) {
        for (let kw = 0; kw < g.kernelW; kw++) {
          for (let oh = 0; oh < g.outH; oh++) {
            const h = oh * g.strideH - g.padH + kh * g.dilationH
            for (let ow = 0; ow < g.outW; ow++) {
              const w = ow * g.strideW - g.padW + kw * g.dilationW
              // Taps in the padding read zero.
              col[at++] = h >= 0 && h < g.height && w >= 0 && w < g.width ? data[dataOffset + (c * g.height + h) * g.width + w]! : 0
            }
          }
        }
      }
    }
  },

  col2im(g, col, data, dataOffset) {
    data.fill(0, dataOffset, dataOffset + g.channels * g.height * g.width)
    let at = 0
    for (let c = 0; c < g.channels; c++) {
      for (let kh = 0; kh < g.kernelH; kh++) {
        for (let kw = 0; kw < g.kernelW; kw++) {
          for (let oh = 0; oh < g.outH; oh++) {
            const h = oh * g.strideH - g.padH + kh * g.dilationH
            for (let ow = 0; ow < g.outW; ow++, at++) {
              const w = ow * g.strideW - g.padW + kw * g.dilationW
              if (h >= 0 && h < g.height && w >= 0 && w < g.width) {
                const i = dataOffset + (c * g.height + h) * g.width + w
                data[i] = data[i]! + col[at]!
              }
            }
          }
        }
      }
    }
  },

  maxPoolForward(g, bottom, top, mask) {
    const planeIn = g.height * g.width
    const planeOut = g.pooledH * g.pooledW
    for (let p = 0; p < g.num * g.channels; p++) {
      for (let ph = 0; ph < g.pooledH; ph++) {
        for (let pw = 0; pw < g.pooledW; pw++) {
          const hs = Math.max(ph * g.strideH - g.padH, 0)
          const ws = Math.max(pw * g.strideW - g.padW, 0)
          const he = Math.min(ph * g.strideH - g.padH + g.kernelH, g.height)
          const we = Math.min(pw * g.strideW - g.padW + g.kernelW, g.width)
          let best = -3.4028234663852886e38
          let arg = -1
          for (let h = hs; h < he; h++) {
            for (let w = ws; w < we; w++) {
              const v = bottom[p * planeIn + h * g.width + w]!
              if (v > best) {
                best = v
                arg = h * g.width + w
              }
            }
          }
          top[p * planeOut + ph * g.pooledW + pw] = best
          mask[p * planeOut + ph * g.pooledW + pw] = arg
        }
      }
    }
  },

  maxPoolBackward(g, topDiff, mask, bottomDiff) {
    const planeIn = g.height * g.width
    const planeOut = g.pooledH * g.pooledW
    bottomDiff.fill(0, 0, g.num * g.channels * planeIn)
    for (let p = 0; p < g.num * g.channels; p++) {
      for (let i = 0; i < planeOut; i++) {
        const arg = mask[p * planeOut + i]!
        if (arg >= 0) bottomDiff[p * planeIn + arg] = bottomDiff[p * planeIn + arg]! + topDiff[p * planeOut + i]!
      }
    }
  },

  avePoolForward(g, bottom, top) {
    forEachAveWindow(g, (p, outIndex, hs, he, ws, we, divisor) => {
      let s = 0
      for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) s += bottom[p * g.height * g.width + h * g.width + w]!
      top[outIndex] = s / divisor
    })
  },

  avePoolBackward(g, topDiff, bottomDiff) {
    bottomDiff.fill(0, 0, g.num * g.channels * g.height * g.width)
    forEachAveWindow(g, (p, outIndex, hs, he, ws, we, divisor) => {
      const d = topDiff[outIndex]! / divisor
      for (let h = hs; h < he; h++) {
        for (let w = ws; w < we; w++) {
          const i = p * g.height * g.width + h * g.width + w
          bottomDiff[i] = bottomDiff[i]! + d
        }
      }
    })
  },

  reluForward(x, y, n, slope) {
    for (let i = 0; i < n; i++) {
      const v = x[i]!
      y[i] = Math.max(v, 0) + slope * Math.min(v, 0)
    }
  },

  reluBackward(x, dy, dx, n, slope) {
    for (let i = 0; i < n; i++) dx[i] = dy[i]! * (x[i]! > 0 ? 1 : slope)
  },

  softmaxForward(x, y, outer, channels, inner) {
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) {
        const base = o * channels * inner + k
        let max = -Infinity
        for (let c = 0; c < channels; c++) max = Math.max(max, x[base + c * inner]!)
        let sum = 0
        for (let c = 0; c < channels; c++) {
          const e = Math.fround(Math.exp(x[base + c * inner]! - max))
          y[base + c * inner] = e
          sum += e
        }
        for (let c = 0; c < channels; c++) y[base + c * inner] = y[base + c * inner]! / sum
      }
    }
  },

  lrnForward(g, x, y, scale) {
    const plane = g.height * g.width
    const half = (g.size - 1) / 2
    for (let n = 0; n < g.num; n++) {
      for (let c = 0; c < g.channels; c++) {
        for (let i = 0; i < plane; i++) {
          let s = 0
          for (let j = Math.max(0, c - half); j <= Math.min(g.channels - 1, c + half); j++) {
            const v = x[(n * g.channels + j) * plane + i]!
            s += v * v
          }
          const at = (n * g.channels + c) * plane + i
          scale[at] = g.k + (g.alpha / g.size) * s
          y[at] = x[at]! * Math.pow(scale[at]!, -g.beta)
        }
      }
    }
  },

  lrnBackward(g, x, y, scale, dy, dx) {
    // dx_c = dy_c·scale_c^(−β) − (2αβ/n)·x_c·Σ_{j in window(c)} dy_j·y_j/scale_j
    const plane = g.height * g.width
    const half = (g.size - 1) / 2
    const ratio = (2 * g.alpha * g.beta) / g.size
    for (let n = 0; n < g.num; n++) {
      for (let c = 0; c < g.channels; c++) {
        for (let i = 0; i < plane; i++) {
          let s = 0
          for (let j = Math.max(0, c - half); j <= Math.min(g.channels - 1, c + half); j++) {
            const at = (n * g.channels + j) * plane + i
            s += (dy[at]! * y[at]!) / scale[at]!
          }
          const at = (n * g.channels + c) * plane + i
          dx[at] = dy[at]! * Math.pow(scale[at]!, -g.beta) - ratio * x[at]! * s
        }
      }
    }
  },

  axpy(n, alpha, x, xOffset, y, yOffset) {
    for (let i = 0; i < n; i++) y[yOffset + i] = y[yOffset + i]! + alpha * x[xOffset + i]!
  },

  dot(n, x, xOffset, y, yOffset) {
    let s = 0
    for (let i = 0; i < n; i++) s += x[xOffset + i]! * y[yOffset + i]!
    return s
  }
}

/** AVE windows as Caffe: divisor from the pad-extended window, sum over the window clipped to the image. */
const forEachAveWindow = (
  g: PoolGeometry,
  visit: (plane: number, outIndex: number, hs: number, he: number, ws: number, we: number, divisor: number) => void
): void => {
  for (let p = 0; p < g.num * g.channels; p++) {
    for (let ph = 0; ph < g.pooledH; ph++) {
      for (let pw = 0; pw < g.pooledW; pw++) {
        let hs = ph * g.strideH - g.padH
        let ws = pw * g.strideW - g.padW
        let he = Math.min(hs + g.kernelH, g.height + g.padH)
        let we = Math.min(ws + g.kernelW, g.width + g.padW)
        const divisor = (he - hs) * (we - ws)
        hs = Math.max(hs, 0)
        ws = Math.max(ws, 0)
        he = Math.min(he, g.height)
        we = Math.min(we, g.width)
        visit(p, (p * g.pooledH + ph) * g.pooledW + pw, hs, he, ws, we, divisor)
      }
    }
  }
}

