import { registerLayer } from "../core/registry.js"
import { AbsValLayer } from "./abs-val.js"
import { ArgMaxLayer } from "./arg-max.js"
import { BatchNormLayer } from "./batch-norm.js"
import { BatchReindexLayer } from "./batch-reindex.js"
import { BiasLayer } from "./bias.js"
import { BNLLLayer } from "./bnll.js"
import { ClipLayer } from "./clip.js"
import { ContrastiveLossLayer } from "./contrastive-loss.js"
import { CropLayer } from "./crop.js"
import { ELULayer } from "./elu.js"
import { EmbedLayer } from "./embed.js"
import { EuclideanLossLayer } from "./euclidean-loss.js"
import { ExpLayer } from "./exp.js"
import { FilterLayer } from "./filter.js"
import { HingeLossLayer } from "./hinge-loss.js"
import { Im2colLayer } from "./im2col.js"
import { InfogainLossLayer } from "./infogain-loss.js"
import { LogLayer } from "./log.js"
import { LRNLayer } from "./lrn.js"
import { MultinomialLogisticLossLayer } from "./multinomial-logistic-loss.js"
import { MVNLayer } from "./mvn.js"
import { ParameterLayer } from "./parameter.js"
import { PowerLayer } from "./power.js"
import { PReLULayer } from "./prelu.js"
import { ReductionLayer } from "./reduction.js"
import { ReshapeLayer } from "./reshape.js"
import { ScaleLayer } from "./scale.js"
import { SigmoidCrossEntropyLossLayer } from "./sigmoid-cross-entropy-loss.js"
import { SigmoidLayer } from "./sigmoid.js"
import { SilenceLayer } from "./silence.js"
import { SliceLayer } from "./slice.js"
import { SPPLayer } from "./spp.js"
import { SwishLayer } from "./swish.js"
import { TanHLayer } from "./tanh.js"
import { ThresholdLayer } from "./threshold.js"
import { TileLayer } from "./tile.js"

/** The Caffe types registered by registerExtraLayers (everything but the core layers in index.ts). */
export const EXTRA_LAYER_TYPES = [
  "AbsVal", "ArgMax", "BNLL", "BatchNorm", "BatchReindex", "Bias", "Clip", "ContrastiveLoss", "Crop", "ELU",
  "Embed", "EuclideanLoss", "Exp", "Filter", "HingeLoss", "Im2col", "InfogainLoss", "LRN", "Log", "MVN",
  "MultinomialLogisticLoss", "PReLU", "Parameter", "Power", "Reduction", "Reshape", "SPP", "Scale", "Sigmoid",
  "SigmoidCrossEntropyLoss", "Silence", "Slice", "Swish", "TanH", "Threshold", "Tile"
] as const

let registered = false

/**
 * Registers the non-core layer types, once (later calls do nothing). Importing this module registers
 * them too, so `import "./register-extra.js"` and `registerExtraLayers()` both work. "Python" is
 * deliberately not registered: the registry's UnknownLayerTypeError already says
 * `Layer "<name>": type Python is not supported`.
 */
export const registerExtraLayers = (): void => {
  if (registered) return
  registered = true
  registerLayer("AbsVal", (p, ctx) => new AbsValLayer(p, ctx))
  registerLayer("ArgMax", (p, ctx) => new ArgMaxLayer(p, ctx))
  registerLayer("BNLL", (p, ctx) => new BNLLLayer(p, ctx))
  registerLayer("BatchNorm", (p, ctx) => new BatchNormLayer(p, ctx))
  registerLayer("BatchReindex", (p, ctx) => new BatchReindexLayer(p, ctx))
  registerLayer("Bias", (p, ctx) => new BiasLayer(p, ctx))
  registerLayer("Clip", (p, ctx) => new ClipLayer(p, ctx))
  registerLayer("ContrastiveLoss", (p, ctx) => new ContrastiveLossLayer(p, ctx))
  registerLayer("Crop", (p, ctx) => new CropLayer(p, ctx))
  registerLayer("ELU", (p, ctx) => new ELULayer(p, ctx))
  registerLayer("Embed", (p, ctx) => new EmbedLayer(p, ctx))
  registerLayer("EuclideanLoss", (p, ctx) => new EuclideanLossLayer(p, ctx))
  registerLayer("Exp", (p, ctx) => new ExpLayer(p, ctx))
  registerLayer("Filter", (p, ctx) => new FilterLayer(p, ctx))
  registerLayer("HingeLoss", (p, ctx) => new HingeLossLayer(p, ctx))
  registerLayer("Im2col", (p, ctx) => new Im2colLayer(p, ctx))
  registerLayer("InfogainLoss", (p, ctx) => new InfogainLossLayer(p, ctx))
  registerLayer("LRN", (p, ctx) => new LRNLayer(p, ctx))
  registerLayer("Log", (p, ctx) => new LogLayer(p, ctx))
  registerLayer("MVN", (p, ctx) => new MVNLayer(p, ctx))
  registerLayer("MultinomialLogisticLoss", (p, ctx) => new MultinomialLogisticLossLayer(p, ctx))
  registerLayer("PReLU", (p, ctx) => new PReLULayer(p, ctx))
  registerLayer("Parameter", (p, ctx) => new ParameterLayer(p, ctx))
  registerLayer("Power", (p, ctx) => new PowerLayer(p, ctx))
  registerLayer("Reduction", (p, ctx) => new ReductionLayer(p, ctx))
  registerLayer("Reshape", (p, ctx) => new ReshapeLayer(p, ctx))
  registerLayer("SPP", (p, ctx) => new SPPLayer(p, ctx))
  registerLayer("Scale", (p, ctx) => new ScaleLayer(p, ctx))
  registerLayer("Sigmoid", (p, ctx) => new SigmoidLayer(p, ctx))
  registerLayer("SigmoidCrossEntropyLoss", (p, ctx) => new SigmoidCrossEntropyLossLayer(p, ctx))
  registerLayer("Silence", (p, ctx) => new SilenceLayer(p, ctx))
  registerLayer("Slice", (p, ctx) => new SliceLayer(p, ctx))
  registerLayer("Swish", (p, ctx) => new SwishLayer(p, ctx))
  registerLayer("TanH", (p, ctx) => new TanHLayer(p, ctx))
  registerLayer("Threshold", (p, ctx) => new ThresholdLayer(p, ctx))
  registerLayer("Tile", (p, ctx) => new TileLayer(p, ctx))
}

registerExtraLayers()
