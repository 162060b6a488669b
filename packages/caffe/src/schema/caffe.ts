/**
 * deepspark's descriptor of Caffe's protobuf schema, written from shared/docs/caffe-facts.md (§1, §1.1,
 * §1.2). Messages and fields the facts sheet does not number are marked `// not in facts sheet`: their
 * field NAMES follow Caffe (what prototxt files use); their numbers are our best knowledge of Caffe's and
 * matter only for binary files that carry those rare messages.
 *
 * Type references are fully qualified: nested enums are named "Parent.Enum" (e.g.
 * "PoolingParameter.PoolMethod"); a name that is neither a scalar nor an enum is a message.
 */
import type {
  EnumDescriptor,
  FieldDescriptor,
  FieldType,
  MessageDescriptor,
  ScalarType
} from "./descriptor.js"

// ---------------------------------------------------------------------------------------------------
// A small DSL: each field is one line, `opt` (optional), `rep` (repeated, unpacked), `pck` (repeated,
// packed). Types are resolved once all messages and enums are declared.

interface FieldSpec {
  readonly number: number
  readonly name: string
  readonly typeName: string
  readonly repeated: boolean
  readonly packed: boolean
  readonly default?: number | string | boolean
  readonly deprecated?: boolean
}

const opt = (
  number: number,
  name: string,
  typeName: string,
  dflt?: number | string | boolean,
  deprecated?: "deprecated"
): FieldSpec => ({
  number,
  name,
  typeName,
  repeated: false,
  packed: false,
  ...(dflt !== undefined ? { default: dflt } : {}),
  ...(deprecated ? { deprecated: true } : {})
})

/** Repeated, not packed. A default here is Caffe's per-element default (e.g. conv `stride` = 1). */
const rep = (
  number: number,
  name: string,
  typeName: string,
  dflt?: number | string | boolean,
  deprecated?: "deprecated"
): FieldSpec => ({ ...opt(number, name, typeName, dflt, deprecated), repeated: true })

const pck = (number: number, name: string, typeName: string): FieldSpec => ({
  number,
  name,
  typeName,
  repeated: true,
  packed: true
})

const messageSpecs: Array<readonly [string, ReadonlyArray<FieldSpec>]> = []
const enumSpecs: Array<EnumDescriptor> = []

const message = (name: string, ...fields: Array<FieldSpec>): void => {
  messageSpecs.push([name, fields])
}
const enumeration = (name: string, ...values: Array<readonly [string, number]>): void => {
  enumSpecs.push({ name, values })
}
/** Every layer parameter with an `engine` field has its own Engine enum in Caffe (DEFAULT/CAFFE/CUDNN). */
const engineEnum = (owner: string): string => {
  enumeration(`${owner}.Engine`, ["DEFAULT", 0], ["CAFFE", 1], ["CUDNN", 2])
  return `${owner}.Engine`
}

// ---------------------------------------------------------------------------------------------------
// §1 Core messages

enumeration("Phase", ["TRAIN", 0], ["TEST", 1])

message("BlobShape", pck(1, "dim", "int64"))

message(
  "BlobProto",
  opt(7, "shape", "BlobShape"),
  pck(5, "data", "float"),
  pck(6, "diff", "float"),
  pck(8, "double_data", "double"),
  pck(9, "double_diff", "double"),
  // Legacy 4-D dimensions: when any is present the blob is 4-D and `shape` is ignored.
  opt(1, "num", "int32", 0),
  opt(2, "channels", "int32", 0),
  opt(3, "height", "int32", 0),
  opt(4, "width", "int32", 0)
)

message("BlobProtoVector", rep(1, "blobs", "BlobProto"))

message(
  "Datum",
  opt(1, "channels", "int32"),
  opt(2, "height", "int32"),
  opt(3, "width", "int32"),
  // uint8 pixels in CHW order, or a whole JPEG/PNG file when `encoded`.
  opt(4, "data", "bytes"),
  opt(5, "label", "int32"),
  // NOT packed: Caffe writes tag 0x35 before every element.
  rep(6, "float_data", "float"),
  opt(7, "encoded", "bool", false)
)

enumeration("FillerParameter.VarianceNorm", ["FAN_IN", 0], ["FAN_OUT", 1], ["AVERAGE", 2])
message(
  "FillerParameter",
  // constant, gaussian, positive_unitball, uniform, xavier, msra, bilinear
  opt(1, "type", "string", "constant"),
  opt(2, "value", "float", 0),
  opt(3, "min", "float", 0),
  opt(4, "max", "float", 1),
  opt(5, "mean", "float", 0),
  opt(6, "std", "float", 1),
  // -1 = no sparsity
  opt(7, "sparse", "int32", -1),
  opt(8, "variance_norm", "FillerParameter.VarianceNorm", "FAN_IN")
)

