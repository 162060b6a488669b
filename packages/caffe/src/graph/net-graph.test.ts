import { describe, expect, it } from "vitest"
import type { LayerParameter, NetParameter } from "../schema/types.js"
import { DuplicateTopError, LayerConfigError, ParamSpecError, ShapeError, UnknownBottomError, UnsupportedLayerError } from "./errors.js"
import { buildNetGraph, type NetGraph } from "./net-graph.js"
import type { DataShapeProvider } from "./shapes/data.js"
import { caffeZoo, repoNet, zooNet } from "../../test/support/caffe-zoo.js"

const shape = (g: NetGraph, blob: string) => g.blobs.get(blob)
const layer = (g: NetGraph, name: string) => {
  const l = g.layers.find((x) => x.name === name)
  if (l === undefined) throw new Error(`no layer ${name}`)
  return l
}
/** Gives a Data layer's first top a fixed shape (what a real data source would report). */
const dataShapes =
  (data: number[]): DataShapeProvider =>
  (l) =>
    (l.top ?? []).map((_, i) => (i === 0 ? data : null))

/** Tests on nets of Caffe's model zoo: skipped without a Caffe checkout (see ../../test/support/caffe-zoo.ts). */
const zooIt = it.skipIf(caffeZoo === undefined)

describe("deploy nets infer Caffe's shapes", () => {
  it("LeNet: 28→24→12→8→4, 431,080 parameters", () => {
    const g = buildNetGraph(repoNet("examples/mnist/lenet.prototxt"))
    expect(shape(g, "data")).toEqual([64, 1, 28, 28])
    expect(shape(g, "conv1")).toEqual([64, 20, 24, 24])
    expect(shape(g, "pool1")).toEqual([64, 20, 12, 12])
    expect(shape(g, "conv2")).toEqual([64, 50, 8, 8])
    expect(shape(g, "pool2")).toEqual([64, 50, 4, 4])
    expect(shape(g, "ip1")).toEqual([64, 500])
    expect(shape(g, "prob")).toEqual([64, 10])
    expect(layer(g, "conv2").paramShapes).toEqual([[50, 20, 5, 5], [50]])
    expect(layer(g, "ip1").paramShapes).toEqual([[500, 800], [500]])
    expect(g.paramCount).toBe(431080)
    expect(g.inputs).toEqual(["data"])
    expect(g.outputs).toEqual(["prob"])
    expect(layer(g, "relu1").inPlace).toEqual([true])
  })

  zooIt("CaffeNet: 227→55→27→13→6, groups of 2, pool5 256×6×6 into fc6", () => {
    const g = buildNetGraph(zooNet("models/bvlc_reference_caffenet/deploy.prototxt"))
    expect(shape(g, "conv1")).toEqual([10, 96, 55, 55])
    expect(shape(g, "pool1")).toEqual([10, 96, 27, 27])
    expect(shape(g, "pool2")).toEqual([10, 256, 13, 13])
    expect(shape(g, "pool5")).toEqual([10, 256, 6, 6])
    expect(layer(g, "conv2").paramShapes).toEqual([[256, 48, 5, 5], [256]])
    expect(layer(g, "conv4").paramShapes).toEqual([[384, 192, 3, 3], [384]])
    expect(layer(g, "fc6").paramShapes).toEqual([[4096, 9216], [4096]])
    expect(g.paramCount).toBe(60965224)
  })

  zooIt("AlexNet (LRN before pooling) has the same shapes", () => {
    const g = buildNetGraph(zooNet("models/bvlc_alexnet/deploy.prototxt"))
    expect(shape(g, "norm1")).toEqual([10, 96, 55, 55])
    expect(shape(g, "pool1")).toEqual([10, 96, 27, 27])
    expect(shape(g, "pool5")).toEqual([10, 256, 6, 6])
    expect(g.paramCount).toBe(60965224)
  })

  zooIt("GoogLeNet: 224→112→56 with ceil pooling, inception concat widths", () => {
    const g = buildNetGraph(zooNet("models/bvlc_googlenet/deploy.prototxt"))
    expect(shape(g, "conv1/7x7_s2")).toEqual([10, 64, 112, 112])
    expect(shape(g, "pool1/3x3_s2")).toEqual([10, 64, 56, 56])
    expect(shape(g, "pool2/3x3_s2")).toEqual([10, 192, 28, 28])
    const widths = Object.fromEntries(
      ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"].map((k) => [k, shape(g, `inception_${k}/output`)?.[1]])
    )
    expect(widths).toEqual({ "3a": 256, "3b": 480, "4a": 512, "4b": 512, "4c": 512, "4d": 528, "4e": 832, "5a": 832, "5b": 1024 })
    expect(shape(g, "pool5/7x7_s1")).toEqual([10, 1024, 1, 1])
    // pool2's output feeds the four branches of inception_3a: one Split with 4 tops.
    expect(layer(g, "pool2/3x3_s2_pool2/3x3_s2_0_split").top).toHaveLength(4)
    expect(g.paramCount).toBe(6998552)
  })

  zooIt("GoogLeNet train_val: the auxiliary AVE pool 14→4 (k5 s3), loss weights 0.3/0.3/1", () => {
    const g = buildNetGraph(zooNet("models/bvlc_googlenet/train_val.prototxt"), {
      state: { phase: "TRAIN" },
      dataShapeProvider: dataShapes([32, 3, 224, 224])
    })
    expect(shape(g, "loss1/ave_pool")).toEqual([32, 512, 4, 4])
    expect(shape(g, "loss1/loss1")).toEqual([])
    expect(layer(g, "loss1/loss").lossWeights).toEqual([Math.fround(0.3)])
    expect(layer(g, "loss3/loss3").lossWeights).toEqual([1])
    expect(g.outputs).toEqual(["loss1/loss1", "loss2/loss2", "loss3/loss3"])
  })

  zooIt("CIFAR-10 quick: 32→16→8→4", () => {
    const g = buildNetGraph(zooNet("examples/cifar10/cifar10_quick.prototxt"))
    expect(shape(g, "pool1")).toEqual([1, 32, 16, 16])
    expect(shape(g, "pool2")).toEqual([1, 32, 8, 8])
    expect(shape(g, "pool3")).toEqual([1, 64, 4, 4])
    expect(layer(g, "ip1").paramShapes).toEqual([[64, 1024], [64]])
    expect(g.paramCount).toBe(145578)
  })
})

