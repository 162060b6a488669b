/** Comparing a net's weights with a Caffe snapshot (the seed-1701 trajectory tests). */
import { blobData, type NetParameter } from "@deepspark/caffe"
import type { Net } from "../../src/net/net.js"

/** The largest per-blob max|Δ| / max|w_caffe| over the layers of `caffe`. */
export const compareWeights = (net: Net, caffe: NetParameter): number => {
  let worst = 0
  for (const layer of caffe.layer ?? []) {
    const mine = net.layerByName(layer.name ?? "")
    if (!mine) continue
    ;(layer.blobs ?? []).forEach((proto, j) => {
      const theirs = blobData(proto)
      const ours = mine.blobs[j]!.data
      let maxAbs = 0
      let maxDiff = 0
      for (let k = 0; k < theirs.length; k++) {
        maxAbs = Math.max(maxAbs, Math.abs(theirs[k]!))
        maxDiff = Math.max(maxDiff, Math.abs(theirs[k]! - ours[k]!))
      }
      const rel = maxDiff / Math.max(maxAbs, 1e-12)
      console.log(`  ${layer.name}[${j}] max|Δ| ${maxDiff.toExponential(3)} / max|w| ${maxAbs.toExponential(3)} = ${rel.toExponential(3)}`)
      worst = Math.max(worst, rel)
    })
  }
  return worst
}
