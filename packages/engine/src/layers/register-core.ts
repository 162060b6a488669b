import { registerLayer } from "../core/registry.js"
import { AccuracyLayer } from "./accuracy.js"
import { ConcatLayer } from "./concat.js"
import { ConvolutionLayer } from "./convolution.js"
import { DataLayer } from "./data.js"
import { DeconvolutionLayer } from "./deconvolution.js"
import { DropoutLayer } from "./dropout.js"
import { DummyDataLayer } from "./dummy-data.js"
import { EltwiseLayer } from "./eltwise.js"
import { FlattenLayer } from "./flatten.js"
import { InnerProductLayer } from "./inner-product.js"
import { InputLayer } from "./input.js"
import { MemoryDataLayer } from "./memory-data.js"
import { PoolingLayer } from "./pooling.js"
import { ReLULayer } from "./relu.js"
import { SoftmaxLayer } from "./softmax.js"
import { SoftmaxWithLossLayer } from "./softmax-with-loss.js"
import { SplitLayer } from "./split.js"

// The core layer set (engine owner); other layers register in ./register-extra.ts.
registerLayer("Accuracy", (p, c) => new AccuracyLayer(p, c))
registerLayer("Concat", (p, c) => new ConcatLayer(p, c))
registerLayer("Convolution", (p, c) => new ConvolutionLayer(p, c))
registerLayer("Data", (p, c) => new DataLayer(p, c))
registerLayer("Deconvolution", (p, c) => new DeconvolutionLayer(p, c))
registerLayer("Dropout", (p, c) => new DropoutLayer(p, c))
registerLayer("DummyData", (p, c) => new DummyDataLayer(p, c))
registerLayer("Eltwise", (p, c) => new EltwiseLayer(p, c))
registerLayer("Flatten", (p, c) => new FlattenLayer(p, c))
registerLayer("InnerProduct", (p, c) => new InnerProductLayer(p, c))
registerLayer("Input", (p, c) => new InputLayer(p, c))
registerLayer("MemoryData", (p, c) => new MemoryDataLayer(p, c))
registerLayer("Pooling", (p, c) => new PoolingLayer(p, c))
registerLayer("ReLU", (p, c) => new ReLULayer(p, c))
registerLayer("Softmax", (p, c) => new SoftmaxLayer(p, c))
registerLayer("SoftmaxWithLoss", (p, c) => new SoftmaxWithLossLayer(p, c))
registerLayer("Split", (p, c) => new SplitLayer(p, c))