describe("phase filtering, splits, outputs", () => {
  it("lenet_train_test TEST: label feeds accuracy and loss through label_mnist_1_split", () => {
    const g = buildNetGraph(repoNet("examples/mnist/lenet_train_test.prototxt"), { state: { phase: "TEST" } })
    expect(g.layers.map((l) => l.name)).toEqual([
      "mnist", "label_mnist_1_split", "conv1", "pool1", "conv2", "pool2", "ip1", "relu1", "ip2",
      "ip2_ip2_0_split", "accuracy", "loss"
    ])
    const split = layer(g, "label_mnist_1_split")
    expect(split).toMatchObject({ type: "Split", isSplit: true, bottom: ["label"], top: ["label_mnist_1_split_0", "label_mnist_1_split_1"] })
    expect(layer(g, "accuracy").bottom).toEqual(["ip2_ip2_0_split_0", "label_mnist_1_split_0"])
    expect(layer(g, "loss").bottom).toEqual(["ip2_ip2_0_split_1", "label_mnist_1_split_1"])
    expect(g.outputs).toEqual(["accuracy", "loss"])
    expect(layer(g, "mnist").phase).toBe("TEST")
    // Data shapes are unknown without the LMDB; the label is (batch).
    expect(shape(g, "data")).toBeNull()
    expect(shape(g, "label")).toEqual([100])
    expect(shape(g, "conv1")).toBeNull()
    expect(g.paramCount).toBeNull()
    expect(layer(g, "loss").lossWeights).toEqual([1])
    expect(layer(g, "loss").param.loss_weight).toEqual([1])
    expect(layer(g, "accuracy").lossWeights).toEqual([0])
  })

  it("lenet_train_test TRAIN: no splits, one output, shapes from a data shape provider", () => {
    const g = buildNetGraph(repoNet("examples/mnist/lenet_train_test.prototxt"), {
      state: { phase: "TRAIN" },
      dataShapeProvider: dataShapes([64, 1, 28, 28])
    })
    expect(g.layers.some((l) => l.isSplit)).toBe(false)
    expect(g.outputs).toEqual(["loss"])
    expect(shape(g, "pool2")).toEqual([64, 50, 4, 4])
    expect(g.paramCount).toBe(431080)
    expect(g.learnable.map((p) => [p.layer, p.lrMult])).toEqual([
      ["conv1", 1], ["conv1", 2], ["conv2", 1], ["conv2", 2], ["ip1", 1], ["ip1", 2], ["ip2", 1], ["ip2", 2]
    ])
    // Backward: the data layer and the label need none; everything from conv1 on does.
    expect(layer(g, "mnist").needBackward).toBe(false)
    expect(layer(g, "conv1").needBackward).toBe(true)
    expect(layer(g, "conv1").bottomNeedBackward).toEqual([false])
    expect(layer(g, "loss").bottomNeedBackward).toEqual([true, false])
  })

  zooIt("mnist_autoencoder: stages pick the data layer; data, flatdata and decode1 are split", () => {
    const net = zooNet("examples/mnist/mnist_autoencoder.prototxt")
    const onTest = buildNetGraph(net, { state: { phase: "TEST", stage: ["test-on-test"] } })
    const data = onTest.layers[0]!
    expect(data.param.data_param?.source).toBe("examples/mnist/mnist_test_lmdb")
    const onTrain = buildNetGraph(net, { state: { phase: "TEST", stage: ["test-on-train"] } })
    expect(onTrain.layers[0]!.param.data_param?.source).toBe("examples/mnist/mnist_train_lmdb")
    expect(onTrain.layers.filter((l) => l.type === "Data")).toHaveLength(1)
    const train = buildNetGraph(net, { state: { phase: "TRAIN" } })
    expect(train.layers.filter((l) => l.type === "Data")).toHaveLength(1)
    // `data` feeds flatdata and encode1; `flatdata` feeds both losses; `decode1` a loss and decode1neuron.
    expect(layer(train, "data_data_0_split").top).toEqual(["data_data_0_split_0", "data_data_0_split_1"])
    expect(layer(train, "encode1").bottom).toEqual(["data_data_0_split_1"])
    expect(train.layers.filter((l) => l.name === "loss").map((l) => l.bottom)).toEqual([
      ["decode1_decode1_0_split_0", "flatdata_flatdata_0_split_0"],
      ["decode1neuron", "flatdata_flatdata_0_split_1"]
    ])
    expect(train.outputs).toEqual(["cross_entropy_loss", "l2_error"])
    const losses = train.layers.filter((l) => l.name === "loss").map((l) => l.lossWeights)
    expect(losses).toEqual([[1], [0]])
    // TEST without a stage: no data layer matches, so `data` has no producer.
    expect(() => buildNetGraph(net, { state: { phase: "TEST" } })).toThrow(UnknownBottomError)
    try {
      buildNetGraph(net, { state: { phase: "TEST" } })
    } catch (e) {
      expect((e as UnknownBottomError).message).toContain("layer 'flatdata'")
      expect((e as UnknownBottomError).message).toContain("'data'")
    }
    // With a data shape the whole autoencoder infers: 784-1000-500-250-30-…-784.
    const shaped = buildNetGraph(net, { state: { phase: "TRAIN" }, dataShapeProvider: dataShapes([100, 1, 28, 28]) })
    expect(shape(shaped, "flatdata")).toEqual([100, 784])
    expect(shape(shaped, "encode4")).toEqual([100, 30])
    expect(shape(shaped, "decode1")).toEqual([100, 784])
  })

  zooIt("siamese: parameters shared by name are owned by the first tower", () => {
    const g = buildNetGraph(zooNet("examples/siamese/mnist_siamese_train_test.prototxt"), {
      state: { phase: "TRAIN" },
      dataShapeProvider: dataShapes([64, 2, 28, 28])
    })
    expect(shape(g, "data")).toEqual([64, 1, 28, 28])
    expect(shape(g, "data_p")).toEqual([64, 1, 28, 28])
    expect(shape(g, "feat_p")).toEqual([64, 2])
    expect(g.params).toHaveLength(20)
    expect(g.learnable).toHaveLength(10)
    expect(g.learnable.every((p) => !p.layer.endsWith("_p"))).toBe(true)
    const conv1p = g.params.find((p) => p.layer === "conv1_p" && p.paramIndex === 0)!
    expect(conv1p.displayName).toBe("conv1_w")
    expect(g.params[conv1p.owner]!.layer).toBe("conv1")
    expect(g.learnable[conv1p.learnableIndex]!.name).toBe("conv1_w")
    expect(g.outputs).toEqual(["loss"])
  })
})

