// Net graph: NetState filtering, split insertion, shapes, parameters; solver net resolution.
export {
  DuplicateTopError,
  LayerConfigError,
  ParamSpecError,
  ShapeError,
  SolverNetsError,
  UnknownBottomError,
  UnsupportedLayerError,
  type NetGraphError
} from "./errors.js"
export { filterNet, layerIncluded, mergeNetState, resolveNetState, stateMeetsRule, type ResolvedNetState } from "./net-state.js"
export { insertSplits, insertSplitsWithOrigin, splitBlobName, splitLayerName } from "./splits.js"
export { buildNetGraph, type GraphLayer, type NetGraph, type NetGraphOptions } from "./net-graph.js"
export { ParamTable, runtimeParamSpecs, type LearnableParam, type NetParam } from "./params.js"
export { canonicalAxis, count as shapeCount, shapeString, type Shape } from "./shapes/blob-shape.js"
export type { DataShapeProvider } from "./shapes/data.js"
export type { LayerShapeRule, ShapeInput, ShapeOutput } from "./shapes/layer-shape-rule.js"
export { layerShapeRules, unsupportedLayerTypes } from "./shapes/registry.js"
export { isLossType } from "./shapes/loss.js"
export { convGeometry, convOutputSize, deconvOutputSize, type ConvGeometry } from "./shapes/convolution.js"
export { pooledShape, pooledSize, type RoundMode } from "./shapes/pooling.js"
export { reshapeShape } from "./shapes/structural.js"
export { resolveSolverNets, type SolverNet, type SolverNets, type SolverNetsOptions } from "./solver-nets.js"
export { withSolverDefaults } from "./solver-defaults.js"
export { formatBytes, MAX_MEMORY_ENV, MemoryBudget, MemoryLimitError, memoryLimit, type MemoryNeed } from "./memory-limit.js"
