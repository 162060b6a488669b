/**
 * Direct convolution forward (stride 1, no dilation, over an unpadded or zero-bordered image) without
 * the im2col matrix: out[o, oh, ow] = Σ_k W[o, k] · image[c, oh + kh, ow + kw], k = (c·KH + kh)·KW + kw.
 *
 * It performs exactly the GEMM micro-kernel's operations for the same output element (gemm.wat.ts): one
 * accumulator per element starting at 0, multiply-adds in k order, a store after each kc block (the
 * first block written, later ones added to C). The im2col + GEMM path and this kernel therefore give
 * bit-identical outputs, and which one runs is a speed decision only.
 *
 * Register blocking: m ≤ 4 output channels × v ≤ 2 vectors of 4 output columns in one output row; each
 * image vector loaded serves m channels, each weight splat v vectors (the GEMM's 4 × 8 tile shape).
 * Output rows must be a multiple of 4 wide (the caller checks).
 */
import { type KernelFeatures, get, locals, madd, set } from "./wat.js"

const maxM = 4
const maxV = 2
/** Kernel widths with a fully unrolled row (0: the generic per-element loop only). */
const unrolledWidths = [0, 3, 5]

/**
 * (func $dconv_m_v_KW (w wcs img cs rs KH KW k0 kn first out ocs)): the m × 4v block of outputs at `out`
 * (channel stride ocs bytes) gets Σ over k in [k0, k0 + kn) — one kc block — stored (first) or added,
 * from the weights of its first channel at `w` (channel stride wcs bytes) and the image at `img` (its
 * top-left input pixel; channel stride cs, row stride rs bytes). Whole kernel rows inside the block run
 * unrolled when KW is the kernel's fixed width; partial rows at the block's ends one k at a time.
 */
