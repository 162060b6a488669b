import type { FillerParameter } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import type { Rng } from "../core/rng.js"

/**
 * Caffe's fillers (filler.hpp): initial values for parameter blobs and DummyData tops, drawn from the
 * engine's Rng. An absent FillerParameter means `constant` 0, as Caffe's defaults give.
 */
export const fillBlob = (blob: Blob, filler: FillerParameter | undefined, rng: Rng): void => {
  const f = filler ?? {}
  const type = f.type ?? "constant"
  const sparse = f.sparse ?? -1
  if (type !== "gaussian" && sparse !== -1)
    throw new FillerError(`filler "${type}": sparsity (sparse: ${sparse}) is only supported by the gaussian filler`)
  const data = blob.data
  const n = blob.count
  switch (type) {
    case "constant": {
      data.fill(Math.fround(f.value ?? 0), 0, n)
      return
    }
    case "uniform": {
      const lo = f.min ?? 0
      const hi = f.max ?? 1
      for (let i = 0; i < n; i++) data[i] = rng.uniform(lo, hi)
      return
    }
    case "gaussian": {
      const mean = f.mean ?? 0
      const std = f.std ?? 1
      for (let i = 0; i < n; i++) data[i] = rng.gaussian(mean, std)
      if (sparse >= 0) {
        // Keep each weight with probability sparse / num_outputs so each output sees ~`sparse` inputs.
        if (blob.numAxes < 1) throw new FillerError("gaussian filler with sparse needs a blob with at least one axis")
        const keep = sparse / blob.shape[0]!
        for (let i = 0; i < n; i++) if (!rng.bernoulli(keep)) data[i] = 0
      }
      return
    }
    case "positive_unitball": {
      for (let i = 0; i < n; i++) data[i] = rng.uniform(0, 1)
      // Each of the shape[0] rows is normalised to sum to one.
      const rows = blob.numAxes > 0 ? blob.shape[0]! : 1
      const dim = rows > 0 ? n / rows : 0
      for (let r = 0; r < rows; r++) {
        let s = 0
        for (let j = 0; j < dim; j++) s += data[r * dim + j]!
        for (let j = 0; j < dim; j++) data[r * dim + j] = data[r * dim + j]! / s
      }
      return
    }
    case "xavier": {
      const scale = Math.sqrt(3 / fanNorm(blob, f))
      for (let i = 0; i < n; i++) data[i] = rng.uniform(-scale, scale)
      return
    }
    case "msra": {
      const std = Math.sqrt(2 / fanNorm(blob, f))
      for (let i = 0; i < n; i++) data[i] = rng.gaussian(0, std)
      return
    }
    case "bilinear": {
      if (blob.numAxes !== 4) throw new FillerError(`bilinear filler needs a 4-D blob, got [${blob.shape.join(", ")}]`)
      const w = blob.shape[3]!
      const h = blob.shape[2]!
      if (w !== h) throw new FillerError(`bilinear filler needs a square kernel, got ${h}×${w}`)
      const fct = Math.ceil(w / 2)
      const c = Math.fround((w - 1) / (2 * fct))
      for (let i = 0; i < n; i++) {
        const x = i % w
        const y = Math.floor(i / w) % h
        data[i] = (1 - Math.abs(x / fct - c)) * (1 - Math.abs(y / fct - c))
      }
      return
    }
    default:
      throw new FillerError(`unknown filler type "${type}" (known: constant, uniform, gaussian, positive_unitball, xavier, msra, bilinear)`)
  }
}

/** Xavier/MSRA's n: fan_in = count/shape[0], fan_out = count/shape[1] (count for 1-D), or their mean. */
export const fanNorm = (blob: Blob, f: FillerParameter): number => {
  const fanIn = blob.count / blob.shape[0]!
  const fanOut = blob.numAxes > 1 ? blob.count / blob.shape[1]! : blob.count
  switch (f.variance_norm ?? "FAN_IN") {
    case "FAN_IN":
      return fanIn
    case "FAN_OUT":
      return fanOut
    case "AVERAGE":
      return (fanIn + fanOut) / 2
  }
}

export class FillerError extends Error {
  readonly _tag = "FillerError"
  constructor(detail: string) {
    super(detail)
    this.name = "FillerError"
  }
}
