/**
 * Tables of Marsaglia & Tsang's ziggurat for the standard normal ("The Ziggurat Method for Generating
 * Random Variables", J. Stat. Softw. 5(8), 2000; 128 layers), the method Boost's normal_distribution —
 * and so Caffe's Gaussian filler — uses. One 32-bit draw gives a sample ≈ 98.8 % of the time: the low
 * 7 bits pick the layer, bit 7 the sign, the high 24 bits the magnitude (so the layer and the value never
 * share bits); the rest fall back to an exact rejection test or the tail (`r` = 3.442619855899).
 */
export interface ZigguratTables {
  /** Accept the magnitude j (24 bits) in layer i outright when j < k[i]. */
  readonly k: Uint32Array
  /** x = j · w[i]. */
  readonly w: Float64Array
  /** f(x_i) = exp(−x_i² / 2), f[0] = 1 for the top layer's upper edge. */
  readonly f: Float64Array
}

/** Start of the tail (x_127). */
export const zigguratR = 3.442619855899

const m = 2 ** 24

const build = (): ZigguratTables => {
  const k = new Uint32Array(128)
  const w = new Float64Array(128)
  const f = new Float64Array(128)
  const v = 9.91256303526217e-3 // area of each layer
  let dn = zigguratR
  let tn = dn
  const q = v / Math.exp(-0.5 * dn * dn)
  k[0] = Math.floor((dn / q) * m)
  k[1] = 0
  w[0] = q / m
  w[127] = dn / m
  f[0] = 1
  f[127] = Math.exp(-0.5 * dn * dn)
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(v / dn + Math.exp(-0.5 * dn * dn)))
    k[i + 1] = Math.floor((dn / tn) * m)
    tn = dn
    f[i] = Math.exp(-0.5 * dn * dn)
    w[i] = dn / m
  }
  return { k, w, f }
}

export const zigguratTables: ZigguratTables = build()