const microWat = (f: KernelFeatures, m: number, nv: number, kwFixed: number): string => {
  const acc = (i: number, v: number) => `c${i}_${v}`
  const accNames: string[] = []
  for (let i = 0; i < m; i++) for (let v = 0; v < nv; v++) accNames.push(acc(i, v))
  const bNames = Array.from({ length: nv }, (_, v) => `b${v}`)
  const wr = (i: number) => `wr${i}`
  /** One k step at image pointer q and weight pointers wr_i, with `kw` as the immediate offset. */
  const step = (kw: number): string[] => {
    const lines: string[] = []
    for (let v = 0; v < nv; v++) lines.push(set(bNames[v]!, `(v128.load offset=${16 * v + 4 * kw} ${get("q")})`))
    for (let i = 0; i < m; i++) {
      lines.push(set("a0", `(v128.load32_splat offset=${4 * kw} ${get(wr(i))})`))
      for (let v = 0; v < nv; v++) lines.push(set(acc(i, v), madd(f, get("a0"), get(bNames[v]!), get(acc(i, v)))))
    }
    return lines
  }
  const advanceW = (bytes: string): string =>
    Array.from({ length: m }, (_, i) => set(wr(i), `(i32.add ${get(wr(i))} ${bytes})`)).join(" ")
  const stores = (mode: "first" | "add"): string => {
    const lines: string[] = []
    for (let i = 0; i < m; i++) {
      const row = i === 0 ? get("out") : `(i32.add ${get("out")} (i32.mul ${get("ocs")} (i32.const ${i})))`
      for (let v = 0; v < nv; v++) {
        const value = mode === "first" ? get(acc(i, v)) : `(f32x4.add (v128.load offset=${16 * v} ${row}) ${get(acc(i, v))})`
        lines.push(`(v128.store offset=${16 * v} ${row} ${value})`)
      }
    }
    return lines.join("\n    ")
  }
  const unrolledRow =
    kwFixed === 0
      ? ""
      : `(if (i32.and (i32.eqz ${get("kw")}) (i32.ge_s ${get("left")} (i32.const ${kwFixed})))
          (then
            ${Array.from({ length: kwFixed }, (_, kw) => step(kw).join("\n            ")).join("\n            ")}
            ${advanceW(`(i32.const ${4 * kwFixed})`)}
            (local.set $left (i32.sub ${get("left")} (i32.const ${kwFixed})))
            (local.set $kw ${get("KW")})
            (br $stepped)))`
  return `
(func $dconv_${m}_${nv}_${kwFixed} (param $w i32) (param $wcs i32) (param $img i32) (param $cs i32) (param $rs i32)
  (param $KH i32) (param $KW i32) (param $k0 i32) (param $kn i32) (param $first i32) (param $out i32) (param $ocs i32)
  ${locals("i32", ["c", "kh", "kw", "t", "q", "left", ...Array.from({ length: m }, (_, i) => wr(i))])}
  ${locals("v128", [...accNames, ...bNames, "a0"])}
  ;; k0 → (c, kh, kw); q = the image pointer of (c, kh, kw); wr_i = channel i's weight k0.
  (local.set $kw (i32.rem_u ${get("k0")} ${get("KW")}))
  (local.set $t (i32.div_u ${get("k0")} ${get("KW")}))
  (local.set $kh (i32.rem_u ${get("t")} ${get("KH")}))
  (local.set $c (i32.div_u ${get("t")} ${get("KH")}))
  (local.set $q (i32.add ${get("img")} (i32.add (i32.add (i32.mul ${get("c")} ${get("cs")}) (i32.mul ${get("kh")} ${get("rs")})) (i32.shl ${get("kw")} (i32.const 2)))))
  ${Array.from({ length: m }, (_, i) => set(wr(i), `(i32.add (i32.add ${get("w")} (i32.shl ${get("k0")} (i32.const 2))) (i32.mul ${get("wcs")} (i32.const ${i})))`)).join(" ")}
  (local.set $left ${get("kn")})
  (block $done (loop $next
    (br_if $done (i32.le_s ${get("left")} (i32.const 0)))
    (block $stepped
      ${unrolledRow}
      ${step(0).join("\n      ")}
      ${advanceW("(i32.const 4)")}
      (local.set $q (i32.add ${get("q")} (i32.const 4)))
      (local.set $left (i32.sub ${get("left")} (i32.const 1)))
      (local.set $kw (i32.add ${get("kw")} (i32.const 1))))
    ;; End of a kernel row: the next row of this channel, or the next channel's first row.
    (if (i32.ge_s ${get("kw")} ${get("KW")})
      (then
        (local.set $kw (i32.const 0))
        (local.set $kh (i32.add ${get("kh")} (i32.const 1)))
        (if (i32.ge_s ${get("kh")} ${get("KH")})
          (then (local.set $kh (i32.const 0)) (local.set $c (i32.add ${get("c")} (i32.const 1)))))
        (local.set $q (i32.add ${get("img")} (i32.add (i32.mul ${get("c")} ${get("cs")}) (i32.mul ${get("kh")} ${get("rs")}))))))
    (br $next)))
  (if ${get("first")}
    (then ${stores("first")})
    (else ${stores("add")})))`
}

/**
 * (func conv_direct_fwd (C H W KH KW outH outW M kc w img out)): out (M × outH × outW) from the image
 * (C × H × W, already zero-bordered when padded) and weights (M × C·KH·KW), outW a multiple of 4.
 */
