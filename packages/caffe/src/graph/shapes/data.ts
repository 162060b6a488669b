import { getOr } from "../../schema/defaults.js"
import type { LayerParameter, Phase } from "../../schema/types.js"
import { ShapeProblem, type Shape } from "./blob-shape.js"
import { ANY, noParams, type LayerShapeRule, type ShapeInput } from "./layer-shape-rule.js"
import { blobShapeDims } from "./structural.js"

/**
 * Supplies the top shapes of layers that read data (Data, ImageData, HDF5Data, WindowData, …), which a
 * prototxt alone does not fix. Return one shape (or null = unknown) per top, or undefined to let the
 * graph use what the prototxt tells (labels are (batch); ImageData with crop or resize is known).
 */
export type DataShapeProvider = (layer: LayerParameter, phase: Phase) => ReadonlyArray<Shape | null> | undefined

/** Provided shapes win; otherwise the static guess. The provider must give one entry per top. */
const withProvided = (input: ShapeInput, fallback: ReadonlyArray<Shape | null>): ReadonlyArray<Shape | null> => {
  if (input.provided === undefined) return fallback
  if (input.provided.length !== input.topNames.length) {
    throw new ShapeProblem("", `the data shape provider gave ${input.provided.length} shapes for ${input.topNames.length} tops`)
  }
  return input.provided.map((s, i) => s ?? fallback[i] ?? null)
}

const positiveBatch = (batch: number, field: string): number => {
  if (!(batch > 0)) throw new ShapeProblem("", `${field} must be positive (got ${batch})`)
  return batch
}

const labelTops = (input: ShapeInput, batch: number, data: Shape | null): ReadonlyArray<Shape | null> =>
  input.topNames.map((_, i) => (i === 0 ? data : [batch]))

/** Data (LMDB/LevelDB Datums): the label top is (batch); the data top depends on the records. */
export const dataRule: LayerShapeRule = {
  bottoms: [0, 0],
  tops: [1, 2],
  paramCount: noParams,
  infer: (input) => {
    const batch = positiveBatch(getOr(input.layer.data_param, "DataParameter", "batch_size"), "data_param.batch_size")
    return { tops: withProvided(input, labelTops(input, batch, null)), params: [] }
  }
}

/**
 * ImageData: images are decoded with is_color channels; the size is the crop, else new_height ×
 * new_width, else the first image's (unknown here).
 */
export const imageDataRule: LayerShapeRule = {
  bottoms: [0, 0],
  tops: [2, 2],
  paramCount: noParams,
  infer: (input) => {
    const p = input.layer.image_data_param ?? {}
    const batch = positiveBatch(getOr(p, "ImageDataParameter", "batch_size"), "image_data_param.batch_size")
    const [h, w] = [getOr(p, "ImageDataParameter", "new_height"), getOr(p, "ImageDataParameter", "new_width")]
    if ((h === 0) !== (w === 0)) throw new ShapeProblem("", "image_data_param.new_height and new_width must be set together")
    const channels = getOr(p, "ImageDataParameter", "is_color") ? 3 : 1
    const crop = getOr(input.layer.transform_param, "TransformationParameter", "crop_size")
    if (crop > 0 && h > 0 && (crop > h || crop > w)) {
      throw new ShapeProblem("", `transform_param.crop_size ${crop} is larger than the resized image ${h}x${w}`)
    }
    const data: Shape | null = crop > 0 ? [batch, channels, crop, crop] : h > 0 ? [batch, channels, h, w] : null
    return { tops: withProvided(input, labelTops(input, batch, data)), params: [] }
  }
}

/** WindowData: (batch, C, crop, crop) windows from the images (C from the files); label (batch). */
export const windowDataRule: LayerShapeRule = {
  bottoms: [0, 0],
  tops: [2, 2],
  paramCount: noParams,
  infer: (input) => {
    const batch = positiveBatch(getOr(input.layer.window_data_param, "WindowDataParameter", "batch_size"), "window_data_param.batch_size")
    return { tops: withProvided(input, labelTops(input, batch, null)), params: [] }
  }
}

