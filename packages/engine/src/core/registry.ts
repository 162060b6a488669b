import type { LayerParameter } from "@deepspark/caffe"
import type { Layer, LayerContext } from "./layer.js"

export type LayerFactory = (param: LayerParameter, ctx: LayerContext) => Layer

/**
 * The layer registry, keyed by Caffe's case-sensitive type strings ("Convolution", "ReLU", …).
 * Layers register themselves in packages/engine/src/layers/index.ts.
 */
const factories = new Map<string, LayerFactory>()

export const registerLayer = (type: string, factory: LayerFactory): void => {
  if (factories.has(type)) throw new Error(`layer type "${type}" registered twice`)
  factories.set(type, factory)
}

export const registeredLayerTypes = (): string[] => [...factories.keys()].sort()

export class UnknownLayerTypeError extends Error {
  readonly _tag = "UnknownLayerTypeError"
  constructor(
    readonly layerName: string,
    readonly layerType: string
  ) {
    super(
      layerType === "Python"
        ? `Layer "${layerName}": type Python is not supported (deepspark runs no Python layers)`
        : `Layer "${layerName}": unknown layer type "${layerType}" (known: ${registeredLayerTypes().join(", ")})`
    )
    this.name = "UnknownLayerTypeError"
  }
}

export const createLayer = (param: LayerParameter, ctx: LayerContext): Layer => {
  const type = param.type ?? ""
  const factory = factories.get(type)
  if (!factory) throw new UnknownLayerTypeError(param.name ?? "", type)
  return factory(param, ctx)
}
