import type { LearnableParam } from "@deepspark/engine"

/**
 * The center variable is one contiguous Float32Array: every learnable parameter of the train net,
 * concatenated in Caffe's learnable-parameter order (owners only, so shared weights appear once).
 */
export const paramCountOf = (params: ReadonlyArray<LearnableParam>): number => params.reduce((n, p) => n + p.blob.count, 0)

export const flattenParams = (params: ReadonlyArray<LearnableParam>, out: Float32Array): void => {
  let o = 0
  for (const p of params) {
    out.set(p.blob.data.subarray(0, p.blob.count), o)
    o += p.blob.count
  }
  if (o !== out.length) throw new RangeError(`flattenParams: net has ${o} values, buffer ${out.length}`)
}

export const unflattenParams = (params: ReadonlyArray<LearnableParam>, x: Float32Array): void => {
  let o = 0
  for (const p of params) {
    p.blob.data.set(x.subarray(o, o + p.blob.count))
    o += p.blob.count
  }
  if (o !== x.length) throw new RangeError(`unflattenParams: net has ${o} values, vector ${x.length}`)
}
