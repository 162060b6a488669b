import { batchNormRule, elementwiseRule, lrnRule, preluRule, softmaxRule, splitRule } from "./same-shape.js"
import { biasRule, eltwiseRule, scaleRule } from "./broadcast.js"
import { convolutionRule, deconvolutionRule, im2colRule } from "./convolution.js"
import { dataRule, dummyDataRule, hdf5DataRule, imageDataRule, inputRule, memoryDataRule, windowDataRule } from "./data.js"
import { embedRule, innerProductRule } from "./inner-product.js"
import type { LayerShapeRule } from "./layer-shape-rule.js"
import {
  accuracyRule,
  contrastiveLossRule,
  euclideanLossRule,
  hdf5OutputRule,
  hingeLossRule,
  infogainLossRule,
  isLossType,
  multinomialLogisticLossRule,
  sigmoidCrossEntropyLossRule,
  softmaxWithLossRule
} from "./loss.js"
import { poolingRule, sppRule } from "./pooling.js"
import { lstmRule, lstmUnitRule, rnnRule } from "./recurrent.js"
import {
  argMaxRule,
  batchReindexRule,
  concatRule,
  cropRule,
  filterRule,
  flattenRule,
  parameterRule,
  reductionRule,
  reshapeRule,
  sliceRule,
  silenceRule,
  tileRule
} from "./structural.js"

/** Shape rules for Caffe's registered layer types (type strings are case-sensitive), Python excepted. */
export const layerShapeRules: ReadonlyMap<string, LayerShapeRule> = new Map<string, LayerShapeRule>([
  ["AbsVal", elementwiseRule],
  ["Accuracy", accuracyRule],
  ["ArgMax", argMaxRule],
  ["BNLL", elementwiseRule],
  ["BatchNorm", batchNormRule],
  ["BatchReindex", batchReindexRule],
  ["Bias", biasRule],
  ["Clip", elementwiseRule],
  ["Concat", concatRule],
  ["ContrastiveLoss", contrastiveLossRule],
  ["Convolution", convolutionRule],
  ["Crop", cropRule],
  ["Data", dataRule],
  ["Deconvolution", deconvolutionRule],
  ["Dropout", elementwiseRule],
  ["DummyData", dummyDataRule],
  ["ELU", elementwiseRule],
  ["Eltwise", eltwiseRule],
  ["Embed", embedRule],
  ["EuclideanLoss", euclideanLossRule],
  ["Exp", elementwiseRule],
  ["Filter", filterRule],
  ["Flatten", flattenRule],
  ["HDF5Data", hdf5DataRule],
  ["HDF5Output", hdf5OutputRule],
  ["HingeLoss", hingeLossRule],
  ["Im2col", im2colRule],
  ["ImageData", imageDataRule],
  ["InfogainLoss", infogainLossRule],
  ["InnerProduct", innerProductRule],
  ["Input", inputRule],
  ["LRN", lrnRule],
  ["LSTM", lstmRule],
  ["LSTMUnit", lstmUnitRule],
  ["Log", elementwiseRule],
  ["MVN", elementwiseRule],
  ["MemoryData", memoryDataRule],
  ["MultinomialLogisticLoss", multinomialLogisticLossRule],
  ["PReLU", preluRule],
  ["Parameter", parameterRule],
  ["Pooling", poolingRule],
  ["Power", elementwiseRule],
  ["RNN", rnnRule],
  ["ReLU", elementwiseRule],
  ["Reduction", reductionRule],
  ["Reshape", reshapeRule],
  ["SPP", sppRule],
  ["Scale", scaleRule],
  ["Sigmoid", elementwiseRule],
  ["SigmoidCrossEntropyLoss", sigmoidCrossEntropyLossRule],
  ["Silence", silenceRule],
  ["Slice", sliceRule],
  ["Softmax", softmaxRule],
  ["SoftmaxWithLoss", softmaxWithLossRule],
  ["Split", splitRule],
  ["Swish", elementwiseRule],
  ["TanH", elementwiseRule],
  ["Threshold", elementwiseRule],
  ["Tile", tileRule],
  ["WindowData", windowDataRule]
])

/** Layer types Caffe registers but deepspark cannot run. */
export const unsupportedLayerTypes: ReadonlyMap<string, string> = new Map([
  ["Python", "is not supported: Python layers run user code inside pycaffe"]
])

/**
 * Layer::AllowForceBackward(bottom): whether force_backward may make this bottom need a gradient.
 * Caffe's own overrides: loss layers never force their label (bottom 1), ContrastiveLoss its similarity
 * (bottom 2), EuclideanLoss allows both bottoms (its gradient is symmetric), RNN/LSTM their sequence
 * continuation indicators (bottom 1) and LSTMUnit its (bottom 2). Inputs that are indices or labels are
 * never forced either: Caffe has no override for them and its Backward aborts on them ("Can't
 * backpropagate to EmbedLayer input", "Cannot backprop to index", "cannot backpropagate to filter index
 * inputs", "cannot backpropagate to infogain inputs"), so forcing them only turns force_backward into a
 * crash — Embed's input, BatchReindex's bottom 1, Filter's selector (its last bottom), InfogainLoss's H
 * (bottom 2) and Accuracy's label (bottom 1).
 */
export const allowForceBackward = (type: string, bottomIndex: number, bottomCount: number): boolean => {
  switch (type) {
    case "EuclideanLoss":
      return true
    case "ContrastiveLoss":
      return bottomIndex !== 2
    case "InfogainLoss":
      return bottomIndex === 0
    case "Accuracy":
      return bottomIndex !== 1
    case "Embed":
      return false
    case "BatchReindex":
      return bottomIndex !== 1
    case "Filter":
      return bottomIndex !== bottomCount - 1
    case "RNN":
    case "LSTM":
      return bottomIndex !== 1
    case "LSTMUnit":
      return bottomIndex !== 2
  }
  if (isLossType(type)) return bottomIndex !== 1
  return true
}
