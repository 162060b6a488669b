import type { LayerParameter, Phase } from "../../schema/types.js"
import type { Shape } from "./blob-shape.js"

/** What one layer's shape inference sees: its (already split-rewritten) parameter and bottom shapes. */
export interface ShapeInput {
  readonly layer: LayerParameter
  readonly phase: Phase
  /** Every bottom's shape; inference runs only when all are known. */
  readonly bottoms: ReadonlyArray<Shape>
  readonly bottomNames: ReadonlyArray<string>
  readonly topNames: ReadonlyArray<string>
  /**
   * For data layers: shapes supplied by the graph's DataShapeProvider, one per top (null = unknown),
   * or undefined when the provider knows nothing about this layer.
   */
  readonly provided: ReadonlyArray<Shape | null> | undefined
}

export interface ShapeOutput {
  /** One per top; null where the shape cannot be known statically (data read from disk). */
  readonly tops: ReadonlyArray<Shape | null>
  /** The layer's parameter blobs (weights, biases, statistics), in Caffe's blob order. */
  readonly params: ReadonlyArray<Shape>
}

/**
 * How deepspark checks and infers one Caffe layer type: the blob-count contract of Caffe's Layer
 * (ExactNum/Min/Max Bottom/Top Blobs, EqualNumBottomTopBlobs), how many parameter blobs it has (needed
 * for lr_mult / sharing even when shapes are unknown) and the shapes of tops and parameters, following
 * the type's LayerSetUp + Reshape.
 */
export interface LayerShapeRule {
  readonly bottoms: readonly [min: number, max: number]
  readonly tops: readonly [min: number, max: number]
  readonly equalBottomsTops?: boolean
  /** Number of parameter blobs (Layer::blobs().size() after setup). */
  readonly paramCount: (layer: LayerParameter, bottomCount: number) => number
  readonly infer: (input: ShapeInput) => ShapeOutput
  /** Parameter shapes that do not depend on the bottoms (Embed, Parameter), used when bottoms are unknown. */
  readonly staticParams?: (layer: LayerParameter) => ReadonlyArray<Shape>
}

export const ANY = Number.POSITIVE_INFINITY

export const noParams = (): number => 0