message(
  "NetParameter",
  opt(1, "name", "string"),
  rep(3, "input", "string", undefined, "deprecated"),
  rep(8, "input_shape", "BlobShape"),
  // 4 values per input
  rep(4, "input_dim", "int32", undefined, "deprecated"),
  opt(5, "force_backward", "bool", false),
  opt(6, "state", "NetState"),
  opt(7, "debug_info", "bool", false),
  rep(100, "layer", "LayerParameter"),
  rep(2, "layers", "V1LayerParameter", undefined, "deprecated")
)

enumeration("SolverParameter.SnapshotFormat", ["HDF5", 0], ["BINARYPROTO", 1])
enumeration("SolverParameter.SolverMode", ["CPU", 0], ["GPU", 1])
enumeration(
  "SolverParameter.SolverType",
  ["SGD", 0],
  ["NESTEROV", 1],
  ["ADAGRAD", 2],
  ["RMSPROP", 3],
  ["ADADELTA", 4],
  ["ADAM", 5]
)
message(
  "SolverParameter",
  opt(24, "net", "string"),
  opt(25, "net_param", "NetParameter"),
  opt(1, "train_net", "string"),
  rep(2, "test_net", "string"),
  opt(21, "train_net_param", "NetParameter"),
  rep(22, "test_net_param", "NetParameter"),
  opt(26, "train_state", "NetState"),
  rep(27, "test_state", "NetState"),
  rep(3, "test_iter", "int32"),
  opt(4, "test_interval", "int32", 0),
  opt(19, "test_compute_loss", "bool", false),
  opt(32, "test_initialization", "bool", true),
  opt(5, "base_lr", "float"),
  opt(6, "display", "int32"),
  opt(33, "average_loss", "int32", 1),
  opt(7, "max_iter", "int32"),
  opt(36, "iter_size", "int32", 1),
  opt(8, "lr_policy", "string"),
  opt(9, "gamma", "float"),
  opt(10, "power", "float"),
  opt(11, "momentum", "float"),
  opt(12, "weight_decay", "float"),
  opt(29, "regularization_type", "string", "L2"),
  opt(13, "stepsize", "int32"),
  rep(34, "stepvalue", "int32"),
  opt(35, "clip_gradients", "float", -1),
  opt(14, "snapshot", "int32", 0),
  opt(15, "snapshot_prefix", "string"),
  opt(16, "snapshot_diff", "bool", false),
  opt(37, "snapshot_format", "SolverParameter.SnapshotFormat", "BINARYPROTO"),
  opt(17, "solver_mode", "SolverParameter.SolverMode", "GPU"),
  opt(18, "device_id", "int32", 0),
  opt(20, "random_seed", "int64", -1),
  opt(40, "type", "string", "SGD"),
  opt(31, "delta", "float", 1e-8),
  opt(39, "momentum2", "float", 0.999),
  opt(38, "rms_decay", "float", 0.99),
  opt(23, "debug_info", "bool", false),
  opt(28, "snapshot_after_train", "bool", true),
  opt(30, "solver_type", "SolverParameter.SolverType", "SGD", "deprecated"),
  opt(41, "layer_wise_reduce", "bool", true),
  // comma-separated lists are allowed inside one value
  rep(42, "weights", "string")
)

message(
  "SolverState",
  opt(1, "iter", "int32"),
  opt(2, "learned_net", "string"),
  rep(3, "history", "BlobProto"),
  opt(4, "current_step", "int32", 0)
)

message("NetState", opt(1, "phase", "Phase", "TEST"), opt(2, "level", "int32", 0), rep(3, "stage", "string"))

message(
  "NetStateRule",
  opt(1, "phase", "Phase"),
  opt(2, "min_level", "int32"),
  opt(3, "max_level", "int32"),
  rep(4, "stage", "string"),
  rep(5, "not_stage", "string")
)

enumeration("ParamSpec.DimCheckMode", ["STRICT", 0], ["PERMISSIVE", 1])
message(
  "ParamSpec",
  opt(1, "name", "string"),
  opt(2, "share_mode", "ParamSpec.DimCheckMode"),
  opt(3, "lr_mult", "float", 1.0),
  opt(4, "decay_mult", "float", 1.0)
)

