import type { LayerParameter, NetParameter } from "../schema/types.js"
import { UnknownBottomError } from "./errors.js"

/** `<blob>_<layer>_<topIdx>_split`: the name Caffe gives the Split layer of a shared top. */
export const splitLayerName = (layerName: string, blobName: string, topIndex: number): string =>
  `${blobName}_${layerName}_${topIndex}_split`

/** `<blob>_<layer>_<topIdx>_split_<k>`: the k-th top of that Split layer. */
export const splitBlobName = (layerName: string, blobName: string, topIndex: number, k: number): string =>
  `${blobName}_${layerName}_${topIndex}_split_${k}`

const key = (layer: number, index: number): string => `${layer}:${index}`

/**
 * Caffe's `InsertSplits` (util/insert_splits.cpp) on an already filtered net. Every top (identified by
 * producing layer and top index, so an in-place layer's top is a new producer) that is consumed more
 * than once gets a Split layer right after its producer. An EXPLICIT non-zero `loss_weight` on a top
 * counts as one more consumer: such a top gets a split even with a single consumer, the Split layer's
 * first top carries the weight (`loss_weight: [w, 0, …]`), and the producer's `loss_weight` list is
 * cleared (all of it, as Caffe does). Default loss weights of loss layers are applied later (at layer
 * setup) and do not cause splits. Bottoms that no earlier layer produces → UnknownBottomError.
 */
export const insertSplits = (net: NetParameter): NetParameter => insertSplitsWithOrigin(net).net

/**
 * insertSplits, also telling for each output layer the index of the input layer it comes from (null
 * for an inserted Split layer).
 */
export const insertSplitsWithOrigin = (net: NetParameter): { net: NetParameter; origin: Array<number | null> } => {
  const layers = net.layer ?? []
  const lastTop = new Map<string, readonly [number, number]>()
  const sourceOfBottom = new Map<string, readonly [number, number]>()
  const consumers = new Map<string, number>()
  const lossWeight = new Map<string, number>()

  layers.forEach((layer, i) => {
    const bottoms = layer.bottom ?? []
    bottoms.forEach((blob, j) => {
      const src = lastTop.get(blob)
      if (src === undefined) throw new UnknownBottomError({ layer: layer.name ?? "", blob, bottomIndex: j })
      sourceOfBottom.set(key(i, j), src)
      const k = key(src[0], src[1])
      consumers.set(k, (consumers.get(k) ?? 0) + 1)
    })
    const tops = layer.top ?? []
    tops.forEach((blob, j) => lastTop.set(blob, [i, j]))
    // A use of a top as a loss is handled like one more consumer.
    const weights = layer.loss_weight ?? []
    const lastLoss = Math.min(weights.length, tops.length)
    for (let j = 0; j < lastLoss; j++) {
      const src = lastTop.get(tops[j]!)!
      const k = key(src[0], src[1])
      lossWeight.set(k, weights[j]!)
      if (weights[j] !== 0) consumers.set(k, (consumers.get(k) ?? 0) + 1)
    }
  })

  const out: LayerParameter[] = []
  const origin: Array<number | null> = []
  const splitIndex = new Map<string, number>()
  layers.forEach((original, i) => {
    const layer: LayerParameter = { ...original }
    if (original.bottom !== undefined) {
      layer.bottom = original.bottom.map((blob, j) => {
        const src = sourceOfBottom.get(key(i, j))!
        const k = key(src[0], src[1])
        if ((consumers.get(k) ?? 0) <= 1) return blob
        const n = splitIndex.get(k) ?? 0
        splitIndex.set(k, n + 1)
        return splitBlobName(layers[src[0]]!.name ?? "", blob, src[1], n)
      })
    }
    out.push(layer)
    origin.push(i)
    ;(original.top ?? []).forEach((blob, j) => {
      const k = key(i, j)
      const count = consumers.get(k) ?? 0
      if (count <= 1) return
      const layerName = original.name ?? ""
      const weight = lossWeight.get(k) ?? 0
      const split: LayerParameter = {
        name: splitLayerName(layerName, blob, j),
        type: "Split",
        bottom: [blob],
        top: Array.from({ length: count }, (_, n) => splitBlobName(layerName, blob, j, n))
      }
      if (weight !== 0) {
        split.loss_weight = Array.from({ length: count }, (_, n) => (n === 0 ? weight : 0))
        delete layer.loss_weight
        // The loss itself is the split's first top: later consumers take tops 1, 2, …
        splitIndex.set(k, (splitIndex.get(k) ?? 0) + 1)
      }
      out.push(split)
      origin.push(null)
    })
  })
  return { net: { ...net, layer: out }, origin }
}