export const convDirectWat = (f: KernelFeatures): string => {
  const micros: string[] = []
  for (const kw of unrolledWidths) for (let m = 1; m <= maxM; m++) for (let v = 1; v <= maxV; v++) micros.push(microWat(f, m, v, kw))
  const args = `${get("wo")} ${get("wcs")} ${get("ip")} ${get("cs")} ${get("rs")} ${get("KH")} ${get("KW")} ${get("k0")} ${get("kn")} (i32.eqz ${get("k0")}) ${get("op")} ${get("ocs")}`
  // Dispatch on (rows, vectors) with nested ifs (the module's one table belongs to the GEMM).
  const callFor = (v: number): string => {
    const byRows = (kw: number): string => {
      let body = `(call $dconv_1_${v}_${kw} ${args})`
      for (let m = 2; m <= maxM; m++) body = `(if (i32.eq ${get("mm")} (i32.const ${m})) (then (call $dconv_${m}_${v}_${kw} ${args})) (else ${body}))`
      return body
    }
    let body = byRows(0)
    for (const kw of unrolledWidths.filter((w) => w !== 0))
      body = `(if (i32.eq ${get("KW")} (i32.const ${kw})) (then ${byRows(kw)}) (else ${body}))`
    return body
  }
  return `
${micros.join("\n")}
(func $conv_direct_fwd (export "conv_direct_fwd")
  (param $C i32) (param $H i32) (param $W i32) (param $KH i32) (param $KW i32) (param $outH i32) (param $outW i32)
  (param $M i32) (param $kc i32) (param $w i32) (param $img i32) (param $out i32)
  ${locals("i32", ["o", "oh", "ow", "mm", "wo", "wcs", "cs", "rs", "ocs", "ip", "op", "K", "k0", "kn", "v2"])}
  (local.set $K (i32.mul ${get("C")} (i32.mul ${get("KH")} ${get("KW")})))
  (local.set $rs (i32.shl ${get("W")} (i32.const 2)))
  (local.set $cs (i32.mul ${get("rs")} ${get("H")}))
  (local.set $wcs (i32.shl (i32.mul ${get("C")} (i32.mul ${get("KH")} ${get("KW")})) (i32.const 2)))
  (local.set $ocs (i32.shl (i32.mul ${get("outH")} ${get("outW")}) (i32.const 2)))
  (local.set $o (i32.const 0))
  (block $o_done (loop $o_loop
    (br_if $o_done (i32.ge_s ${get("o")} ${get("M")}))
    (local.set $mm (i32.sub ${get("M")} ${get("o")}))
    (if (i32.gt_s ${get("mm")} (i32.const ${maxM})) (then (local.set $mm (i32.const ${maxM}))))
    (local.set $wo (i32.add ${get("w")} (i32.mul ${get("o")} ${get("wcs")})))
    (local.set $oh (i32.const 0))
    (block $oh_done (loop $oh_loop
      (br_if $oh_done (i32.ge_s ${get("oh")} ${get("outH")}))
      (local.set $ow (i32.const 0))
      (block $ow_done (loop $ow_loop
        (br_if $ow_done (i32.ge_s ${get("ow")} ${get("outW")}))
        (local.set $ip (i32.add ${get("img")} (i32.shl (i32.add (i32.mul ${get("oh")} ${get("W")}) ${get("ow")}) (i32.const 2))))
        (local.set $op (i32.add ${get("out")}
          (i32.shl (i32.add (i32.mul (i32.add (i32.mul ${get("o")} ${get("outH")}) ${get("oh")}) ${get("outW")}) ${get("ow")}) (i32.const 2))))
        (local.set $v2 (i32.ge_s (i32.sub ${get("outW")} ${get("ow")}) (i32.const 8)))
        ;; One call per kc block, in k order (the GEMM's blocks).
        (local.set $k0 (i32.const 0))
        (block $k_done (loop $k_loop
          (br_if $k_done (i32.ge_s ${get("k0")} ${get("K")}))
          (local.set $kn (i32.sub ${get("K")} ${get("k0")}))
          (if (i32.gt_s ${get("kn")} ${get("kc")}) (then (local.set $kn ${get("kc")})))
          (if ${get("v2")} (then ${callFor(2)}) (else ${callFor(1)}))
          (local.set $k0 (i32.add ${get("k0")} ${get("kc")}))
          (br $k_loop)))
        (local.set $ow (i32.add ${get("ow")} (if (result i32) ${get("v2")} (then (i32.const 8)) (else (i32.const 4)))))
        (br $ow_loop)))
      (local.set $oh (i32.add ${get("oh")} (i32.const 1)))
      (br $oh_loop)))
    (local.set $o (i32.add ${get("o")} (i32.const ${maxM})))
    (br $o_loop)))
)`
}