const input = (name: string, dims: number[]): LayerParameter => ({
  name,
  type: "Input",
  top: [name],
  input_param: { shape: [{ dim: dims }] }
})
const net = (...layers: LayerParameter[]): NetParameter => ({ name: "t", layer: layers })

describe("split insertion corner cases (Caffe's InsertSplits)", () => {
  it("an in-place layer becomes the producer: its top is split under its own name", () => {
    const g = buildNetGraph(
      net(
        input("data", [2, 3]),
        { name: "ip", type: "InnerProduct", bottom: ["data"], top: ["x"], inner_product_param: { num_output: 4 } },
        { name: "relu", type: "ReLU", bottom: ["x"], top: ["x"] },
        { name: "a", type: "Sigmoid", bottom: ["x"], top: ["a"] },
        { name: "b", type: "TanH", bottom: ["x"], top: ["b"] }
      )
    )
    expect(g.layers.map((l) => l.name)).toEqual(["data", "ip", "relu", "x_relu_0_split", "a", "b"])
    expect(layer(g, "a").bottom).toEqual(["x_relu_0_split_0"])
    expect(layer(g, "b").bottom).toEqual(["x_relu_0_split_1"])
    expect(g.outputs).toEqual(["a", "b"])
  })

  it("an in-place consumer of a shared blob is not in place any more: Caffe rejects it", () => {
    const bad = net(
      input("data", [2, 3]),
      { name: "ip", type: "InnerProduct", bottom: ["data"], top: ["x"], inner_product_param: { num_output: 4 } },
      { name: "a", type: "Sigmoid", bottom: ["x"], top: ["a"] },
      { name: "relu", type: "ReLU", bottom: ["x"], top: ["x"] }
    )
    expect(() => buildNetGraph(bad)).toThrow(DuplicateTopError)
    expect(() => buildNetGraph(bad)).toThrow(/layer 'relu'.*'x'/)
  })

  it("a top with an explicit loss weight that is also consumed gets a split carrying the weight", () => {
    const g = buildNetGraph(
      net(
        input("data", [2, 3]),
        { name: "ip", type: "InnerProduct", bottom: ["data"], top: ["y"], loss_weight: [0.5], inner_product_param: { num_output: 1 } },
        { name: "s", type: "Sigmoid", bottom: ["y"], top: ["s"] }
      )
    )
    const split = layer(g, "y_ip_0_split")
    expect(split.top).toEqual(["y_ip_0_split_0", "y_ip_0_split_1"])
    expect(split.lossWeights).toEqual([0.5, 0])
    expect(layer(g, "ip").lossWeights).toEqual([0])
    expect(layer(g, "ip").param.loss_weight).toBeUndefined()
    // The consumer takes the split's second top; the first is the loss.
    expect(layer(g, "s").bottom).toEqual(["y_ip_0_split_1"])
    expect(g.outputs).toEqual(["s", "y_ip_0_split_0"])
  })

  it("a blob used twice by one layer gets a split with two tops", () => {
    const g = buildNetGraph(net(input("data", [2, 3]), { name: "sum", type: "Eltwise", bottom: ["data", "data"], top: ["sum"] }))
    expect(layer(g, "sum").bottom).toEqual(["data_data_0_split_0", "data_data_0_split_1"])
    expect(shape(g, "sum")).toEqual([2, 3])
  })

  it("outputs are sorted byte-wise (upper case before lower case)", () => {
    const g = buildNetGraph(
      net(input("data", [1, 2]), { name: "b", type: "ReLU", bottom: ["data"], top: ["b"] }),
      { state: {} }
    )
    expect(g.outputs).toEqual(["b"])
    const g2 = buildNetGraph(
      net(
        { name: "in", type: "Input", top: ["z", "Z", "a"], input_param: { shape: [{ dim: [1] }] } }
      )
    )
    expect(g2.outputs).toEqual(["Z", "a", "z"])
    expect(g2.inputs).toEqual(["z", "Z", "a"])
  })
})

