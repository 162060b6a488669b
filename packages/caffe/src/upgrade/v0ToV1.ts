import type { PlainMessage } from "../schema/descriptor.js"
import { clone, list, sub } from "./plain.js"
import { UpgradeError } from "./UpgradeError.js"
import type { UpgradeContext } from "./UpgradeOptions.js"

/**
 * V0 → V1 (Caffe's UpgradeV0Net): nets written as `layers { layer { name type … } bottom top }`, where
 * the inner V0LayerParameter carries every setting flat. Padding layers are folded into the next
 * conv/pool layer's `pad`, string types become V1 enum values, flat fields move to typed params.
 */

/** True when some `layers` entry wraps a V0 `layer` (NetNeedsV0ToV1Upgrade). */
export const netNeedsV0ToV1Upgrade = (net: PlainMessage): boolean =>
  list(net, "layers").some((l) => l["layer"] !== undefined)

const V0_TYPES: Readonly<Record<string, string>> = {
  accuracy: "ACCURACY",
  bnll: "BNLL",
  concat: "CONCAT",
  conv: "CONVOLUTION",
  data: "DATA",
  dropout: "DROPOUT",
  euclidean_loss: "EUCLIDEAN_LOSS",
  flatten: "FLATTEN",
  hdf5_data: "HDF5_DATA",
  hdf5_output: "HDF5_OUTPUT",
  im2col: "IM2COL",
  images: "IMAGE_DATA",
  infogain_loss: "INFOGAIN_LOSS",
  innerproduct: "INNER_PRODUCT",
  lrn: "LRN",
  multinomial_logistic_loss: "MULTINOMIAL_LOGISTIC_LOSS",
  pool: "POOLING",
  relu: "RELU",
  sigmoid: "SIGMOID",
  softmax: "SOFTMAX",
  softmax_loss: "SOFTMAX_LOSS",
  split: "SPLIT",
  tanh: "TANH",
  window_data: "WINDOW_DATA"
}

const v0Of = (wrapper: PlainMessage): PlainMessage => sub(wrapper, "layer") ?? {}
const typeOf = (wrapper: PlainMessage): string => (v0Of(wrapper)["type"] as string | undefined) ?? ""

/** UpgradeV0PaddingLayers: drop "padding" layers, moving their pad into the consuming conv/pool. */
export const upgradeV0PaddingLayers = (net: PlainMessage, ctx: UpgradeContext): PlainMessage => {
  const layers = list(net, "layers")
  const out: Array<PlainMessage> = []
  const lastTop = new Map<string, number>()
  for (const name of list<string>(net, "input")) lastTop.set(name, -1)
  layers.forEach((wrapper, i) => {
    const type = typeOf(wrapper)
    // Shallow copy: the fields changed below (layer.pad, bottom) are replaced, never mutated.
    if (type !== "padding") out.push({ ...wrapper })
    const bottoms = list<string>(wrapper, "bottom")
    bottoms.forEach((blob, j) => {
      const topIdx = lastTop.get(blob)
      if (topIdx === undefined) {
        throw new UpgradeError({ file: ctx.file, path: `layers[${i}].bottom[${j}]`, reason: `unknown blob input "${blob}" to layer ${j}` })
      }
      if (topIdx === -1) return
      const source = layers[topIdx]!
      if (typeOf(source) !== "padding") return
      const fail = (reason: string): never => {
        throw new UpgradeError({ file: ctx.file, path: `layers[${i}]`, reason })
      }
      if (type !== "conv" && type !== "pool") fail(`padding layer input to non-convolutional / non-pooling layer type ${type}`)
      if (bottoms.length !== 1) fail("Conv Layer takes a single blob as input.")
      if (list(source, "bottom").length !== 1) fail("Padding Layer takes a single blob as input.")
      if (list(source, "top").length !== 1) fail("Padding Layer produces a single blob as output.")
      const target = out[out.length - 1]!
      target["layer"] = { ...v0Of(target), pad: (v0Of(source)["pad"] as number | undefined) ?? 0 }
      const newBottoms = [...list<string>(target, "bottom")]
      newBottoms[j] = list<string>(source, "bottom")[0]!
      target["bottom"] = newBottoms
    })
    for (const blob of list<string>(wrapper, "top")) lastTop.set(blob, i)
  })
  const result: PlainMessage = { ...net }
  delete result["layers"]
  if (out.length > 0) result["layers"] = out
  return result
}