message(
  "LayerParameter",
  opt(1, "name", "string"),
  opt(2, "type", "string"),
  rep(3, "bottom", "string"),
  rep(4, "top", "string"),
  opt(10, "phase", "Phase"),
  rep(5, "loss_weight", "float"),
  rep(6, "param", "ParamSpec"),
  rep(7, "blobs", "BlobProto"),
  rep(11, "propagate_down", "bool"),
  rep(8, "include", "NetStateRule"),
  rep(9, "exclude", "NetStateRule"),
  opt(100, "transform_param", "TransformationParameter"),
  opt(101, "loss_param", "LossParameter"),
  opt(102, "accuracy_param", "AccuracyParameter"),
  opt(103, "argmax_param", "ArgMaxParameter"),
  opt(139, "batch_norm_param", "BatchNormParameter"),
  opt(141, "bias_param", "BiasParameter"),
  opt(148, "clip_param", "ClipParameter"),
  opt(104, "concat_param", "ConcatParameter"),
  opt(105, "contrastive_loss_param", "ContrastiveLossParameter"),
  opt(106, "convolution_param", "ConvolutionParameter"),
  opt(144, "crop_param", "CropParameter"),
  opt(107, "data_param", "DataParameter"),
  opt(108, "dropout_param", "DropoutParameter"),
  opt(109, "dummy_data_param", "DummyDataParameter"),
  opt(110, "eltwise_param", "EltwiseParameter"),
  opt(140, "elu_param", "ELUParameter"),
  opt(137, "embed_param", "EmbedParameter"),
  opt(111, "exp_param", "ExpParameter"),
  opt(135, "flatten_param", "FlattenParameter"),
  opt(112, "hdf5_data_param", "HDF5DataParameter"),
  opt(113, "hdf5_output_param", "HDF5OutputParameter"),
  opt(114, "hinge_loss_param", "HingeLossParameter"),
  opt(115, "image_data_param", "ImageDataParameter"),
  opt(116, "infogain_loss_param", "InfogainLossParameter"),
  opt(117, "inner_product_param", "InnerProductParameter"),
  opt(143, "input_param", "InputParameter"),
  opt(134, "log_param", "LogParameter"),
  opt(118, "lrn_param", "LRNParameter"),
  opt(119, "memory_data_param", "MemoryDataParameter"),
  opt(120, "mvn_param", "MVNParameter"),
  opt(145, "parameter_param", "ParameterParameter"),
  opt(121, "pooling_param", "PoolingParameter"),
  opt(122, "power_param", "PowerParameter"),
  opt(131, "prelu_param", "PReLUParameter"),
  opt(130, "python_param", "PythonParameter"),
  opt(146, "recurrent_param", "RecurrentParameter"),
  opt(136, "reduction_param", "ReductionParameter"),
  opt(123, "relu_param", "ReLUParameter"),
  opt(133, "reshape_param", "ReshapeParameter"),
  opt(142, "scale_param", "ScaleParameter"),
  opt(124, "sigmoid_param", "SigmoidParameter"),
  opt(125, "softmax_param", "SoftmaxParameter"),
  opt(132, "spp_param", "SPPParameter"),
  opt(126, "slice_param", "SliceParameter"),
  opt(147, "swish_param", "SwishParameter"),
  opt(127, "tanh_param", "TanHParameter"),
  opt(128, "threshold_param", "ThresholdParameter"),
  opt(138, "tile_param", "TileParameter"),
  opt(129, "window_data_param", "WindowDataParameter")
)

// ---------------------------------------------------------------------------------------------------
// §1.1 Layer parameter messages

message(
  "TransformationParameter",
  opt(1, "scale", "float", 1),
  opt(2, "mirror", "bool", false),
  opt(3, "crop_size", "uint32", 0),
  opt(4, "mean_file", "string"),
  // one value, or one per channel; not together with mean_file
  rep(5, "mean_value", "float"),
  opt(6, "force_color", "bool", false),
  opt(7, "force_gray", "bool", false)
)

enumeration("LossParameter.NormalizationMode", ["FULL", 0], ["VALID", 1], ["BATCH_SIZE", 2], ["NONE", 3])
message(
  "LossParameter",
  // only presence matters
  opt(1, "ignore_label", "int32"),
  opt(3, "normalization", "LossParameter.NormalizationMode", "VALID"),
  // if `normalization` is unset: true = VALID, false = BATCH_SIZE
  opt(2, "normalize", "bool", undefined, "deprecated")
)

message(
  "AccuracyParameter",
  opt(1, "top_k", "uint32", 1),
  opt(2, "axis", "int32", 1),
  opt(3, "ignore_label", "int32")
)

// not in facts sheet
message(
  "ArgMaxParameter",
  opt(1, "out_max_val", "bool", false),
  opt(2, "top_k", "uint32", 1),
  opt(3, "axis", "int32")
)

message(
  "ConcatParameter",
  opt(2, "axis", "int32", 1),
  opt(1, "concat_dim", "uint32", 1, "deprecated")
)

message(
  "BatchNormParameter",
  // unset: true in TEST, false in TRAIN (presence matters)
  opt(1, "use_global_stats", "bool"),
  opt(2, "moving_average_fraction", "float", 0.999),
  opt(3, "eps", "float", 1e-5)
)

