import type { Blob } from "../core/blob.js"
import type { Layer } from "../core/layer.js"
import { Rng } from "../core/rng.js"

/**
 * Finite-difference gradient check in the manner of Caffe's GradientChecker: the objective is
 * Σ_i w_i·top_i with fixed random weights w (so every top element's gradient is exercised), or the
 * layer's own loss for loss layers (top diff = loss weight 1). For each checked input element x we compare
 * the analytic ∂objective/∂x from `backward` with (f(x+h) − f(x−h)) / 2h.
 *
 * Float32 forward passes limit the precision, so defaults follow Caffe's tests (step 1e-2, threshold
 * 1e-3, relative to max(|analytic|, |numeric|, 1)). Non-differentiable points (kinks of ReLU/max) should
 * be avoided by the test's input choice, or given a `kink` tolerance like Caffe's.
 */
export interface GradientCheckOptions {
  readonly step?: number
  readonly threshold?: number
  /** Which bottoms to check (default: all). */
  readonly checkBottom?: ReadonlyArray<number>
  /** Check parameter blobs too (default true). */
  readonly checkParams?: boolean
  /** Use the layer's loss (top[0] is a scalar loss) instead of random top weights. */
  readonly lossLayer?: boolean
  /** Skip elements where |x| < kink (non-differentiable points at 0 for ReLU-like layers). */
  readonly kink?: number
  readonly kinkRange?: number
  /** Only check this many elements per blob, spread evenly (keeps big blobs fast). */
  readonly maxChecksPerBlob?: number
  readonly seed?: number
  /** Run forward before each objective evaluation (default) — set false for layers with state. */
  readonly reshapeEachTime?: boolean
}

export interface GradientMismatch {
  readonly blob: string
  readonly index: number
  readonly analytic: number
  readonly numeric: number
}

export const checkGradients = (
  layer: Layer,
  bottom: Blob[],
  top: Blob[],
  options: GradientCheckOptions = {}
): GradientMismatch[] => {
  const step = options.step ?? 1e-2
  const threshold = options.threshold ?? 1e-3
  const rng = new Rng(options.seed ?? 1701)
  const maxChecks = options.maxChecksPerBlob ?? Infinity

  layer.setUp(bottom, top)
  const weights: Float32Array[] = top.map((t) => {
    const w = new Float32Array(t.count)
    for (let i = 0; i < w.length; i++) w[i] = options.lossLayer ? 1 : rng.uniform(-1, 1)
    return w
  })

  const objective = (): number => {
    layer.reshape(bottom, top)
    layer.forward(bottom, top)
    if (options.lossLayer) return top[0]!.data[0]!
    let s = 0
    top.forEach((t, k) => {
      const w = weights[k]!
      for (let i = 0; i < t.count; i++) s += w[i]! * t.data[i]!
    })
    return s
  }

  // Analytic gradients.
  objective()
  // Zero the inputs' diffs BEFORE writing the top diffs: a layer whose top shares its bottom's diff
  // storage (Reshape, Flatten, a one-top Slice) must see the top diff, not a zeroed one.
  for (const b of bottom) b.zeroDiff()
  for (const p of layer.blobs) p.zeroDiff()
  top.forEach((t, k) => {
    if (options.lossLayer) {
      t.diff.fill(0, 0, t.count)
      if (k === 0) t.diff[0] = 1
    } else t.diff.set(weights[k]!.subarray(0, t.count))
  })
  const checkBottoms = options.checkBottom ?? bottom.map((_, i) => i)
  layer.backward(top, bottom.map((_, i) => checkBottoms.includes(i)), bottom)

  const targets: Array<{ name: string; blob: Blob; analytic: Float32Array }> = []
  for (const i of checkBottoms) targets.push({ name: `bottom[${i}]`, blob: bottom[i]!, analytic: bottom[i]!.diff.slice(0, bottom[i]!.count) })
  if (options.checkParams ?? true)
    layer.blobs.forEach((p, i) => targets.push({ name: `param[${i}]`, blob: p, analytic: p.diff.slice(0, p.count) }))

  const mismatches: GradientMismatch[] = []
  for (const { name, blob, analytic } of targets) {
    const stride = Math.max(1, Math.floor(blob.count / Math.min(maxChecks, blob.count)))
    for (let i = 0; i < blob.count; i += stride) {
      const x0 = blob.data[i]!
      if (options.kink !== undefined && Math.abs(x0 - options.kink) < (options.kinkRange ?? step * 2)) continue
      blob.data[i] = x0 + step
      const fPlus = objective()
      blob.data[i] = x0 - step
      const fMinus = objective()
      blob.data[i] = x0
      const numeric = (fPlus - fMinus) / (2 * step)
      const a = analytic[i]!
      const scale = Math.max(Math.abs(a), Math.abs(numeric), 1)
      if (Math.abs(a - numeric) > threshold * scale) mismatches.push({ blob: name, index: i, analytic: a, numeric })
    }
  }
  return mismatches
}

/** Fills a blob with uniform random values in [lo, hi). */
export const fillUniform = (blob: Blob, rng: Rng, lo = -1, hi = 1): Blob => {
  for (let i = 0; i < blob.count; i++) blob.data[i] = rng.uniform(lo, hi)
  return blob
}

/** Fills a blob with Gaussian values. */
export const fillGaussian = (blob: Blob, rng: Rng, mean = 0, std = 1): Blob => {
  for (let i = 0; i < blob.count; i++) blob.data[i] = rng.gaussian(mean, std)
  return blob
}