describe("errors name the layer and the blob", () => {
  it("include and exclude on one layer", () => {
    const bad = net({ ...input("data", [1]), include: [{ phase: "TRAIN" }], exclude: [{ phase: "TEST" }] })
    expect(() => buildNetGraph(bad)).toThrow(LayerConfigError)
    expect(() => buildNetGraph(bad)).toThrow(/layer 'data'.*not both/)
  })

  it("unknown bottom", () => {
    const bad = net(input("data", [1, 2]), { name: "r", type: "ReLU", bottom: ["nope"], top: ["r"] })
    expect(() => buildNetGraph(bad)).toThrow(/layer 'r': unknown bottom blob 'nope'/)
  })

  it("kernel larger than the padded input", () => {
    const bad = net(input("data", [1, 1, 4, 4]), {
      name: "conv", type: "Convolution", bottom: ["data"], top: ["conv"],
      convolution_param: { num_output: 2, kernel_size: [7], pad: [1] }
    })
    expect(() => buildNetGraph(bad)).toThrow(ShapeError)
    expect(() => buildNetGraph(bad)).toThrow(/layer 'conv' \(Convolution\) blob 'data': kernel extent 7 is larger than the padded input/)
  })

  it("concat mismatch", () => {
    const bad = net(input("a", [1, 2, 3]), input("b", [1, 2, 4]), { name: "cat", type: "Concat", bottom: ["a", "b"], top: ["c"] })
    expect(() => buildNetGraph(bad)).toThrow(/layer 'cat' \(Concat\) blob 'b': shape \(1,2,4\) differs/)
  })

  it("Python layers are not supported", () => {
    const bad = net(input("a", [1]), { name: "py", type: "Python", bottom: ["a"], top: ["b"] })
    expect(() => buildNetGraph(bad)).toThrow(UnsupportedLayerError)
    expect(() => buildNetGraph(bad)).toThrow(/layer 'py': type 'Python' is not supported/)
  })

  it("unknown type, wrong blob counts, too many param specs, shared shape mismatch", () => {
    expect(() => buildNetGraph(net(input("a", [1]), { name: "x", type: "relu", bottom: ["a"], top: ["b"] }))).toThrow(/type 'relu' is not a known/)
    expect(() => buildNetGraph(net(input("a", [1]), { name: "x", type: "ReLU", bottom: ["a"], top: ["b", "c"] }))).toThrow(/layer 'x' \(ReLU\): produces exactly 1 top/)
    expect(() =>
      buildNetGraph(net(input("a", [1, 2]), { name: "x", type: "ReLU", bottom: ["a"], top: ["b"], param: [{ lr_mult: 1 }] }))
    ).toThrow(ParamSpecError)
    const shared = net(
      input("a", [1, 2]),
      { name: "ip1", type: "InnerProduct", bottom: ["a"], top: ["b"], param: [{ name: "w" }], inner_product_param: { num_output: 3 } },
      { name: "ip2", type: "InnerProduct", bottom: ["b"], top: ["c"], param: [{ name: "w" }], inner_product_param: { num_output: 3 } }
    )
    expect(() => buildNetGraph(shared)).toThrow(/layer 'ip2' param 'w': cannot share param 'w' owned by layer 'ip1'; shape mismatch/)
    // PERMISSIVE only compares counts: (3,2) vs (2,3).
    const permissive = net(
      input("a", [1, 2]),
      { name: "ip1", type: "InnerProduct", bottom: ["a"], top: ["b"], param: [{ name: "w" }], inner_product_param: { num_output: 3, bias_term: false } },
      { name: "ip2", type: "InnerProduct", bottom: ["b"], top: ["c"], param: [{ name: "w", share_mode: "PERMISSIVE" }], inner_product_param: { num_output: 2, bias_term: false } }
    )
    const g = buildNetGraph(permissive)
    expect(g.learnable).toHaveLength(1)
    expect(g.paramCount).toBe(6)
  })
})