/** HDF5Data: each top is a dataset named after it, (batch, dataset dims…): unknown without the files. */
export const hdf5DataRule: LayerShapeRule = {
  bottoms: [0, 0],
  tops: [1, ANY],
  paramCount: noParams,
  infer: (input) => ({ tops: withProvided(input, input.topNames.map(() => null)), params: [] })
}

/** MemoryData: (batch, channels, height, width) and label (batch), all declared in the prototxt. */
export const memoryDataRule: LayerShapeRule = {
  bottoms: [0, 0],
  tops: [2, 2],
  paramCount: noParams,
  infer: (input) => {
    const p = input.layer.memory_data_param ?? {}
    const dims = (["batch_size", "channels", "height", "width"] as const).map((f) => getOr(p, "MemoryDataParameter", f))
    if (dims.some((d) => !(d > 0))) {
      throw new ShapeProblem("", "memory_data_param batch_size, channels, height and width must be specified and positive")
    }
    return { tops: withProvided(input, [dims, [dims[0]!]]), params: [] }
  }
}

const checkDims = (shape: Shape, what: string): Shape => {
  if (shape.some((d) => d < 0)) throw new ShapeProblem("", `${what} has a negative dimension: (${shape.join(",")})`)
  return shape
}

/** Input: `input_param.shape` once for all tops or once per top (absent: unknown). */
export const inputRule: LayerShapeRule = {
  bottoms: [0, 0],
  tops: [1, ANY],
  paramCount: noParams,
  infer: (input) => {
    const shapes = input.layer.input_param?.shape ?? []
    const n = input.topNames.length
    if (shapes.length > 1 && shapes.length !== n) {
      throw new ShapeProblem("", `must specify input_param.shape once, once per top blob, or not at all: ${n} tops vs. ${shapes.length} shapes`)
    }
    const tops = input.topNames.map((_, i) =>
      shapes.length === 0 ? null : checkDims(blobShapeDims(shapes[shapes.length === 1 ? 0 : i]), "input_param.shape")
    )
    return { tops: withProvided(input, tops), params: [] }
  }
}

/** DummyData: `shape` (once or per top) or the legacy num/channels/height/width lists. */
export const dummyDataRule: LayerShapeRule = {
  bottoms: [0, 0],
  tops: [1, ANY],
  paramCount: noParams,
  infer: (input) => {
    const p = input.layer.dummy_data_param ?? {}
    const n = input.topNames.length
    const fillers = p.data_filler?.length ?? 0
    if (fillers > 1 && fillers !== n) {
      throw new ShapeProblem("", `number of data fillers must be 0, 1 or equal to the number of tops (${n}); got ${fillers}`)
    }
    const legacy = [p.num ?? [], p.channels ?? [], p.height ?? [], p.width ?? []]
    const legacyCount = legacy.reduce((a, l) => a + l.length, 0)
    const shapes = p.shape ?? []
    let tops: Shape[]
    if (shapes.length > 0) {
      if (legacyCount > 0) throw new ShapeProblem("", "both shape and legacy fields (num/channels/height/width) were specified")
      if (shapes.length !== 1 && shapes.length !== n) {
        throw new ShapeProblem("", `dummy_data_param.shape must be given once or once per top (${n}); got ${shapes.length}`)
      }
      tops = input.topNames.map((_, i) => checkDims(blobShapeDims(shapes[shapes.length === 1 ? 0 : i]), "dummy_data_param.shape"))
    } else {
      const names = ["num", "channels", "height", "width"]
      legacy.forEach((l, k) => {
        if (l.length !== 1 && l.length !== n) {
          throw new ShapeProblem("", `dummy_data_param.${names[k]} must be given once or once per top (${n}); got ${l.length}`)
        }
      })
      tops = input.topNames.map((_, i) => legacy.map((l) => l[l.length === 1 ? 0 : i]!))
    }
    return { tops: withProvided(input, tops), params: [] }
  }
}