/** UpgradeV0LayerParameter: one V0-wrapping V1 layer → a plain V1 layer. */
export const upgradeV0LayerParameter = (
  wrapper: PlainMessage,
  index: number,
  ctx: UpgradeContext
): { readonly layer: PlainMessage; readonly fullyCompatible: boolean } => {
  let fullyCompatible = true
  const layer: PlainMessage = {}
  if (list(wrapper, "bottom").length > 0) layer["bottom"] = [...list<string>(wrapper, "bottom")]
  if (list(wrapper, "top").length > 0) layer["top"] = [...list<string>(wrapper, "top")]
  const v0 = sub(wrapper, "layer")
  if (v0 === undefined) return { layer, fullyCompatible }
  const type = (v0["type"] as string | undefined) ?? ""
  if (v0["name"] !== undefined) layer["name"] = v0["name"]
  if (v0["type"] !== undefined) {
    const v1Type = V0_TYPES[type]
    if (v1Type === undefined) {
      throw new UpgradeError({ file: ctx.file, path: `layers[${index}].layer.type`, reason: `Unknown layer name: ${type}` })
    }
    layer["type"] = v1Type
  }
  // Blobs are shared with the input (not copied): they can be large.
  for (const f of ["blobs", "blobs_lr", "weight_decay"]) {
    if (list(v0, f).length > 0) layer[f] = [...list(v0, f)]
  }
  /** Sets `layer[param][field]`, creating the typed param. */
  const put = (param: string, field: string, value: unknown) => {
    layer[param] = { ...((layer[param] as PlainMessage | undefined) ?? {}), [field]: clone(value) }
  }
  const push = (param: string, field: string, value: unknown) => {
    const p = (layer[param] as PlainMessage | undefined) ?? {}
    layer[param] = { ...p, [field]: [...((p[field] as Array<unknown> | undefined) ?? []), value] }
  }
  const unknown = (field: string) => {
    ctx.log("error", `Unknown parameter ${field} for layer type ${type}`)
    fullyCompatible = false
  }
  /** Moves V0 field `v0Field` by layer type: `targets[type] = [param, field, repeated?]`. */
  const move = (v0Field: string, targets: Readonly<Record<string, readonly [string, string, boolean?]>>) => {
    const value = v0[v0Field]
    if (value === undefined) return
    const target = targets[type]
    if (target === undefined) return unknown(v0Field)
    const [param, field, repeated] = target
    if (repeated === true) push(param, field, value)
    else put(param, field, value)
  }
  const convOrIp = (field: string) => ({
    conv: ["convolution_param", field],
    innerproduct: ["inner_product_param", field]
  }) as const
  move("num_output", convOrIp("num_output"))
  move("biasterm", convOrIp("bias_term"))
  move("weight_filler", convOrIp("weight_filler"))
  move("bias_filler", convOrIp("bias_filler"))
  move("pad", { conv: ["convolution_param", "pad", true], pool: ["pooling_param", "pad"] })
  move("kernelsize", { conv: ["convolution_param", "kernel_size", true], pool: ["pooling_param", "kernel_size"] })
  move("group", { conv: ["convolution_param", "group"] })
  move("stride", { conv: ["convolution_param", "stride", true], pool: ["pooling_param", "stride"] })
  // V0 PoolMethod and PoolingParameter.PoolMethod share names (MAX, AVE, STOCHASTIC).
  move("pool", { pool: ["pooling_param", "pool"] })
  move("dropout_ratio", { dropout: ["dropout_param", "dropout_ratio"] })
  move("local_size", { lrn: ["lrn_param", "local_size"] })
  move("alpha", { lrn: ["lrn_param", "alpha"] })
  move("beta", { lrn: ["lrn_param", "beta"] })
  move("k", { lrn: ["lrn_param", "k"] })
  move("source", {
    data: ["data_param", "source"],
    hdf5_data: ["hdf5_data_param", "source"],
    images: ["image_data_param", "source"],
    window_data: ["window_data_param", "source"],
    infogain_loss: ["infogain_loss_param", "source"]
  })
  if (v0["scale"] !== undefined) put("transform_param", "scale", v0["scale"])
  if (v0["meanfile"] !== undefined) put("transform_param", "mean_file", v0["meanfile"])
  move("batchsize", {
    data: ["data_param", "batch_size"],
    hdf5_data: ["hdf5_data_param", "batch_size"],
    images: ["image_data_param", "batch_size"],
    window_data: ["window_data_param", "batch_size"]
  })
  if (v0["cropsize"] !== undefined) put("transform_param", "crop_size", v0["cropsize"])
  if (v0["mirror"] !== undefined) put("transform_param", "mirror", v0["mirror"])
  move("rand_skip", { data: ["data_param", "rand_skip"], images: ["image_data_param", "rand_skip"] })
  move("shuffle_images", { images: ["image_data_param", "shuffle"] })
  move("new_height", { images: ["image_data_param", "new_height"] })
  move("new_width", { images: ["image_data_param", "new_width"] })
  move("concat_dim", { concat: ["concat_param", "concat_dim"] })
  move("det_fg_threshold", { window_data: ["window_data_param", "fg_threshold"] })
  move("det_bg_threshold", { window_data: ["window_data_param", "bg_threshold"] })
  move("det_fg_fraction", { window_data: ["window_data_param", "fg_fraction"] })
  move("det_context_pad", { window_data: ["window_data_param", "context_pad"] })
  move("det_crop_mode", { window_data: ["window_data_param", "crop_mode"] })
  if (v0["hdf5_output_param"] !== undefined) {
    if (type === "hdf5_output") layer["hdf5_output_param"] = clone(v0["hdf5_output_param"])
    else unknown("hdf5_output_param")
  }
  return { layer, fullyCompatible }
}

/** UpgradeV0Net: keeps only name, layers, input, input_dim and force_backward, as Caffe does. */
export const upgradeV0Net = (
  net: PlainMessage,
  ctx: UpgradeContext
): { readonly net: PlainMessage; readonly fullyCompatible: boolean } => {
  const padded = upgradeV0PaddingLayers(net, ctx)
  let fullyCompatible = true
  const out: PlainMessage = {}
  if (padded["name"] !== undefined) out["name"] = padded["name"]
  const layers = list(padded, "layers").map((wrapper, i) => {
    const r = upgradeV0LayerParameter(wrapper, i, ctx)
    fullyCompatible &&= r.fullyCompatible
    return r.layer
  })
  if (layers.length > 0) out["layers"] = layers
  for (const f of ["input", "input_dim"]) if (list(padded, f).length > 0) out[f] = [...list(padded, f)]
  if (padded["force_backward"] !== undefined) out["force_backward"] = padded["force_backward"]
  return { net: out, fullyCompatible }
}