message(
  "BiasParameter",
  opt(1, "axis", "int32", 1),
  opt(2, "num_axes", "int32", 1),
  // absent = constant 0
  opt(3, "filler", "FillerParameter")
)

// not in facts sheet
message("ClipParameter", opt(1, "min", "float"), opt(2, "max", "float"))

message(
  "ContrastiveLossParameter",
  opt(1, "margin", "float", 1.0),
  opt(2, "legacy_version", "bool", false)
)

const convEngine = engineEnum("ConvolutionParameter")
message(
  "ConvolutionParameter",
  opt(1, "num_output", "uint32"),
  opt(2, "bias_term", "bool", true),
  rep(3, "pad", "uint32", 0),
  rep(4, "kernel_size", "uint32"),
  rep(6, "stride", "uint32", 1),
  rep(18, "dilation", "uint32", 1),
  opt(9, "pad_h", "uint32", 0),
  opt(10, "pad_w", "uint32", 0),
  opt(11, "kernel_h", "uint32"),
  opt(12, "kernel_w", "uint32"),
  opt(13, "stride_h", "uint32"),
  opt(14, "stride_w", "uint32"),
  opt(5, "group", "uint32", 1),
  opt(7, "weight_filler", "FillerParameter"),
  opt(8, "bias_filler", "FillerParameter"),
  opt(15, "engine", convEngine, "DEFAULT"),
  opt(16, "axis", "int32", 1),
  opt(17, "force_nd_im2col", "bool", false)
)

// not in facts sheet
message("CropParameter", opt(1, "axis", "int32", 2), rep(2, "offset", "uint32"))

enumeration("DataParameter.DB", ["LEVELDB", 0], ["LMDB", 1])
message(
  "DataParameter",
  opt(1, "source", "string"),
  opt(4, "batch_size", "uint32"),
  opt(7, "rand_skip", "uint32", 0),
  opt(8, "backend", "DataParameter.DB", "LEVELDB"),
  opt(2, "scale", "float", 1, "deprecated"),
  opt(3, "mean_file", "string", undefined, "deprecated"),
  opt(5, "crop_size", "uint32", 0, "deprecated"),
  opt(6, "mirror", "bool", false, "deprecated"),
  opt(9, "force_encoded_color", "bool", false),
  opt(10, "prefetch", "uint32", 4)
)

message("DropoutParameter", opt(1, "dropout_ratio", "float", 0.5))

message(
  "DummyDataParameter",
  rep(1, "data_filler", "FillerParameter"),
  rep(6, "shape", "BlobShape"),
  rep(2, "num", "uint32", undefined, "deprecated"),
  rep(3, "channels", "uint32", undefined, "deprecated"),
  rep(4, "height", "uint32", undefined, "deprecated"),
  rep(5, "width", "uint32", undefined, "deprecated")
)

enumeration("EltwiseParameter.EltwiseOp", ["PROD", 0], ["SUM", 1], ["MAX", 2])
message(
  "EltwiseParameter",
  opt(1, "operation", "EltwiseParameter.EltwiseOp", "SUM"),
  // SUM only
  rep(2, "coeff", "float"),
  opt(3, "stable_prod_grad", "bool", true)
)

message("ELUParameter", opt(1, "alpha", "float", 1))

// not in facts sheet
message(
  "EmbedParameter",
  opt(1, "num_output", "uint32"),
  opt(2, "input_dim", "uint32"),
  opt(3, "bias_term", "bool", true),
  opt(4, "weight_filler", "FillerParameter"),
  opt(5, "bias_filler", "FillerParameter")
)

// not in facts sheet (y = base ^ (shift + scale·x); base -1 = e)
message("ExpParameter", opt(1, "base", "float", -1.0), opt(2, "scale", "float", 1.0), opt(3, "shift", "float", 0.0))

message("FlattenParameter", opt(1, "axis", "int32", 1), opt(2, "end_axis", "int32", -1))

message(
  "HDF5DataParameter",
  // text file listing .h5 paths
  opt(1, "source", "string"),
  opt(2, "batch_size", "uint32"),
  opt(3, "shuffle", "bool", false)
)

// not in facts sheet
message("HDF5OutputParameter", opt(1, "file_name", "string"))

// not in facts sheet
enumeration("HingeLossParameter.Norm", ["L1", 1], ["L2", 2])
message("HingeLossParameter", opt(1, "norm", "HingeLossParameter.Norm", "L1"))

message(
  "ImageDataParameter",
  opt(1, "source", "string"),
  opt(4, "batch_size", "uint32", 1),
  opt(7, "rand_skip", "uint32", 0),
  opt(8, "shuffle", "bool", false),
  opt(9, "new_height", "uint32", 0),
  opt(10, "new_width", "uint32", 0),
  opt(11, "is_color", "bool", true),
  opt(2, "scale", "float", 1, "deprecated"),
  opt(3, "mean_file", "string", undefined, "deprecated"),
  opt(5, "crop_size", "uint32", 0, "deprecated"),
  opt(6, "mirror", "bool", false, "deprecated"),
  opt(12, "root_folder", "string", "")
)

