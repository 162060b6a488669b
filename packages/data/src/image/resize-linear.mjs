// Bilinear resize of 8-bit images with OpenCV's cv::resize INTER_LINEAR arithmetic (what Caffe's
// ReadImageToCVMat calls for new_height/new_width and convert_imageset --resize_*). Written from the
// behaviour described below, not from OpenCV's source, and checked pixel for pixel against OpenCV 4.6
// (Debian's python3-opencv, SSE2 baseline; test/fixtures/opencv-resize.json). Plain JS so that the
// decoder's worker thread can load it (see decode-core.mjs).
//
// For an output size D from an input size S along an axis (OpenCV computes inv = D / S and scale = 1 / inv
// in double):
//   f = float32((d + 0.5) · scale − 0.5), s = floor(f), f = float32(f − s)       (pixel-centre mapping)
//   columns: s < 0 → s = 0, f = 0; s ≥ S − 1 → s = S − 1, f = 0                (clamped at the borders)
//   rows: s and f are kept; the two source rows s, s + 1 are clipped into [0, S − 1]
//   coefficients (11 bits): c0 = round(float32(1 − f) · 2048), c1 = round(f · 2048), round half to even
// Each output pixel blends 2×2 source pixels in integers:
//   h(row) = src[row, s_x]·c0_x + src[row, s_x + 1]·c1_x                      (exact, < 2^20)
//   out    = ((c0_y·(h(r0) >> 4)) >> 16) + ((c1_y·(h(r1) >> 4)) >> 16) + 2) >> 2
// The vertical blend is OpenCV's 16-bit form (its SIMD kernel multiplies (h >> 4) by the coefficient and
// keeps the high 16 bits): it truncates twice, so it can be 1 below the exactly rounded
// (h0·c0 + h1·c1 + 2^21) >> 22 — about one pixel in eight on random images — and OpenCV 4.6 gives these
// values everywhere, row tails included. Only 4.6 was checked: an OpenCV version whose scalar code
// finishes a row with the exact form, or an IPP-accelerated build, would differ by 1 at some pixels.

/** Round half to even, as cvRound / saturate_cast<short>(float) do under the default rounding mode. */
const roundHalfEven = (x) => {
  const r = Math.round(x)
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r
}

/**
 * One axis's source indices and 11-bit coefficients.
 * @param {number} inSize
 * @param {number} outSize
 * @param {boolean} clampCoefficients true for columns (OpenCV clamps s and f), false for rows (it clips the rows)
 */
export function linearTaps(inSize, outSize, clampCoefficients) {
  const scale = 1 / (outSize / inSize)
  const index = new Int32Array(outSize)
  const c0 = new Int32Array(outSize)
  const c1 = new Int32Array(outSize)
  for (let d = 0; d < outSize; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5)
    let s = Math.floor(f)
    f = Math.fround(f - s)
    if (clampCoefficients) {
      if (s < 0) {
        s = 0
        f = 0
      }
      if (s >= inSize - 1) {
        s = inSize - 1
        f = 0
      }
    }
    index[d] = s
    c0[d] = roundHalfEven(Math.fround(1 - f) * 2048)
    c1[d] = roundHalfEven(f * 2048)
  }
  return { index, c0, c1 }
}

/**
 * Resizes CHW uint8 planes to outHeight × outWidth (both > 0).
 * @param {{ channels: number, height: number, width: number, data: Uint8Array }} image
 * @param {number} outHeight
 * @param {number} outWidth
 * @returns {{ channels: number, height: number, width: number, data: Uint8Array }}
 */
export function resizeLinearU8(image, outHeight, outWidth) {
  const { channels: C, height: H, width: W, data } = image
  // cv::resize copies the image when the size is unchanged
  if (outHeight === H && outWidth === W) return { channels: C, height: H, width: W, data: data.slice() }
  const xs = linearTaps(W, outWidth, true)
  const ys = linearTaps(H, outHeight, false)
  const out = new Uint8Array(C * outHeight * outWidth)
  // h(row) for the two rows an output row blends, one row of output width each
  const h0 = new Int32Array(outWidth)
  const h1 = new Int32Array(outWidth)
  const horizontal = (plane, row, into) => {
    const base = plane + row * W
    for (let x = 0; x < outWidth; x++) {
      const s = xs.index[x]
      const c1 = xs.c1[x]
      // at the right border c1 is 0 and column s + 1 does not exist
      into[x] = data[base + s] * xs.c0[x] + (c1 === 0 ? 0 : data[base + s + 1] * c1)
    }
  }
  for (let c = 0; c < C; c++) {
    const plane = c * H * W
    for (let y = 0; y < outHeight; y++) {
      const s = ys.index[y]
      const r0 = Math.min(Math.max(s, 0), H - 1)
      const r1 = Math.min(Math.max(s + 1, 0), H - 1)
      horizontal(plane, r0, h0)
      horizontal(plane, r1, h1)
      const b0 = ys.c0[y]
      const b1 = ys.c1[y]
      const dst = (c * outHeight + y) * outWidth
      for (let x = 0; x < outWidth; x++) {
        // h < 2^20, so h >> 4 < 2^16 and b·(h >> 4) < 2^27: plain int32 arithmetic
        const v = (((b0 * (h0[x] >> 4)) >> 16) + ((b1 * (h1[x] >> 4)) >> 16) + 2) >> 2
        out[dst + x] = v > 255 ? 255 : v
      }
    }
  }
  return { channels: C, height: outHeight, width: outWidth, data: out }
}
