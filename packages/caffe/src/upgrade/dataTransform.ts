import type { PlainMessage } from "../schema/descriptor.js"
import { list, sub } from "./plain.js"

/**
 * V1 data layers used to carry `scale`, `mean_file`, `crop_size` and `mirror` in their own params;
 * Caffe (UpgradeNetDataTransformation) moves them into `transform_param`.
 */

const DATA_PARAMS: Readonly<Record<string, string>> = {
  DATA: "data_param",
  IMAGE_DATA: "image_data_param",
  WINDOW_DATA: "window_data_param"
}
const MOVED = ["scale", "mean_file", "crop_size", "mirror"] as const

export const netNeedsDataUpgrade = (net: PlainMessage): boolean =>
  list(net, "layers").some((layer) => {
    const param = DATA_PARAMS[layer["type"] as string]
    const p = param === undefined ? undefined : sub(layer, param)
    return p !== undefined && MOVED.some((f) => p[f] !== undefined)
  })

export const upgradeNetDataTransformation = (net: PlainMessage): PlainMessage => {
  const layers = list(net, "layers").map((layer) => {
    const param = DATA_PARAMS[layer["type"] as string]
    if (param === undefined) return layer
    // Caffe's mutable_*() calls create both messages (possibly empty) on every layer of these types.
    const p: PlainMessage = { ...(sub(layer, param) ?? {}) }
    const transform: PlainMessage = { ...(sub(layer, "transform_param") ?? {}) }
    for (const f of MOVED) {
      if (p[f] === undefined) continue
      transform[f] = p[f]
      delete p[f]
    }
    return { ...layer, [param]: p, transform_param: transform }
  })
  return { ...net, layers }
}
