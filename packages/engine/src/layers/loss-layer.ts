import type { LossParameter } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"

/**
 * Caffe's LossLayer: two bottoms (predictions, targets) with the same first dimension, a scalar top
 * (zero axes) whose diff holds the loss weight, loss weight 1 by default, and no forced gradient for
 * the targets.
 */
export abstract class LossLayer extends Layer {
  override exactNumBottomBlobs(): number {
    return 2
  }
  override exactNumTopBlobs(): number {
    return 1
  }
  override isLoss(): boolean {
    return true
  }
  override allowForceBackward(bottomIndex: number): boolean {
    return bottomIndex !== 1
  }
  reshape(bottom: Blob[], top: Blob[]): void {
    if (bottom[0]!.legacyDim(0) !== bottom[1]!.legacyDim(0))
      throw this.setupError(
        `the data and label should have the same first dimension: bottom[0] is [${bottom[0]!.shape.join(", ")}], bottom[1] is [${bottom[1]!.shape.join(", ")}]`
      )
    top[0]!.reshape([])
  }
}

export type NormalizationMode = "FULL" | "VALID" | "BATCH_SIZE" | "NONE"

/** The effective normalization: `normalization`, else the deprecated `normalize` (true = VALID, false = BATCH_SIZE), else VALID. */
export const normalizationMode = (p: LossParameter | undefined, fallback: NormalizationMode = "VALID"): NormalizationMode => {
  if (p?.normalization !== undefined) return p.normalization
  if (p?.normalize !== undefined) return p.normalize ? "VALID" : "BATCH_SIZE"
  return fallback
}

/** Caffe's LossLayer::GetNormalizer, floored at 1. validCount −1 = "all positions". */
export const lossNormalizer = (mode: NormalizationMode, outer: number, inner: number, validCount: number): number => {
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
