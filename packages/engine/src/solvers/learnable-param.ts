/** The storage a solver updates: a blob's values and gradients (an engine Blob fits). */
export interface ParamStorage {
  readonly data: Float32Array
  readonly diff: Float32Array
  readonly count: number
  readonly shape: ReadonlyArray<number>
}

/**
 * One learnable parameter as the solver sees it (Caffe's learnable_params with params_lr and
 * params_weight_decay): shared parameters appear once, owned by their first layer, in net order.
 */
export interface LearnableParam {
  readonly blob: ParamStorage
  readonly lrMult: number
  readonly decayMult: number
  readonly layerName?: string
  readonly name?: string
}
