import type { PlainMessage } from "../schema/descriptor.js"
import { list } from "./plain.js"

/**
 * Caffe's UpgradeNetBatchNorm: old BatchNorm definitions declared three `param` specs for the
 * statistic blobs; Caffe sets lr_mult = 0 and decay_mult = 0 on all three (keeping their other fields)
 * so the statistics are never updated by the solver.
 */

const isOldBatchNorm = (layer: PlainMessage): boolean => layer["type"] === "BatchNorm" && list(layer, "param").length === 3

export const netNeedsBatchNormUpgrade = (net: PlainMessage): boolean => list(net, "layer").some(isOldBatchNorm)

export const upgradeNetBatchNorm = (net: PlainMessage): PlainMessage => ({
  ...net,
  layer: list(net, "layer").map((layer) =>
    isOldBatchNorm(layer)
      ? { ...layer, param: list(layer, "param").map((p) => ({ ...p, lr_mult: 0, decay_mult: 0 })) }
      : layer
  )
})
