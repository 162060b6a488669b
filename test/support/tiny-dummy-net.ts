/**
 * A net that needs no data files: DummyData x (4×3) and y (4×2), one InnerProduct, a Euclidean loss.
 * Tests that start `deepspark` processes train it to exercise the command, not the numerics.
 */
export const tinyDummyNet = `name: "tiny"
layer { name: "data" type: "DummyData" top: "x" top: "y"
  dummy_data_param { shape { dim: 4 dim: 3 } shape { dim: 4 dim: 2 }
    data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 0.5 } } }
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "p" inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "EuclideanLoss" bottom: "p" bottom: "y" top: "loss" }
`
