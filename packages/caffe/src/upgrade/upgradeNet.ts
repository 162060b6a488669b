import { Effect } from "effect"
import type { PlainMessage } from "../schema/descriptor.js"
import type { NetParameter } from "../schema/types.js"
import { netNeedsBatchNormUpgrade, upgradeNetBatchNorm } from "./batchNorm.js"
import { netNeedsDataUpgrade, upgradeNetDataTransformation } from "./dataTransform.js"
import { netNeedsInputUpgrade, upgradeNetInput } from "./input.js"
import { UpgradeError } from "./UpgradeError.js"
import { upgradeContext, type UpgradeOptions } from "./UpgradeOptions.js"
import { netNeedsV0ToV1Upgrade, upgradeV0Net } from "./v0ToV1.js"
import { netNeedsV1ToV2Upgrade, upgradeV1Net } from "./v1ToV2.js"

/**
 * Caffe's UpgradeNetAsNeeded, run on every NetParameter read (prototxt or caffemodel): V0 → V1,
 * data-transformation fields, V1 → V2, input fields → Input layer, old BatchNorm params. Pure: returns
 * a new message. Caffe's non-fatal problems ("continuing anyway") are logged at level "error"; its
 * fatal ones throw UpgradeError. Log lines use Caffe's wording. The input is never mutated; the result
 * shares BlobProto objects (weights) with it rather than copying them.
 */
export const upgradeNetAsNeeded = (input: NetParameter, options: UpgradeOptions = {}): NetParameter => {
  const ctx = upgradeContext(options)
  const { file, log } = ctx
  let net = input as PlainMessage
  if (netNeedsV0ToV1Upgrade(net)) {
    log("info", `Attempting to upgrade input file specified using deprecated V0LayerParameter: ${file}`)
    const r = upgradeV0Net(net, ctx)
    net = r.net
    if (!r.fullyCompatible) {
      log("error", "Warning: had one or more problems upgrading V0NetParameter to NetParameter (see above); continuing anyway.")
    } else {
      log("info", "Successfully upgraded file specified using deprecated V0LayerParameter")
    }
    log("warning", "Note that future Caffe releases will only support input layers and not input fields.")
  }
  if (netNeedsDataUpgrade(net)) {
    log("info", `Attempting to upgrade input file specified using deprecated transformation parameters: ${file}`)
    net = upgradeNetDataTransformation(net)
    log("info", "Successfully upgraded file specified using deprecated data transformation parameters.")
    log("warning", "Note that future Caffe releases will only support transform_param messages for transformation fields.")
  }
  if (netNeedsV1ToV2Upgrade(net)) {
    log("info", `Attempting to upgrade input file specified using deprecated V1LayerParameter: ${file}`)
    const r = upgradeV1Net(net, ctx)
    net = r.net
    if (!r.fullyCompatible) {
      log("error", "Warning: had one or more problems upgrading V1LayerParameter (see above); continuing anyway.")
    } else {
      log("info", "Successfully upgraded file specified using deprecated V1LayerParameter")
    }
  }
  if (netNeedsInputUpgrade(net)) {
    log("info", `Attempting to upgrade input file specified using deprecated input fields: ${file}`)
    net = upgradeNetInput(net, ctx)
    log("info", "Successfully upgraded file specified using deprecated input fields.")
    log("warning", "Note that future Caffe releases will only support input layers and not input fields.")
  }
  if (netNeedsBatchNormUpgrade(net)) {
    log("info", `Attempting to upgrade batch norm layers using deprecated params: ${file}`)
    net = upgradeNetBatchNorm(net)
    log("info", "Successfully upgraded batch norm layers using deprecated params.")
  }
  return net as NetParameter
}

/** upgradeNetAsNeeded as an Effect failing with UpgradeError. */
export const upgradeNetAsNeededEffect = (
  net: NetParameter,
  options: UpgradeOptions = {}
): Effect.Effect<NetParameter, UpgradeError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(upgradeNetAsNeeded(net, options))
    } catch (e) {
      if (e instanceof UpgradeError) return Effect.fail(e)
      throw e
    }
  })