describe("parameters", () => {
  it("BatchNorm: three statistic blobs with lr_mult 0 added; a non-zero lr_mult is rejected", () => {
    const g = buildNetGraph(net(input("a", [2, 5, 3, 3]), { name: "bn", type: "BatchNorm", bottom: ["a"], top: ["a"] }))
    expect(layer(g, "bn").paramShapes).toEqual([[5], [5], [1]])
    expect(layer(g, "bn").param.param).toEqual([{ lr_mult: 0 }, { lr_mult: 0 }, { lr_mult: 0 }])
    expect(g.learnable.map((p) => [p.lrMult, p.decayMult])).toEqual([[0, 1], [0, 1], [0, 1]])
    expect(() =>
      buildNetGraph(net(input("a", [2, 5]), { name: "bn", type: "BatchNorm", bottom: ["a"], top: ["b"], param: [{ lr_mult: 1 }] }))
    ).toThrow(/layer 'bn'.*batch normalization statistics/)
  })

  it("PReLU, Scale with bias, Bias, Deconvolution, Embed", () => {
    const g = buildNetGraph(
      net(
        input("a", [2, 4, 5, 5]),
        { name: "prelu", type: "PReLU", bottom: ["a"], top: ["p"] },
        { name: "prelu_s", type: "PReLU", bottom: ["p"], top: ["ps"], prelu_param: { channel_shared: true } },
        { name: "scale", type: "Scale", bottom: ["ps"], top: ["s"], scale_param: { bias_term: true } },
        { name: "bias", type: "Bias", bottom: ["s"], top: ["b"], bias_param: { axis: 2, num_axes: 2 } },
        { name: "deconv", type: "Deconvolution", bottom: ["b"], top: ["d"], convolution_param: { num_output: 6, kernel_size: [4], stride: [2], pad: [1], group: 2 } },
        input("ids", [3, 7]),
        { name: "embed", type: "Embed", bottom: ["ids"], top: ["e"], embed_param: { num_output: 8, input_dim: 100 } }
      )
    )
    expect(layer(g, "prelu").paramShapes).toEqual([[4]])
    expect(layer(g, "prelu_s").paramShapes).toEqual([[]])
    expect(layer(g, "scale").paramShapes).toEqual([[4], [4]])
    expect(layer(g, "bias").paramShapes).toEqual([[5, 5]])
    // Deconvolution: out = s(in−1) + k − 2p = 2·4 + 4 − 2 = 10; weight (in, out/group, k, k).
    expect(shape(g, "d")).toEqual([2, 6, 10, 10])
    expect(layer(g, "deconv").paramShapes).toEqual([[4, 3, 4, 4], [6]])
    expect(shape(g, "e")).toEqual([3, 7, 8])
    expect(layer(g, "embed").paramShapes).toEqual([[100, 8], [8]])
    expect(g.paramCount).toBe(4 + 1 + 8 + 25 + 4 * 3 * 16 + 6 + 800 + 8)
  })

  it("lr_mult / decay_mult default to 1; force_backward sets every parameter's propagate_down", () => {
    const base = net(
      input("a", [2, 3]),
      { name: "ip", type: "InnerProduct", bottom: ["a"], top: ["b"], param: [{ lr_mult: 0 }, { lr_mult: 0 }], inner_product_param: { num_output: 3 } },
      { name: "loss", type: "EuclideanLoss", bottom: ["b", "a"], top: ["loss"] }
    )
    const g = buildNetGraph(base)
    expect(layer(g, "ip").paramPropagateDown).toEqual([false, false])
    expect(layer(g, "ip").needBackward).toBe(false)
    expect(g.learnable.map((p) => [p.lrMult, p.decayMult])).toEqual([[0, 1], [0, 1]])
    const forced = buildNetGraph({ ...base, force_backward: true })
    expect(layer(forced, "ip").paramPropagateDown).toEqual([true, true])
    // EuclideanLoss allows force_backward on both bottoms (Caffe overrides LossLayer's label rule).
    expect(layer(forced, "loss").bottomNeedBackward).toEqual([true, true])
  })
})

