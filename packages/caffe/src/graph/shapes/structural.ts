import { getOr } from "../../schema/defaults.js"
import type { BlobShape, LayerParameter } from "../../schema/types.js"
import { canonicalAxis, count, ShapeProblem, shapeString, type Shape } from "./blob-shape.js"
import { ANY, noParams, type LayerShapeRule } from "./layer-shape-rule.js"

/** A BlobShape message as a Shape (negative dims are rejected where Caffe rejects them). */
export const blobShapeDims = (s: BlobShape | undefined): Shape => s?.dim ?? []

const checkInPlace = (layer: LayerParameter, type: string): void => {
  if (layer.top?.[0] !== undefined && layer.top[0] === layer.bottom?.[0]) {
    throw new ShapeProblem(layer.top[0], `${type} layer does not allow in-place computation`)
  }
}

/** Concat along `axis` (or the legacy non-negative `concat_dim`): other axes must agree. */
export const concatRule: LayerShapeRule = {
  bottoms: [1, ANY],
  tops: [1, 1],
  paramCount: noParams,
  infer: ({ layer, bottoms, bottomNames }) => {
    const p = layer.concat_param ?? {}
    if (p.axis !== undefined && p.concat_dim !== undefined) {
      throw new ShapeProblem("", "either concat_param.axis or concat_dim should be specified; not both")
    }
    const first = bottoms[0]!
    let axis: number
    if (p.concat_dim !== undefined) {
      axis = p.concat_dim
      if (axis < 0 || axis >= first.length) throw new ShapeProblem(bottomNames[0]!, `concat_dim ${axis} out of range for ${shapeString(first)}`)
    } else {
      axis = canonicalAxis(first, getOr(p, "ConcatParameter", "axis"), bottomNames[0]!, "concat_param.axis")
    }
    const top = [...first]
    for (let i = 1; i < bottoms.length; i++) {
      const b = bottoms[i]!
      if (b.length !== first.length) {
        throw new ShapeProblem(bottomNames[i]!, `all inputs must have the same number of axes: ${shapeString(b)} vs ${shapeString(first)}`)
      }
      for (let j = 0; j < first.length; j++) {
        if (j !== axis && b[j] !== first[j]) {
          throw new ShapeProblem(bottomNames[i]!, `shape ${shapeString(b)} differs from ${shapeString(first)} (bottom[0]) outside the concat axis ${axis}`)
        }
      }
      top[axis] = top[axis]! + b[axis]!
    }
    return { tops: [top], params: [] }
  }
}

/** Slice along `axis` (or legacy `slice_dim`) at `slice_point`s, or into equal parts. */
export const sliceRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, ANY],
  paramCount: noParams,
  infer: ({ layer, bottoms, bottomNames, topNames }) => {
    const p = layer.slice_param ?? {}
    if (p.axis !== undefined && p.slice_dim !== undefined) {
      throw new ShapeProblem("", "either slice_param.axis or slice_dim should be specified; not both")
    }
    const bottom = bottoms[0]!
    let axis: number
    if (p.slice_dim !== undefined) {
      axis = p.slice_dim
      if (axis < 0 || axis >= bottom.length) throw new ShapeProblem(bottomNames[0]!, `slice_dim ${axis} out of range for ${shapeString(bottom)}`)
    } else {
      axis = canonicalAxis(bottom, getOr(p, "SliceParameter", "axis"), bottomNames[0]!, "slice_param.axis")
    }
    const dim = bottom[axis]!
    const points = p.slice_point ?? []
    const n = topNames.length
    let sizes: number[]
    if (points.length > 0) {
      if (points.length !== n - 1) {
        throw new ShapeProblem("", `${points.length} slice_point(s) need ${points.length + 1} tops, got ${n}`)
      }
      if (n > dim) throw new ShapeProblem(bottomNames[0]!, `cannot slice axis ${axis} of size ${dim} into ${n} parts`)
      sizes = []
      let prev = 0
      for (const point of points) {
        if (point <= prev) throw new ShapeProblem("", `slice_point ${point} must be greater than the previous one (${prev})`)
        sizes.push(point - prev)
        prev = point
      }
      sizes.push(dim - prev)
      if (dim - prev <= 0) {
        throw new ShapeProblem(bottomNames[0]!, `slice_point ${prev} is beyond axis ${axis} of size ${dim}`)
      }
    } else {
      if (dim % n !== 0) {
        throw new ShapeProblem(bottomNames[0]!, `number of top blobs (${n}) should evenly divide input slice axis (${dim})`)
      }
      sizes = topNames.map(() => dim / n)
    }
    return { tops: sizes.map((s) => bottom.map((d, i) => (i === axis ? s : d))), params: [] }
  }
}

