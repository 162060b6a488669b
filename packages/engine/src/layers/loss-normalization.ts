import type { LossParameter, LossParameter_NormalizationMode } from "@deepspark/caffe"

/**
 * The effective normalization mode of a loss layer: `normalization` if present, else the deprecated
 * `normalize` (true = VALID, false = BATCH_SIZE), else the layer's own default (VALID for most,
 * BATCH_SIZE for SigmoidCrossEntropyLoss).
 */
export const normalizationMode = (
  lossParam: LossParameter | undefined,
  fallback: LossParameter_NormalizationMode
): LossParameter_NormalizationMode => {
  if (lossParam?.normalization !== undefined) return lossParam.normalization
  if (lossParam?.normalize !== undefined) return lossParam.normalize ? "VALID" : "BATCH_SIZE"
  return fallback
}

/**
 * Caffe's get_normalizer: FULL = outer·inner, VALID = the non-ignored count (outer·inner when no count
 * is known, validCount = -1), BATCH_SIZE = outer, NONE = 1; never below 1 (a batch with every label
 * ignored gives loss 0, not NaN).
 */
export const lossNormalizer = (
  mode: LossParameter_NormalizationMode,
  outer: number,
  inner: number,
  validCount: number
): number => {
  let n: number
  switch (mode) {
    case "FULL":
      n = outer * inner
      break
    case "VALID":
      n = validCount === -1 ? outer * inner : validCount
      break
    case "BATCH_SIZE":
      n = outer
      break
    case "NONE":
      n = 1
      break
  }
  return Math.max(1, n)
}
