import type { PlainMessage } from "../schema/descriptor.js"
import { clone, list } from "./plain.js"
import { UpgradeError } from "./UpgradeError.js"
import type { UpgradeContext } from "./UpgradeOptions.js"

/**
 * Caffe's UpgradeNetInput: the deprecated `input` + `input_shape` / `input_dim` fields become one layer
 * named "input" of type "Input" at position 0. An `input` without shapes or dims (old caffemodels) is
 * simply dropped.
 */

export const netNeedsInputUpgrade = (net: PlainMessage): boolean => list(net, "input").length > 0

export const upgradeNetInput = (net: PlainMessage, ctx: UpgradeContext): PlainMessage => {
  const inputs = list<string>(net, "input")
  const shapes = list(net, "input_shape")
  const dims = list<number>(net, "input_dim")
  const out: PlainMessage = { ...net }
  delete out["input"]
  delete out["input_shape"]
  delete out["input_dim"]
  if (shapes.length === 0 && dims.length === 0) return out
  const shape = inputs.map((name, i): PlainMessage => {
    if (shapes.length > 0) {
      // Caffe indexes input_shape(i) unchecked; a missing one is an error here.
      if (i >= shapes.length) {
        throw new UpgradeError({ file: ctx.file, path: "input_shape", reason: `input "${name}" (#${i}) has no input_shape (${shapes.length} given)` })
      }
      return clone(shapes[i]!)
    }
    if (dims.length < 4 * (i + 1)) {
      throw new UpgradeError({ file: ctx.file, path: "input_dim", reason: `input "${name}" (#${i}) needs input_dim ${4 * i}..${4 * i + 3} (${dims.length} given)` })
    }
    return { dim: dims.slice(4 * i, 4 * i + 4) }
  })
  const inputLayer: PlainMessage = {
    name: "input",
    type: "Input",
    ...(inputs.length > 0 ? { top: [...inputs] } : {}),
    input_param: shape.length > 0 ? { shape } : {}
  }
  out["layer"] = [inputLayer, ...list(net, "layer")]
  return out
}