/** Flatten axes axis..end_axis into one. */
export const flattenRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, 1],
  paramCount: noParams,
  infer: ({ layer, bottoms, bottomNames }) => {
    checkInPlace(layer, "Flatten")
    const p = layer.flatten_param ?? {}
    const bottom = bottoms[0]!
    const start = canonicalAxis(bottom, getOr(p, "FlattenParameter", "axis"), bottomNames[0]!, "flatten_param.axis")
    const end = canonicalAxis(bottom, getOr(p, "FlattenParameter", "end_axis"), bottomNames[0]!, "flatten_param.end_axis")
    const top = [...bottom.slice(0, start), count(bottom, start, end + 1), ...bottom.slice(end + 1)]
    return { tops: [top], params: [] }
  }
}

/** ReshapeLayer::Reshape: replaces axes [axis, axis+num_axes) by `shape`; 0 copies a dim, −1 infers one. */
export const reshapeShape = (bottom: Shape, shape: Shape, axisField: number, numAxes: number, blob: string): Shape => {
  const copyAxes: number[] = []
  let inferred = -1
  let constant = 1
  shape.forEach((d, i) => {
    if (d === 0) copyAxes.push(i)
    else if (d === -1) {
      if (inferred !== -1) throw new ShapeProblem("", "new shape contains multiple -1 dims; at most a single (1) value of -1 may be specified")
      inferred = i
    } else if (d < -1) throw new ShapeProblem("", `reshape_param.shape dim ${i} is ${d}; only 0, -1 or positive sizes are allowed`)
    else constant *= d
  })
  const start = axisField >= 0 ? axisField : bottom.length + axisField + 1
  if (start < 0 || start > bottom.length) {
    throw new ShapeProblem(blob, `reshape_param.axis ${axisField} out of range for the ${bottom.length}-D input ${shapeString(bottom)}`)
  }
  if (numAxes < -1) throw new ShapeProblem("", "reshape_param.num_axes must be >= 0, or -1 for all")
  const end = numAxes === -1 ? bottom.length : start + numAxes
  if (end > bottom.length) throw new ShapeProblem(blob, `end_axis = axis + num_axes (${end}) is out of range for ${shapeString(bottom)}`)
  const top = [...bottom.slice(0, start), ...shape, ...bottom.slice(end)]
  for (const i of copyAxes) {
    if (start + i >= bottom.length) {
      throw new ShapeProblem(blob, "new shape contains a 0, but there was no corresponding bottom axis to copy")
    }
    top[start + i] = bottom[start + i]!
  }
  if (inferred >= 0) {
    let explicit = constant * count(bottom, 0, start) * count(bottom, end)
    for (const i of copyAxes) explicit *= top[start + i]!
    const total = count(bottom)
    if (explicit === 0 || total % explicit !== 0) {
      throw new ShapeProblem(blob, `bottom count (${total}) must be divisible by the product of the specified dimensions (${explicit})`)
    }
    top[start + inferred] = total / explicit
  }
  if (count(top) !== count(bottom)) {
    throw new ShapeProblem(blob, `output count ${count(top)} ${shapeString(top)} must match input count ${count(bottom)} ${shapeString(bottom)}`)
  }
  return top
}

export const reshapeRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, 1],
  paramCount: noParams,
  infer: ({ layer, bottoms, bottomNames }) => {
    checkInPlace(layer, "Reshape")
    const p = layer.reshape_param ?? {}
    const top = reshapeShape(
      bottoms[0]!,
      blobShapeDims(p.shape),
      getOr(p, "ReshapeParameter", "axis"),
      getOr(p, "ReshapeParameter", "num_axes"),
      bottomNames[0]!
    )
    return { tops: [top], params: [] }
  }
}

/** Crop bottom[0] to bottom[1]'s shape from `axis` (default 2) on, at `offset`s. */
export const cropRule: LayerShapeRule = {
  bottoms: [2, 2],
  tops: [1, 1],
  paramCount: noParams,
  infer: ({ layer, bottoms, bottomNames }) => {
    const p = layer.crop_param ?? {}
    const [data, like] = [bottoms[0]!, bottoms[1]!]
    if (data.length !== like.length) {
      throw new ShapeProblem(bottomNames[1]!, `inputs must have the same number of axes: ${shapeString(data)} vs ${shapeString(like)}`)
    }
    const start = canonicalAxis(data, getOr(p, "CropParameter", "axis"), bottomNames[0]!, "crop_param.axis")
    const offsets = p.offset ?? []
    if (offsets.length > 1 && start + offsets.length !== data.length) {
      throw new ShapeProblem("", `number of offset values (${offsets.length}) must equal the number of dimensions following axis ${start}`)
    }
    const top = data.map((d, i) => {
      if (i < start) return d
      const offset = offsets.length === 0 ? 0 : offsets[offsets.length === 1 ? 0 : i - start]!
      if (d - offset < like[i]!) {
        throw new ShapeProblem(bottomNames[0]!, `the crop for dimension ${i} is out-of-bounds with size ${like[i]} and offset ${offset} (input size ${d})`)
      }
      return like[i]!
    })
    return { tops: [top], params: [] }
  }
}