// not in facts sheet
message("InfogainLossParameter", opt(1, "source", "string"), opt(2, "axis", "int32", 1))

message(
  "InnerProductParameter",
  opt(1, "num_output", "uint32"),
  opt(2, "bias_term", "bool", true),
  opt(3, "weight_filler", "FillerParameter"),
  opt(4, "bias_filler", "FillerParameter"),
  opt(5, "axis", "int32", 1),
  opt(6, "transpose", "bool", false)
)

// one shape for all tops, or one per top
message("InputParameter", rep(1, "shape", "BlobShape"))

// not in facts sheet (y = log_base(shift + scale·x); base -1 = e)
message("LogParameter", opt(1, "base", "float", -1.0), opt(2, "scale", "float", 1.0), opt(3, "shift", "float", 0.0))

enumeration("LRNParameter.NormRegion", ["ACROSS_CHANNELS", 0], ["WITHIN_CHANNEL", 1])
const lrnEngine = engineEnum("LRNParameter")
message(
  "LRNParameter",
  opt(1, "local_size", "uint32", 5),
  opt(2, "alpha", "float", 1.0),
  opt(3, "beta", "float", 0.75),
  opt(4, "norm_region", "LRNParameter.NormRegion", "ACROSS_CHANNELS"),
  opt(5, "k", "float", 1.0),
  opt(6, "engine", lrnEngine, "DEFAULT")
)

message(
  "MemoryDataParameter",
  opt(1, "batch_size", "uint32"),
  opt(2, "channels", "uint32"),
  opt(3, "height", "uint32"),
  opt(4, "width", "uint32")
)

// not in facts sheet
message(
  "MVNParameter",
  opt(1, "normalize_variance", "bool", true),
  opt(2, "across_channels", "bool", false),
  opt(3, "eps", "float", 1e-9)
)

// not in facts sheet
message("ParameterParameter", opt(1, "shape", "BlobShape"))

enumeration("PoolingParameter.PoolMethod", ["MAX", 0], ["AVE", 1], ["STOCHASTIC", 2])
enumeration("PoolingParameter.RoundMode", ["CEIL", 0], ["FLOOR", 1])
const poolEngine = engineEnum("PoolingParameter")
message(
  "PoolingParameter",
  opt(1, "pool", "PoolingParameter.PoolMethod", "MAX"),
  opt(4, "pad", "uint32", 0),
  opt(9, "pad_h", "uint32", 0),
  opt(10, "pad_w", "uint32", 0),
  opt(2, "kernel_size", "uint32"),
  opt(5, "kernel_h", "uint32"),
  opt(6, "kernel_w", "uint32"),
  opt(3, "stride", "uint32", 1),
  opt(7, "stride_h", "uint32"),
  opt(8, "stride_w", "uint32"),
  opt(11, "engine", poolEngine, "DEFAULT"),
  opt(12, "global_pooling", "bool", false),
  opt(13, "round_mode", "PoolingParameter.RoundMode", "CEIL")
)

message("PowerParameter", opt(1, "power", "float", 1.0), opt(2, "scale", "float", 1.0), opt(3, "shift", "float", 0.0))

message(
  "PReLUParameter",
  // absent = constant 0.25
  opt(1, "filler", "FillerParameter"),
  opt(2, "channel_shared", "bool", false)
)

// not in facts sheet
message(
  "PythonParameter",
  opt(1, "module", "string"),
  opt(2, "layer", "string"),
  opt(3, "param_str", "string", ""),
  opt(4, "share_in_parallel", "bool", false)
)

// not in facts sheet
message(
  "RecurrentParameter",
  opt(1, "num_output", "uint32", 0),
  opt(2, "weight_filler", "FillerParameter"),
  opt(3, "bias_filler", "FillerParameter"),
  opt(4, "debug_info", "bool", false),
  opt(5, "expose_hidden", "bool", false)
)

// not in facts sheet
enumeration("ReductionParameter.ReductionOp", ["SUM", 1], ["ASUM", 2], ["SUMSQ", 3], ["MEAN", 4])
message(
  "ReductionParameter",
  opt(1, "operation", "ReductionParameter.ReductionOp", "SUM"),
  opt(2, "axis", "int32", 0),
  opt(3, "coeff", "float", 1.0)
)

const reluEngine = engineEnum("ReLUParameter")
message("ReLUParameter", opt(1, "negative_slope", "float", 0), opt(2, "engine", reluEngine, "DEFAULT"))

