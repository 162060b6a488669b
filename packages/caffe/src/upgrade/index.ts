export { UpgradeError } from "./UpgradeError.js"
export { upgradeContext, type UpgradeContext, type UpgradeLogger, type UpgradeLogLevel, type UpgradeOptions } from "./UpgradeOptions.js"
export { upgradeNetAsNeeded, upgradeNetAsNeededEffect } from "./upgradeNet.js"
export {
  upgradeSolverAsNeeded,
  upgradeSolverAsNeededEffect,
  upgradeSnapshotPrefix,
  upgradeSolverType,
  type SnapshotPrefixOptions,
  type SolverUpgradeOptions
} from "./upgradeSolver.js"
export { netNeedsV0ToV1Upgrade, upgradeV0Net, upgradeV0LayerParameter, upgradeV0PaddingLayers } from "./v0ToV1.js"
export { netNeedsDataUpgrade, upgradeNetDataTransformation } from "./dataTransform.js"
export { netNeedsV1ToV2Upgrade, upgradeV1Net, upgradeV1LayerParameter, V1_TYPE_NAMES } from "./v1ToV2.js"
export { netNeedsInputUpgrade, upgradeNetInput } from "./input.js"
export { netNeedsBatchNormUpgrade, upgradeNetBatchNorm } from "./batchNorm.js"