/** Tile: repeat `tiles` times along `axis`. */
export const tileRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, 1],
  paramCount: noParams,
  infer: ({ layer, bottoms, bottomNames }) => {
    const p = layer.tile_param ?? {}
    if (p.tiles === undefined) throw new ShapeProblem("", "number of tiles (tile_param.tiles) must be specified")
    if (p.tiles <= 0) throw new ShapeProblem("", "number of tiles must be positive")
    const axis = canonicalAxis(bottoms[0]!, getOr(p, "TileParameter", "axis"), bottomNames[0]!, "tile_param.axis")
    return { tops: [bottoms[0]!.map((d, i) => (i === axis ? d * p.tiles! : d))], params: [] }
  }
}

/** Reduction: keeps the axes before `axis` (tail reduction). */
export const reductionRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, 1],
  paramCount: noParams,
  infer: ({ layer, bottoms, bottomNames }) => {
    const axis = canonicalAxis(bottoms[0]!, getOr(layer.reduction_param, "ReductionParameter", "axis"), bottomNames[0]!, "reduction_param.axis")
    return { tops: [bottoms[0]!.slice(0, axis)], params: [] }
  }
}

/** ArgMax: top_k indices (and values) per item, or along `axis`. */
export const argMaxRule: LayerShapeRule = {
  bottoms: [1, 1],
  tops: [1, 1],
  paramCount: noParams,
  infer: ({ layer, bottoms, bottomNames }) => {
    const p = layer.argmax_param ?? {}
    const bottom = bottoms[0]!
    const topK = getOr(p, "ArgMaxParameter", "top_k")
    if (topK < 1) throw new ShapeProblem("", "top_k must not be less than 1")
    if (p.axis !== undefined) {
      const axis = canonicalAxis(bottom, p.axis, bottomNames[0]!, "argmax_param.axis")
      if (topK > bottom[axis]!) throw new ShapeProblem(bottomNames[0]!, `top_k ${topK} must be at most the size of axis ${axis} (${bottom[axis]})`)
      return { tops: [bottom.map((d, i) => (i === axis ? topK : d))], params: [] }
    }
    if (topK > count(bottom, 1)) {
      throw new ShapeProblem(bottomNames[0]!, `top_k ${topK} must be at most the flattened size per item (${count(bottom, 1)})`)
    }
    const top = Array.from({ length: Math.max(3, bottom.length) }, () => 1)
    top[0] = bottom[0]!
    top[2] = topK
    if (getOr(p, "ArgMaxParameter", "out_max_val")) top[1] = 2
    return { tops: [top], params: [] }
  }
}

/** Silence: consumes its bottoms, no tops. */
export const silenceRule: LayerShapeRule = {
  bottoms: [1, ANY],
  tops: [0, 0],
  paramCount: noParams,
  infer: () => ({ tops: [], params: [] })
}

const parameterShape = (layer: LayerParameter): Shape => blobShapeDims(layer.parameter_param?.shape)

/** Parameter: a learnable blob of `parameter_param.shape`, exposed as its top. */
export const parameterRule: LayerShapeRule = {
  bottoms: [0, 0],
  tops: [1, 1],
  paramCount: () => 1,
  staticParams: (layer) => [parameterShape(layer)],
  infer: ({ layer }) => ({ tops: [parameterShape(layer)], params: [parameterShape(layer)] })
}

/** BatchReindex: gather bottom[0] items at the indices of the 1-D bottom[1]. */
export const batchReindexRule: LayerShapeRule = {
  bottoms: [2, 2],
  tops: [1, 1],
  paramCount: noParams,
  infer: ({ bottoms, bottomNames }) => {
    const index = bottoms[1]!
    if (index.length !== 1) throw new ShapeProblem(bottomNames[1]!, `index must be a 1-D blob, got ${shapeString(index)}`)
    return { tops: [[index[0]!, ...bottoms[0]!.slice(1)]], params: [] }
  }
}

/**
 * Filter: the last bottom selects items. Which items pass is data-dependent; like Caffe's first
 * Reshape, the tops are sized for the whole batch.
 */
export const filterRule: LayerShapeRule = {
  bottoms: [2, ANY],
  tops: [1, ANY],
  paramCount: noParams,
  infer: ({ bottoms, bottomNames, topNames }) => {
    const selector = bottoms[bottoms.length - 1]!
    const selectorName = bottomNames[bottomNames.length - 1]!
    if (topNames.length !== bottoms.length - 1) {
      throw new ShapeProblem("", `Filter needs one top per filtered bottom (${bottoms.length - 1}), got ${topNames.length}`)
    }
    if (selector.slice(1).some((d) => d !== 1)) {
      throw new ShapeProblem(selectorName, `selector blob dimensions must be singletons (1), except the first: ${shapeString(selector)}`)
    }
    const data = bottoms.slice(0, -1)
    data.forEach((b, i) => {
      if (b[0] !== selector[0]) {
        throw new ShapeProblem(bottomNames[i]!, `each bottom should have the same 0th dimension as the selector blob (${b[0]} vs ${selector[0]})`)
      }
    })
    return { tops: data, params: [] }
  }
}
