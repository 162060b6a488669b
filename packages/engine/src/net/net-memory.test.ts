import { parsePrototxt, type NetParameter } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { Net } from "./net.js"

/**
 * A net that cannot fit is refused before its blobs are allocated (`num_output: 2000000` on an
 * 800-wide input: 12.8 GB of weights and gradients used to be allocated until the kernel killed the
 * process), naming the layer, the blob, the bytes and the limit.
 */
const net = (numOutput: number) =>
  parsePrototxt(
    "NetParameter",
    `name: "big"
layer { name: "data" type: "Input" top: "x" input_param { shape { dim: 64 dim: 800 } } }
layer { name: "ip1" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: ${numOutput} } }
`
  ) as NetParameter

describe("net memory", () => {
  it("ip1 with num_output 2000000 under a 4 GB limit: refused at its weights, before allocating", () => {
    const started = Date.now()
    expect(() => new Net(net(2_000_000), { maxMemoryBytes: 4e9 })).toThrow(
      "layer 'ip1' (InnerProduct): parameter blob 0 (2000000×800) needs 12.80 GB; the net needs 12.80 GB with it, over the limit of 4.00 GB"
    )
    expect(Date.now() - started).toBeLessThan(5000) // nothing of 12.8 GB was allocated
  })

  it("the limit defaults to DEEPSPARK_MAX_MEMORY (what --max-memory sets), else the machine's memory; a net under it builds", () => {
    const saved = process.env.DEEPSPARK_MAX_MEMORY
    process.env.DEEPSPARK_MAX_MEMORY = "1000000"
    try {
      // 64×800 input (410 kB) + weights 10×800 and bias 10 (64 kB) + top 64×10: under 1 MB.
      expect(new Net(net(10)).layers).toHaveLength(2)
      // 100 outputs: 640 kB of weights and gradients more, over 1 MB.
      expect(() => new Net(net(100))).toThrow(/layer 'ip1' \(InnerProduct\): parameter blob 0 \(100×800\) needs 640\.00 kB; .* over the limit of 1\.00 MB/)
    } finally {
      if (saved === undefined) delete process.env.DEEPSPARK_MAX_MEMORY
      else process.env.DEEPSPARK_MAX_MEMORY = saved
    }
  })
})
