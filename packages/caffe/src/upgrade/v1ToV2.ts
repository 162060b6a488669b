import type { PlainMessage } from "../schema/descriptor.js"
import { clone, list } from "./plain.js"
import { UpgradeError } from "./UpgradeError.js"
import type { UpgradeContext } from "./UpgradeOptions.js"

/**
 * V1 → V2 (Caffe's UpgradeV1Net): `layers { type: CONVOLUTION … }` → `layer { type: "Convolution" … }`,
 * per-blob lists (blobs_lr, weight_decay, param names, blob_share_mode) → `param` specs.
 */

export const V1_TYPE_NAMES: Readonly<Record<string, string>> = {
  NONE: "",
  ABSVAL: "AbsVal",
  ACCURACY: "Accuracy",
  ARGMAX: "ArgMax",
  BNLL: "BNLL",
  CONCAT: "Concat",
  CONTRASTIVE_LOSS: "ContrastiveLoss",
  CONVOLUTION: "Convolution",
  DECONVOLUTION: "Deconvolution",
  DATA: "Data",
  DROPOUT: "Dropout",
  DUMMY_DATA: "DummyData",
  EUCLIDEAN_LOSS: "EuclideanLoss",
  ELTWISE: "Eltwise",
  EXP: "Exp",
  FLATTEN: "Flatten",
  HDF5_DATA: "HDF5Data",
  HDF5_OUTPUT: "HDF5Output",
  HINGE_LOSS: "HingeLoss",
  IM2COL: "Im2col",
  IMAGE_DATA: "ImageData",
  INFOGAIN_LOSS: "InfogainLoss",
  INNER_PRODUCT: "InnerProduct",
  LRN: "LRN",
  MEMORY_DATA: "MemoryData",
  MULTINOMIAL_LOGISTIC_LOSS: "MultinomialLogisticLoss",
  MVN: "MVN",
  POOLING: "Pooling",
  POWER: "Power",
  RELU: "ReLU",
  SIGMOID: "Sigmoid",
  SIGMOID_CROSS_ENTROPY_LOSS: "SigmoidCrossEntropyLoss",
  SILENCE: "Silence",
  SOFTMAX: "Softmax",
  SOFTMAX_LOSS: "SoftmaxWithLoss",
  SPLIT: "Split",
  SLICE: "Slice",
  TANH: "TanH",
  WINDOW_DATA: "WindowData",
  THRESHOLD: "Threshold"
}

/** V1 typed params; each moves to the LayerParameter field of the same name and message type. */
const TYPED_PARAMS = [
  "accuracy_param", "argmax_param", "concat_param", "contrastive_loss_param", "convolution_param",
  "data_param", "dropout_param", "dummy_data_param", "eltwise_param", "exp_param", "hdf5_data_param",
  "hdf5_output_param", "hinge_loss_param", "image_data_param", "infogain_loss_param",
  "inner_product_param", "lrn_param", "memory_data_param", "mvn_param", "pooling_param", "power_param",
  "relu_param", "sigmoid_param", "softmax_param", "slice_param", "tanh_param", "threshold_param",
  "window_data_param", "transform_param", "loss_param"
] as const

export const netNeedsV1ToV2Upgrade = (net: PlainMessage): boolean => list(net, "layers").length > 0

/** UpgradeV1LayerParameter: one V1 layer → a V2 LayerParameter. */
export const upgradeV1LayerParameter = (
  v1: PlainMessage,
  index: number,
  ctx: UpgradeContext
): { readonly layer: PlainMessage; readonly fullyCompatible: boolean } => {
  let fullyCompatible = true
  const layer: PlainMessage = {}
  for (const f of ["bottom", "top"]) if (list(v1, f).length > 0) layer[f] = [...list(v1, f)]
  if (v1["name"] !== undefined) layer["name"] = v1["name"]
  for (const f of ["include", "exclude"]) if (list(v1, f).length > 0) layer[f] = clone(v1[f])
  if (v1["type"] !== undefined) {
    const name = V1_TYPE_NAMES[v1["type"] as string]
    if (name === undefined) {
      throw new UpgradeError({ file: ctx.file, path: `layers[${index}].type`, reason: `Unknown V1LayerParameter layer type: ${String(v1["type"])}` })
    }
    layer["type"] = name
  }
  // Blobs (possibly hundreds of MB from a caffemodel) are shared with the input, not copied.
  if (list(v1, "blobs").length > 0) layer["blobs"] = [...list(v1, "blobs")]
  const params: Array<PlainMessage> = []
  const spec = (i: number): PlainMessage => {
    while (params.length <= i) params.push({})
    return params[i]!
  }
  list<string>(v1, "param").forEach((name, i) => (spec(i)["name"] = name))
  // V1 DimCheckMode and ParamSpec.DimCheckMode share names (STRICT, PERMISSIVE).
  list<string>(v1, "blob_share_mode").forEach((mode, i) => (spec(i)["share_mode"] = mode))
  list<number>(v1, "blobs_lr").forEach((lr, i) => (spec(i)["lr_mult"] = lr))
  list<number>(v1, "weight_decay").forEach((decay, i) => (spec(i)["decay_mult"] = decay))
  if (params.length > 0) layer["param"] = params
  if (list(v1, "loss_weight").length > 0) layer["loss_weight"] = [...list<number>(v1, "loss_weight")]
  for (const f of TYPED_PARAMS) if (v1[f] !== undefined) layer[f] = clone(v1[f])
  if (v1["layer"] !== undefined) {
    ctx.log("error", "Input NetParameter has V0 layer -- ignoring.")
    fullyCompatible = false
  }
  return { layer, fullyCompatible }
}

/** UpgradeV1Net: all `layers` → `layer`; having both is an error, as in Caffe. */
export const upgradeV1Net = (
  net: PlainMessage,
  ctx: UpgradeContext
): { readonly net: PlainMessage; readonly fullyCompatible: boolean } => {
  if (list(net, "layer").length > 0) {
    throw new UpgradeError({
      file: ctx.file,
      path: "layers",
      reason:
        "Refusing to upgrade inconsistent NetParameter input; the definition includes both 'layer' and 'layers' fields. " +
        "The current format defines 'layer' fields with string type like layer { type: 'Layer' ... } and not layers { type: LAYER ... }. " +
        "Manually switch the definition to 'layer' format to continue."
    })
  }
  let fullyCompatible = true
  const layers = list(net, "layers").map((v1, i) => {
    const r = upgradeV1LayerParameter(v1, i, ctx)
    if (!r.fullyCompatible) {
      ctx.log("error", `Upgrade of input layer ${i} failed.`)
      fullyCompatible = false
    }
    return r.layer
  })
  const out: PlainMessage = { ...net }
  delete out["layers"]
  delete out["layer"]
  if (layers.length > 0) out["layer"] = layers
  return { net: out, fullyCompatible }
}