message(
  "ReshapeParameter",
  opt(1, "shape", "BlobShape"),
  opt(2, "axis", "int32", 0),
  opt(3, "num_axes", "int32", -1)
)

message(
  "ScaleParameter",
  opt(1, "axis", "int32", 1),
  opt(2, "num_axes", "int32", 1),
  // absent = constant 1
  opt(3, "filler", "FillerParameter"),
  opt(4, "bias_term", "bool", false),
  // absent = constant 0
  opt(5, "bias_filler", "FillerParameter")
)

const sigmoidEngine = engineEnum("SigmoidParameter")
message("SigmoidParameter", opt(1, "engine", sigmoidEngine, "DEFAULT"))

message(
  "SliceParameter",
  opt(3, "axis", "int32", 1),
  rep(2, "slice_point", "uint32"),
  opt(1, "slice_dim", "uint32", 1, "deprecated")
)

const softmaxEngine = engineEnum("SoftmaxParameter")
message("SoftmaxParameter", opt(1, "engine", softmaxEngine, "DEFAULT"), opt(2, "axis", "int32", 1))

// not in facts sheet
message("SwishParameter", opt(1, "beta", "float", 1))

const tanhEngine = engineEnum("TanHParameter")
message("TanHParameter", opt(1, "engine", tanhEngine, "DEFAULT"))

// not in facts sheet
message("TileParameter", opt(1, "axis", "int32", 1), opt(2, "tiles", "int32"))

message("ThresholdParameter", opt(1, "threshold", "float", 0))

// not in facts sheet
message(
  "WindowDataParameter",
  opt(1, "source", "string"),
  opt(2, "scale", "float", 1),
  opt(3, "mean_file", "string"),
  opt(4, "batch_size", "uint32"),
  opt(5, "crop_size", "uint32", 0),
  opt(6, "mirror", "bool", false),
  opt(7, "fg_threshold", "float", 0.5),
  opt(8, "bg_threshold", "float", 0.5),
  opt(9, "fg_fraction", "float", 0.25),
  opt(10, "context_pad", "uint32", 0),
  // "warp" or "square"
  opt(11, "crop_mode", "string", "warp"),
  opt(12, "cache_images", "bool", false),
  opt(13, "root_folder", "string", "")
)

// not in facts sheet
enumeration("SPPParameter.PoolMethod", ["MAX", 0], ["AVE", 1], ["STOCHASTIC", 2])
const sppEngine = engineEnum("SPPParameter")
message(
  "SPPParameter",
  opt(1, "pyramid_height", "uint32"),
  opt(2, "pool", "SPPParameter.PoolMethod", "MAX"),
  opt(6, "engine", sppEngine, "DEFAULT")
)

// ---------------------------------------------------------------------------------------------------
// §1.2 Legacy layer formats. V1 = NetParameter.layers (field 2); V0 = `layers { layer { … } }`.

