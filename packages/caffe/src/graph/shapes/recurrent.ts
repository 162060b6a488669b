import { getOr } from "../../schema/defaults.js"
import type { LayerParameter } from "../../schema/types.js"
import { count, ShapeProblem, shapeString, type Shape } from "./blob-shape.js"
import { noParams, type LayerShapeRule } from "./layer-shape-rule.js"

/**
 * LSTM / RNN (RecurrentLayer): bottoms x (T, N, …), cont (T, N), optional static input (N, …), then
 * with expose_hidden the initial hidden states; tops (T, N, num_output), then with expose_hidden the
 * final hidden states (1, N, num_output). Parameters are the owner blobs of Caffe's unrolled net, in
 * its layer order — LSTM: W_xc (4H,D), b_c (4H), [W_xc_x_static (4H,Ds)], W_hc (4H,H);
 * RNN: W_xh (H,D), b_h (H), [W_xh_x_static (H,Ds)], W_hh (H,H), W_ho (H,H), b_o (H).
 */
const recurrentRule = (kind: "LSTM" | "RNN"): LayerShapeRule => {
  const recurrentBlobs = kind === "LSTM" ? 2 : 1
  const exposed = (layer: LayerParameter): number =>
    getOr(layer.recurrent_param, "RecurrentParameter", "expose_hidden") ? recurrentBlobs : 0
  const hasStatic = (layer: LayerParameter, bottoms: number): boolean => bottoms > 2 + exposed(layer)
  return {
    bottoms: [2, 3 + recurrentBlobs],
    tops: [1, 1 + recurrentBlobs],
    paramCount: (layer, bottoms) => (kind === "LSTM" ? 3 : 5) + (hasStatic(layer, bottoms) ? 1 : 0),
    infer: ({ layer, bottoms, bottomNames, topNames }) => {
      const h = getOr(layer.recurrent_param, "RecurrentParameter", "num_output")
      if (h <= 0) throw new ShapeProblem("", "recurrent_param.num_output must be positive")
      const extra = exposed(layer)
      if (bottoms.length < 2 + extra || bottoms.length > 3 + extra) {
        throw new ShapeProblem("", `${kind} takes x, cont, an optional static input${extra > 0 ? ` and ${extra} initial hidden state(s)` : ""}; got ${bottoms.length} bottoms`)
      }
      if (topNames.length !== 1 + extra) throw new ShapeProblem("", `${kind} needs ${1 + extra} top(s), got ${topNames.length}`)
      const x = bottoms[0]!
      if (x.length < 2) throw new ShapeProblem(bottomNames[0]!, `bottom[0] must have at least 2 axes (#timesteps, #streams, ...), got ${shapeString(x)}`)
      const [t, n] = [x[0]!, x[1]!]
      const cont = bottoms[1]!
      if (cont.length !== 2 || cont[0] !== t || cont[1] !== n) {
        throw new ShapeProblem(bottomNames[1]!, `cont must be (${t},${n}) (#timesteps, #streams), got ${shapeString(cont)}`)
      }
      const gates = kind === "LSTM" ? 4 * h : h
      const params: Shape[] = [[gates, count(x, 2)], [gates]]
      if (hasStatic(layer, bottoms.length)) {
        const s = bottoms[2]!
        if (s.length < 1 || s[0] !== n) throw new ShapeProblem(bottomNames[2]!, `static input must be (${n}, ...), got ${shapeString(s)}`)
        params.push([gates, count(s, 1)])
      }
      params.push([gates, h])
      if (kind === "RNN") params.push([h, h], [h])
      const tops: Shape[] = [[t, n, h]]
      for (let i = 0; i < extra; i++) tops.push([1, n, h])
      return { tops, params }
    }
  }
}

export const lstmRule = recurrentRule("LSTM")
export const rnnRule = recurrentRule("RNN")

/** LSTMUnit: c_prev (1,N,H), gates (1,N,4H), cont (1,N) → c, h both (1,N,H). */
export const lstmUnitRule: LayerShapeRule = {
  bottoms: [3, 3],
  tops: [2, 2],
  paramCount: noParams,
  infer: ({ bottoms, bottomNames }) => {
    const c = bottoms[0]!
    const x = bottoms[1]!
    if (c.length !== 3 || x.length !== 3 || x[2] !== 4 * c[2]! || x[1] !== c[1]) {
      throw new ShapeProblem(bottomNames[1]!, `gate input must be (1, N, 4·H) for the cell state ${shapeString(c)}, got ${shapeString(x)}`)
    }
    return { tops: [c, c], params: [] }
  }
}