describe("force_backward reaches every bottom Layer::AllowForceBackward allows", () => {
  const forced = (...layers: LayerParameter[]) => buildNetGraph({ ...net(...layers), force_backward: true })
  const ip = (name: string, bottom: string, top: string, n = 4): LayerParameter => ({
    name,
    type: "InnerProduct",
    bottom: [bottom],
    top: [top],
    inner_product_param: { num_output: n }
  })

  it("EuclideanLoss: both bottoms (Caffe overrides LossLayer's rule); other losses: never the label", () => {
    const g = forced(
      input("a", [2, 3]),
      input("b", [2, 3]),
      input("label", [2]),
      { name: "l2", type: "EuclideanLoss", bottom: ["a", "b"], top: ["l2"] },
      { name: "sm", type: "SoftmaxWithLoss", bottom: ["a", "label"], top: ["sm"] },
      { name: "sig", type: "SigmoidCrossEntropyLoss", bottom: ["a", "b"], top: ["sig"] },
      { name: "pair", type: "ContrastiveLoss", bottom: ["a", "b", "label"], top: ["pair"] }
    )
    expect(layer(g, "l2").bottomNeedBackward).toEqual([true, true])
    expect(layer(g, "sm").bottomNeedBackward).toEqual([true, false])
    expect(layer(g, "sig").bottomNeedBackward).toEqual([true, false])
    expect(layer(g, "pair").bottomNeedBackward).toEqual([true, true, false])
    // Without force_backward nothing here needs a gradient (Input blobs have none).
    const plain = buildNetGraph({ ...net(input("a", [2, 3]), input("b", [2, 3]), { name: "l2", type: "EuclideanLoss", bottom: ["a", "b"], top: ["l2"] }) })
    expect(layer(plain, "l2").bottomNeedBackward).toEqual([false, false])
  })

  it("InfogainLoss: the predictions only, neither the label nor H", () => {
    const g = forced(
      input("p", [2, 3]),
      input("label", [2]),
      input("H", [1, 1, 3, 3]),
      { name: "info", type: "InfogainLoss", bottom: ["p", "label", "H"], top: ["info"] }
    )
    expect(layer(g, "info").bottomNeedBackward).toEqual([true, false, false])
  })

  it("Accuracy's label, Embed's indices, BatchReindex's index and Filter's selector are never forced", () => {
    const g = forced(
      input("x", [4, 3]),
      input("label", [4]),
      input("ids", [4]),
      input("perm", [2]),
      input("keep", [4, 1]),
      ip("fc", "x", "y"),
      { name: "acc", type: "Accuracy", bottom: ["y", "label"], top: ["acc"] },
      { name: "emb", type: "Embed", bottom: ["ids"], top: ["e"], embed_param: { num_output: 2, input_dim: 5 } },
      { name: "reindex", type: "BatchReindex", bottom: ["x", "perm"], top: ["r"] },
      { name: "filter", type: "Filter", bottom: ["x", "y", "keep"], top: ["fx", "fy"] },
      { name: "loss", type: "EuclideanLoss", bottom: ["fx", "x"], top: ["loss"] }
    )
    expect(layer(g, "acc").bottomNeedBackward).toEqual([true, false])
    expect(layer(g, "emb").bottomNeedBackward).toEqual([false])
    expect(layer(g, "emb").needBackward).toBe(true)
    expect(layer(g, "emb").paramPropagateDown).toEqual([true, true])
    expect(layer(g, "reindex").bottomNeedBackward).toEqual([true, false])
    expect(layer(g, "filter").bottomNeedBackward).toEqual([true, true, false])
  })

  it("RNN / LSTM never force the sequence continuation indicators; LSTMUnit its bottom 2", () => {
    const recurrent = (type: string): LayerParameter => ({
      name: "rec",
      type,
      bottom: ["x", "cont"],
      top: ["h"],
      recurrent_param: { num_output: 3 }
    })
    for (const type of ["RNN", "LSTM"]) {
      const g = forced(input("x", [5, 2, 4]), input("cont", [5, 2]), recurrent(type))
      expect({ type, need: layer(g, "rec").bottomNeedBackward }).toEqual({ type, need: [true, false] })
    }
    const unit = forced(input("c", [1, 2, 3]), input("gates", [1, 2, 12]), input("cont", [1, 2]), {
      name: "unit",
      type: "LSTMUnit",
      bottom: ["c", "gates", "cont"],
      top: ["c1", "h1"]
    })
    expect(layer(unit, "unit").bottomNeedBackward).toEqual([true, true, false])
  })
})