// Enum numbers listed in the facts sheet: ACCURACY=1, CONVOLUTION=4, DATA=5, INNER_PRODUCT=14,
// POOLING=17, RELU=18, SOFTMAX_LOSS=21; the others are not in the facts sheet.
enumeration(
  "V1LayerParameter.LayerType",
  ["NONE", 0],
  ["ABSVAL", 35],
  ["ACCURACY", 1],
  ["ARGMAX", 30],
  ["BNLL", 2],
  ["CONCAT", 3],
  ["CONTRASTIVE_LOSS", 37],
  ["CONVOLUTION", 4],
  ["DATA", 5],
  ["DECONVOLUTION", 39],
  ["DROPOUT", 6],
  ["DUMMY_DATA", 32],
  ["EUCLIDEAN_LOSS", 7],
  ["ELTWISE", 25],
  ["EXP", 38],
  ["FLATTEN", 8],
  ["HDF5_DATA", 9],
  ["HDF5_OUTPUT", 10],
  ["HINGE_LOSS", 28],
  ["IM2COL", 11],
  ["IMAGE_DATA", 12],
  ["INFOGAIN_LOSS", 13],
  ["INNER_PRODUCT", 14],
  ["LRN", 15],
  ["MEMORY_DATA", 29],
  ["MULTINOMIAL_LOGISTIC_LOSS", 16],
  ["MVN", 34],
  ["POOLING", 17],
  ["POWER", 26],
  ["RELU", 18],
  ["SIGMOID", 19],
  ["SIGMOID_CROSS_ENTROPY_LOSS", 27],
  ["SILENCE", 36],
  ["SOFTMAX", 20],
  ["SOFTMAX_LOSS", 21],
  ["SPLIT", 22],
  ["SLICE", 33],
  ["TANH", 23],
  ["WINDOW_DATA", 24],
  ["THRESHOLD", 31]
)
enumeration("V1LayerParameter.DimCheckMode", ["STRICT", 0], ["PERMISSIVE", 1])
message(
  "V1LayerParameter",
  rep(2, "bottom", "string"),
  rep(3, "top", "string"),
  opt(4, "name", "string"),
  rep(32, "include", "NetStateRule"),
  rep(33, "exclude", "NetStateRule"),
  opt(5, "type", "V1LayerParameter.LayerType"),
  rep(6, "blobs", "BlobProto"),
  rep(1001, "param", "string"),
  rep(1002, "blob_share_mode", "V1LayerParameter.DimCheckMode"),
  rep(7, "blobs_lr", "float"),
  rep(8, "weight_decay", "float"),
  rep(35, "loss_weight", "float"),
  opt(27, "accuracy_param", "AccuracyParameter"),
  opt(23, "argmax_param", "ArgMaxParameter"),
  opt(9, "concat_param", "ConcatParameter"),
  opt(40, "contrastive_loss_param", "ContrastiveLossParameter"),
  opt(10, "convolution_param", "ConvolutionParameter"),
  opt(11, "data_param", "DataParameter"),
  opt(12, "dropout_param", "DropoutParameter"),
  opt(26, "dummy_data_param", "DummyDataParameter"),
  opt(24, "eltwise_param", "EltwiseParameter"),
  opt(41, "exp_param", "ExpParameter"),
  opt(13, "hdf5_data_param", "HDF5DataParameter"),
  opt(14, "hdf5_output_param", "HDF5OutputParameter"),
  opt(29, "hinge_loss_param", "HingeLossParameter"),
  opt(15, "image_data_param", "ImageDataParameter"),
  opt(16, "infogain_loss_param", "InfogainLossParameter"),
  opt(17, "inner_product_param", "InnerProductParameter"),
  opt(18, "lrn_param", "LRNParameter"),
  opt(22, "memory_data_param", "MemoryDataParameter"),
  opt(34, "mvn_param", "MVNParameter"),
  opt(19, "pooling_param", "PoolingParameter"),
  opt(21, "power_param", "PowerParameter"),
  opt(30, "relu_param", "ReLUParameter"),
  opt(38, "sigmoid_param", "SigmoidParameter"),
  opt(39, "softmax_param", "SoftmaxParameter"),
  opt(31, "slice_param", "SliceParameter"),
  opt(37, "tanh_param", "TanHParameter"),
  opt(25, "threshold_param", "ThresholdParameter"),
  opt(20, "window_data_param", "WindowDataParameter"),
  opt(36, "transform_param", "TransformationParameter"),
  opt(42, "loss_param", "LossParameter"),
  // the V0 layer this V1 layer wraps (`layers { layer { … } }`)
  opt(1, "layer", "V0LayerParameter")
)

// V0: the whole message is not in the facts sheet (names follow Caffe's V0 format; numbers are our best
// knowledge). `type` is a string ("conv", "pool", "innerproduct", "padding", …).
enumeration("V0LayerParameter.PoolMethod", ["MAX", 0], ["AVE", 1], ["STOCHASTIC", 2])
message(
  "V0LayerParameter",
  opt(1, "name", "string"),
  opt(2, "type", "string"),
  opt(3, "num_output", "uint32"),
  opt(4, "biasterm", "bool", true),
  opt(5, "weight_filler", "FillerParameter"),
  opt(6, "bias_filler", "FillerParameter"),
  opt(7, "pad", "uint32", 0),
  opt(8, "kernelsize", "uint32"),
  opt(9, "group", "uint32", 1),
  opt(10, "stride", "uint32", 1),
  opt(11, "pool", "V0LayerParameter.PoolMethod", "MAX"),
  opt(12, "dropout_ratio", "float", 0.5),
  opt(13, "local_size", "uint32", 5),
  opt(14, "alpha", "float", 1),
  opt(15, "beta", "float", 0.75),
  opt(22, "k", "float", 1),
  opt(16, "source", "string"),
  opt(17, "scale", "float", 1),
  opt(18, "meanfile", "string"),
  opt(19, "batchsize", "uint32"),
  opt(20, "cropsize", "uint32", 0),
  opt(21, "mirror", "bool", false),
  rep(50, "blobs", "BlobProto"),
  rep(51, "blobs_lr", "float"),
  rep(52, "weight_decay", "float"),
  opt(53, "rand_skip", "uint32", 0),
  opt(54, "det_fg_threshold", "float", 0.5),
  opt(55, "det_bg_threshold", "float", 0.5),
  opt(56, "det_fg_fraction", "float", 0.25),
  opt(58, "det_context_pad", "uint32", 0),
  opt(59, "det_crop_mode", "string", "warp"),
  opt(60, "new_num", "int32", 0),
  opt(61, "new_channels", "int32", 0),
  opt(62, "new_height", "int32", 0),
  opt(63, "new_width", "int32", 0),
  opt(64, "shuffle_images", "bool", false),
  opt(65, "concat_dim", "uint32", 1),
  opt(1001, "hdf5_output_param", "HDF5OutputParameter")
)

