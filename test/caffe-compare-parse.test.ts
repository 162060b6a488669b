import { describe, expect, it } from "vitest"
import { parseTimeOutput } from "../bench/caffe-compare.js"

// Lines as `caffe time` (glog) and `deepspark time` print them, then bash `times`.
const caffe = `I20261206 13:23:59.031222 19673 caffe.cpp:397] Average time per layer: 
I20261206 13:23:59.031229 19673 caffe.cpp:400]      mnist\tforward: 0.209067 ms.
I20261206 13:23:59.031229 19673 caffe.cpp:403]      mnist\tbackward: 0.00113333 ms.
I20261206 13:23:59.031234 19673 caffe.cpp:400]      conv1\tforward: 2.73277 ms.
I20261206 13:23:59.031239 19673 caffe.cpp:403]      conv1\tbackward: 8.69533 ms.
I20261206 13:23:59.031319 19673 caffe.cpp:408] Average Forward pass: 66.4924 ms.
I20261206 13:23:59.031355 19673 caffe.cpp:412] Average Forward-Backward: 143.133 ms.
0m0.010s 0m0.002s
1m2.500s 0m0.250s`

const deepspark = `I1206 13:23:54.100000 19395 net-options.ts:35] Use backend cpu: wasm simd128 + relaxed-simd FMA, gemm 4×8
I1206 13:23:54.160585 19395 time.ts:82]      conv1\tforward: 9.64403 ms.
I1206 13:23:54.160697 19395 time.ts:83]      conv1\tbackward: 1e-3 ms.
I1206 13:23:54.179332 19395 time.ts:87] Average Forward-Backward: 173.591 ms.`

describe("bench/caffe-compare parseTimeOutput", () => {
  it("reads Caffe's per-layer lines, the forward-backward average and the children's CPU time", () => {
    const r = parseTimeOutput(caffe)
    expect(r.fwdBwdMs).toBe(143.133)
    expect(r.cpuMs).toBeCloseTo(62_750, 6)
    expect(r.layers).toEqual([
      { name: "mnist", forwardMs: 0.209067, backwardMs: 0.00113333 },
      { name: "conv1", forwardMs: 2.73277, backwardMs: 8.69533 }
    ])
  })

  it("reads deepspark's lines and notes, without CPU time when no `times` line follows", () => {
    const r = parseTimeOutput(deepspark)
    expect(r.fwdBwdMs).toBe(173.591)
    expect(Number.isNaN(r.cpuMs)).toBe(true)
    expect(r.layers).toEqual([{ name: "conv1", forwardMs: 9.64403, backwardMs: 0.001 }])
    expect(r.notes).toEqual(["Use backend cpu: wasm simd128 + relaxed-simd FMA, gemm 4×8"])
  })

  it("names what is missing when the run printed no average", () => {
    expect(() => parseTimeOutput("I1206 time.ts:82]      conv1\tforward: 1 ms.")).toThrow(/Average Forward-Backward/)
  })
})