describe("unsupportedLayers: \"unknown-shapes\" keeps Python layers for inspection", () => {
  it("the Python layer's tops and what depends on them are unknown; the rest is inferred", () => {
    const py = net(
      input("a", [2, 3]),
      { name: "ip", type: "InnerProduct", bottom: ["a"], top: ["h"], inner_product_param: { num_output: 4 } },
      { name: "py", type: "Python", bottom: ["h", "a"], top: ["p", "q"], python_param: { module: "m", layer: "L" } },
      { name: "relu", type: "ReLU", bottom: ["p"], top: ["p"] },
      { name: "sum", type: "Eltwise", bottom: ["p", "h"], top: ["s"] },
      { name: "ip2", type: "InnerProduct", bottom: ["a"], top: ["z"], inner_product_param: { num_output: 2 } }
    )
    expect(() => buildNetGraph(py)).toThrow(UnsupportedLayerError)
    expect(() => buildNetGraph(py, { unsupportedLayers: "error" })).toThrow(/layer 'py': type 'Python' is not supported/)
    const g = buildNetGraph(py, { unsupportedLayers: "unknown-shapes" })
    expect(g.unsupported.map((e) => [e.layer, e.type])).toEqual([["py", "Python"]])
    expect(layer(g, "py").unsupported).toBe(true)
    expect(layer(g, "ip").unsupported).toBe(false)
    expect(layer(g, "py").topShapes).toEqual([null, null])
    expect(layer(g, "py").paramShapes).toEqual([])
    expect(shape(g, "h")).toEqual([2, 4])
    expect(shape(g, "s")).toBeNull()
    expect(shape(g, "z")).toEqual([2, 2])
    expect(g.outputs).toEqual(["q", "s", "z"])
    // Its blobs (if any) are unknown, so the net's parameter count is too.
    expect(g.paramCount).toBeNull()
    // Unknown type names stay errors.
    const typo = net(input("a", [1]), { name: "x", type: "Pyhton", bottom: ["a"], top: ["b"] })
    expect(() => buildNetGraph(typo, { unsupportedLayers: "unknown-shapes" })).toThrow(/not a known Caffe layer type/)
  })

  zooIt("Caffe's linreg example: a Python loss with loss_weight 1 over two InnerProducts", () => {
    const g = buildNetGraph(zooNet("examples/pycaffe/linreg.prototxt"), { unsupportedLayers: "unknown-shapes" })
    expect(shape(g, "ipx")).toEqual([10, 10])
    expect(shape(g, "loss")).toBeNull()
    expect(layer(g, "loss").lossWeights).toEqual([1])
    expect(layer(g, "ipx").needBackward).toBe(true)
    expect(layer(g, "ipx").paramShapes).toEqual([[10, 6], [10]])
    expect(g.unsupported).toHaveLength(1)
  })
})