// ---------------------------------------------------------------------------------------------------
// Resolution and lookup

const SCALARS: ReadonlySet<string> = new Set<ScalarType>([
  "double",
  "float",
  "int32",
  "int64",
  "uint32",
  "uint64",
  "bool",
  "string",
  "bytes"
])

export interface CaffeSchema {
  readonly messages: ReadonlyMap<string, MessageDescriptor>
  readonly enums: ReadonlyMap<string, EnumDescriptor>
}

const buildSchema = (): CaffeSchema => {
  const enums = new Map<string, EnumDescriptor>()
  for (const e of enumSpecs) {
    if (enums.has(e.name)) throw new Error(`caffe schema: duplicate enum ${e.name}`)
    enums.set(e.name, e)
  }
  const messageNames = new Set(messageSpecs.map(([name]) => name))
  const resolve = (owner: string, spec: FieldSpec): FieldType => {
    if (SCALARS.has(spec.typeName)) return { kind: "scalar", scalar: spec.typeName as ScalarType }
    if (enums.has(spec.typeName)) return { kind: "enum", enum: spec.typeName }
    if (messageNames.has(spec.typeName)) return { kind: "message", message: spec.typeName }
    throw new Error(`caffe schema: ${owner}.${spec.name} has unknown type ${spec.typeName}`)
  }
  const messages = new Map<string, MessageDescriptor>()
  for (const [name, specs] of messageSpecs) {
    if (messages.has(name)) throw new Error(`caffe schema: duplicate message ${name}`)
    const numbers = new Set<number>()
    const names = new Set<string>()
    const fields = specs.map((spec): FieldDescriptor => {
      if (numbers.has(spec.number) || names.has(spec.name)) {
        throw new Error(`caffe schema: duplicate field ${name}.${spec.name} = ${spec.number}`)
      }
      numbers.add(spec.number)
      names.add(spec.name)
      const type = resolve(name, spec)
      if (spec.packed && (type.kind === "message" || (type.kind === "scalar" && (type.scalar === "string" || type.scalar === "bytes")))) {
        throw new Error(`caffe schema: ${name}.${spec.name} cannot be packed`)
      }
      return {
        name: spec.name,
        number: spec.number,
        type,
        repeated: spec.repeated,
        packed: spec.packed,
        ...(spec.default !== undefined ? { default: spec.default } : {}),
        ...(spec.deprecated ? { deprecated: true } : {})
      }
    })
    messages.set(name, { name, fields })
  }
  return { messages, enums }
}

/** The whole schema: every message and enum, by name. */
export const caffeSchema: CaffeSchema = buildSchema()

const byName = new Map<string, ReadonlyMap<string, FieldDescriptor>>()
const byNumber = new Map<string, ReadonlyMap<number, FieldDescriptor>>()
for (const [name, desc] of caffeSchema.messages) {
  byName.set(name, new Map(desc.fields.map((f) => [f.name, f])))
  byNumber.set(name, new Map(desc.fields.map((f) => [f.number, f])))
}

/** The descriptor of a message; throws on an unknown name (a programming error, not bad input). */
export const messageType = (name: string): MessageDescriptor => {
  const m = caffeSchema.messages.get(name)
  if (!m) throw new Error(`caffe schema: unknown message ${name}`)
  return m
}

/** The descriptor of an enum ("Phase", "PoolingParameter.PoolMethod"); throws on an unknown name. */
export const enumType = (name: string): EnumDescriptor => {
  const e = caffeSchema.enums.get(name)
  if (!e) throw new Error(`caffe schema: unknown enum ${name}`)
  return e
}

/** A field of a message by its Caffe name, or undefined when the message has no such field. */
export const fieldByName = (messageName: string, fieldName: string): FieldDescriptor | undefined =>
  byName.get(messageType(messageName).name)!.get(fieldName)

/** A field of a message by its number, or undefined (an unknown field: readers skip it). */
export const fieldByNumber = (messageName: string, number: number): FieldDescriptor | undefined =>
  byNumber.get(messageType(messageName).name)!.get(number)

/** The number of an enum value's name, or undefined. */
export const enumNumber = (enumName: string, valueName: string): number | undefined =>
  enumType(enumName).values.find(([n]) => n === valueName)?.[1]

/** The name of an enum value's number, or undefined (proto2 treats unknown numbers as unknown fields). */
export const enumName = (enumName: string, value: number): string | undefined =>
  enumType(enumName).values.find(([, v]) => v === value)?.[0]
