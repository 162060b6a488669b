/**
 * GEMM kernels in the Goto/BLIS structure (the driver loops live in src/backend/cpu/gemm.ts):
 *
 *   gemm_pack_a   op(A) block (mc × kc) → MR-row panels, k-major inside a panel, scaled by alpha,
 *                 zero-padded to a multiple of MR rows;
 *   gemm_pack_b   op(B) block (kc × nc) → NR-column panels, k-major inside a panel, zero-padded;
 *   gemm_macro    C block (mc × nc) = A panels · B panels + beta·C, looping an MR × NR register-blocked
 *                 micro-kernel over the panels (edge tiles: exact-size micro-kernels); a panel is either
 *                 packed or read in place from a source that already has the panel's layout per k;
 *   gemm_rank1    K = 1 (bias terms) without packing, with the same operations.
 *
 * The micro-kernel keeps MR·NR/4 f32x4 accumulators in locals; V8 maps wasm locals onto the 16 xmm
 * registers (one reserved as scratch), so MR·NR/4 + NR/4 + 1 ≤ 15 or the loop spills. Measured
 * end to end (interleaved A/B runs, 512³…1024³ and LeNet's shapes) 4×8 beat 6×8, 5×8, 4×12, 3×16, 8×8,
 * 8×4, k-unrolling by 2, preloading all broadcasts, and broadcasting by shuffle from one A load.
 * Rechecked with best-of-short-batches timing: the 4×8 macro-kernel runs at 46–49 GFLOPS (≈ 95 % of
 * two 128-bit FMAs per cycle here), 5×8 and 6×8 at 16–22 (TurboFan hoists every broadcast load ahead
 * of the FMAs, so their tiles need more than 15 registers and spill).
 */
import { type KernelFeatures, f32At, forLoop, get, i32, locals, madd, set } from "./wat.js"

export interface GemmShape {
  /** Rows of the micro-tile (broadcast from packed A). */
  readonly mr: number
  /** Columns of the micro-tile (multiple of 4: vectors loaded from packed B). */
  readonly nr: number
  /** k-loop unrolling factor of the micro-kernel (1: the strided micro-kernel steps one k at a time). */
  readonly unroll: number
}

export const defaultGemmShape: GemmShape = { mr: 4, nr: 8, unroll: 1 }

export const gemmWat = (f: KernelFeatures, s: GemmShape = defaultGemmShape): string =>
  [packWat("gemm_pack_a", s.mr), packWat("gemm_pack_b", s.nr), macroWat(f, s), rank1Wat(f)].join("\n")

/**
 * (func gemm_rank1 (m n alpha a b beta c ldc)): C[i·ldc + j] = (alpha·a[i])·b[j] (+ C when beta is 1;
 * beta must be 0 or 1) — GEMM with K = 1 (a bias times a row of ones), which the packed path ran at
 * ≈ 0.6 ns per element. Same operations as the packed path for one k: alpha·a rounded as the packer
 * does, the product through the same multiply-add with a zero accumulator, then C + product.
 */
const rank1Wat = (f: KernelFeatures): string => `
(func $gemm_rank1 (export "gemm_rank1")
  (param $m i32) (param $n i32) (param $alpha f32) (param $a i32) (param $b i32) (param $beta f32) (param $c i32) (param $ldc i32)
  ${locals("i32", ["i", "j", "row", "bj", "nv"])} ${locals("v128", ["ai", "p"])}
  (local.set $nv (i32.and ${get("n")} (i32.const -4)))
  ${forLoop(
    "i",
    i32(0),
    get("m"),
    1,
    `
    (local.set $ai (f32x4.splat (f32.mul (f32.load ${f32At(get("a"), get("i"))}) ${get("alpha")})))
    (local.set $row ${f32At(get("c"), `(i32.mul ${get("i")} ${get("ldc")})`)})
    ${forLoop(
      "j",
      i32(0),
      get("nv"),
      4,
      `
      (local.set $p ${madd(f, get("ai"), `(v128.load ${f32At(get("b"), get("j"))})`, "(v128.const i32x4 0 0 0 0)")})
      (local.set $bj ${f32At(get("row"), get("j"))})
      (if (f32.eq ${get("beta")} (f32.const 0))
        (then (v128.store ${get("bj")} ${get("p")}))
        (else (v128.store ${get("bj")} (f32x4.add (v128.load ${get("bj")}) ${get("p")}))))`
    )}
    ${forLoop(
      "j",
      get("nv"),
      get("n"),
      1,
      `
      (local.set $p ${madd(f, get("ai"), `(f32x4.splat (f32.load ${f32At(get("b"), get("j"))}))`, "(v128.const i32x4 0 0 0 0)")})
      (local.set $bj ${f32At(get("row"), get("j"))})
      (if (f32.eq ${get("beta")} (f32.const 0))
        (then (f32.store ${get("bj")} (f32x4.extract_lane 0 ${get("p")})))
        (else (f32.store ${get("bj")} (f32.add (f32x4.extract_lane 0 ${get("p")}) (f32.load ${get("bj")})))))`
    )}`
  )})`

/**
 * (func $name (src rs cs rows cols scale dst)): element (r, k) of the source is src[r·rs + k·cs]
 * (floats; src/dst are byte addresses). Output: for panel p, k, i: dst[(p·cols + k)·P + i].
 */
const packWat = (name: string, P: number): string => {
  const vecs = P >> 2
  const tail = P & 3
  // Fast path (rs == 1, full panel): P contiguous source floats per k → vector copies.
  const contiguousBody: string[] = []
  for (let v = 0; v < vecs; v++) {
    contiguousBody.push(
      `(v128.store offset=${16 * v} ${get("d")} (f32x4.mul (v128.load offset=${16 * v} ${get("s")}) ${get("vscale")}))`
    )
  }
  for (let t = 0; t < tail; t++) {
    const o = 16 * vecs + 4 * t
    contiguousBody.push(`(f32.store offset=${o} ${get("d")} (f32.mul (f32.load offset=${o} ${get("s")}) ${get("scale")}))`)
  }
  // Fast path (cs == 1, full panel): each panel row is contiguous along k. Load 4 k's of every row and
  // transpose in registers (4×4 blocks; a leftover pair interleaved, a leftover single row per lane).
  const rowLoad = (i: number) =>
    `(f32x4.mul (v128.load (i32.add ${get("s")} (i32.mul ${get("rsb")} (i32.const ${i})))) ${get("vscale")})`
  const shuffle = (a: string, b: string, lanes: number[]) =>
    `(i8x16.shuffle ${lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]).join(" ")} ${a} ${b})`
  const at = (t: number, i: number) => `offset=${(t * P + i) * 4}`
  const transposed: string[] = []
  let i0 = 0
  for (; i0 + 4 <= P; i0 += 4) {
    transposed.push(
      set("r0", rowLoad(i0)),
      set("r1", rowLoad(i0 + 1)),
      set("r2", rowLoad(i0 + 2)),
      set("r3", rowLoad(i0 + 3)),
      set("t0", shuffle(get("r0"), get("r1"), [0, 4, 1, 5])),
      set("t1", shuffle(get("r0"), get("r1"), [2, 6, 3, 7])),
      set("t2", shuffle(get("r2"), get("r3"), [0, 4, 1, 5])),
      set("t3", shuffle(get("r2"), get("r3"), [2, 6, 3, 7])),
      `(v128.store ${at(0, i0)} ${get("d")} ${shuffle(get("t0"), get("t2"), [0, 1, 4, 5])})`,
      `(v128.store ${at(1, i0)} ${get("d")} ${shuffle(get("t0"), get("t2"), [2, 3, 6, 7])})`,
      `(v128.store ${at(2, i0)} ${get("d")} ${shuffle(get("t1"), get("t3"), [0, 1, 4, 5])})`,
      `(v128.store ${at(3, i0)} ${get("d")} ${shuffle(get("t1"), get("t3"), [2, 3, 6, 7])})`
    )
  }
  for (; i0 + 2 <= P; i0 += 2) {
    transposed.push(
      set("r0", rowLoad(i0)),
      set("r1", rowLoad(i0 + 1)),
      set("t0", shuffle(get("r0"), get("r1"), [0, 4, 1, 5])),
      set("t1", shuffle(get("r0"), get("r1"), [2, 6, 3, 7])),
      `(v128.store64_lane ${at(0, i0)} 0 ${get("d")} ${get("t0")})`,
      `(v128.store64_lane ${at(1, i0)} 0 ${get("d")} (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${get("t0")} ${get("t0")}))`,
      `(v128.store64_lane ${at(2, i0)} 0 ${get("d")} ${get("t1")})`,
      `(v128.store64_lane ${at(3, i0)} 0 ${get("d")} (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${get("t1")} ${get("t1")}))`
    )
  }
  for (; i0 < P; i0++) {
    transposed.push(set("r0", rowLoad(i0)))
    for (let t = 0; t < 4; t++) transposed.push(`(f32.store ${at(t, i0)} ${get("d")} (f32x4.extract_lane ${t} ${get("r0")}))`)
  }
  const tailRows = Array.from(
    { length: P },
    (_, i) =>
      `(f32.store offset=${i * 4} ${get("d")} (f32.mul (f32.load (i32.add ${get("s")} (i32.mul ${get("rsb")} (i32.const ${i})))) ${get("scale")}))`
  ).join("\n          ")
  const rowContiguousPanel = `
        ${set("s", f32At(get("src"), `(i32.mul ${get("p")} ${get("rs")})`))}
        ${set("d", get("dst"))}
        (local.set $k (i32.const 0))
        (block $t_done (loop $t_loop
          (br_if $t_done (i32.gt_s (i32.add ${get("k")} (i32.const 4)) ${get("cols")}))
          ${transposed.join("\n          ")}
          ${set("s", `(i32.add ${get("s")} (i32.const 16))`)}
          ${set("d", `(i32.add ${get("d")} (i32.const ${P * 16}))`)}
          (local.set $k (i32.add ${get("k")} (i32.const 4)))
          (br $t_loop)))
        (block $u_done (loop $u_loop
          (br_if $u_done (i32.ge_s ${get("k")} ${get("cols")}))
          ${tailRows}
          ${set("s", `(i32.add ${get("s")} (i32.const 4))`)}
          ${set("d", `(i32.add ${get("d")} (i32.const ${P * 4}))`)}
          (local.set $k (i32.add ${get("k")} (i32.const 1)))
          (br $u_loop)))`
  return `
(func $${name} (export "${name}")
  (param $src i32) (param $rs i32) (param $cs i32) (param $rows i32) (param $cols i32) (param $scale f32) (param $dst i32)
  ${locals("i32", ["p", "i", "k", "r", "s", "d", "csb", "rsb", "panelb"])} (local $vscale v128)
  ${locals("v128", ["r0", "r1", "r2", "r3", "t0", "t1", "t2", "t3"])}
  (local.set $vscale (f32x4.splat ${get("scale")}))
  (local.set $csb (i32.shl ${get("cs")} (i32.const 2)))
  (local.set $rsb (i32.shl ${get("rs")} (i32.const 2)))
  (local.set $panelb (i32.mul ${get("cols")} (i32.const ${P * 4})))
  ${forLoop(
    "p",
    i32(0),
    get("rows"),
    P,
    `
    (if (i32.and (i32.eq ${get("rs")} (i32.const 1)) (i32.le_s (i32.add ${get("p")} (i32.const ${P})) ${get("rows")}))
      (then
        ${set("s", f32At(get("src"), `(i32.mul ${get("p")} ${get("rs")})`))}
        ${set("d", get("dst"))}
        ${forLoop(
          "k",
          i32(0),
          get("cols"),
          1,
          `${contiguousBody.join("\n        ")}
          ${set("s", `(i32.add ${get("s")} ${get("csb")})`)}
          ${set("d", `(i32.add ${get("d")} (i32.const ${P * 4}))`)}`
        )})
      (else (if (i32.and (i32.eq ${get("cs")} (i32.const 1)) (i32.le_s (i32.add ${get("p")} (i32.const ${P})) ${get("rows")}))
      (then ${rowContiguousPanel})
      (else
        ;; A last, partial panel: zero it with vector stores, then copy the rows that exist (a zero per
        ;; missing row and k, one scalar store each, cost LeNet conv1's weight gradient ≈ 20 % of its time).
        (if (i32.gt_s (i32.add ${get("p")} (i32.const ${P})) ${get("rows")})
          (then
            ${set("d", get("dst"))}
            ${set("r", `(i32.add ${get("dst")} ${get("panelb")})`)}
            (block $z_done (loop $z_loop
              (br_if $z_done (i32.gt_u (i32.add ${get("d")} (i32.const 16)) ${get("r")}))
              (v128.store ${get("d")} (v128.const i32x4 0 0 0 0))
              ${set("d", `(i32.add ${get("d")} (i32.const 16))`)}
              (br $z_loop)))
            (block $z1_done (loop $z1_loop
              (br_if $z1_done (i32.ge_u ${get("d")} ${get("r")}))
              (f32.store ${get("d")} (f32.const 0))
              ${set("d", `(i32.add ${get("d")} (i32.const 4))`)}
              (br $z1_loop)))))
        ${forLoop(
          "i",
          i32(0),
          i32(P),
          1,
          `
          ${set("r", `(i32.add ${get("p")} ${get("i")})`)}
          ${set("d", f32At(get("dst"), get("i")))}
          (if (i32.lt_s ${get("r")} ${get("rows")})
            (then
              ${set("s", f32At(get("src"), `(i32.mul ${get("r")} ${get("rs")})`))}
              ${forLoop(
                "k",
                i32(0),
                get("cols"),
                1,
                `(f32.store ${get("d")} (f32.mul (f32.load ${get("s")}) ${get("scale")}))
                ${set("s", `(i32.add ${get("s")} ${get("csb")})`)}
                ${set("d", `(i32.add ${get("d")} (i32.const ${P * 4}))`)}`
              )}))`
        )}))))
    (local.set $dst (i32.add ${get("dst")} ${get("panelb")}))`
  )})`
}
/**
 * (func gemm_macro (mc nc kc pa aps as pb bps bs bedge c ldc beta tile)): C[i·ldc + j] (i < mc, j < nc) =
 * Σ_k opA·opB + beta·C, where beta == 0 never reads C (BLAS semantics: NaNs in C do not leak).
 * Operands are MR-row panels of A (panel p at pa + p·aps, row-of-k stride `as` bytes) and NR-column
 * panels of B (panel q at pb + q·bps, stride `bs`): packed panels (as = MR·4, bs = NR·4) or, where the
 * source already holds a panel's MR / NR values contiguously at each k, the source itself (no copy).
 * A last B panel narrower than NR is always packed (zero-padded) at `bedge` with stride NR·4.
 * Edge tiles call a micro-kernel with only the rows / column vectors that exist (one per m × v,
 * through a function table), so no flops are wasted on padding beyond a 4-column vector; columns past
 * the last full vector go through the `tile` scratch (MR·NR floats) and a scalar copy.
 */
const macroWat = (f: KernelFeatures, s: GemmShape): string => {
  const { mr: MR, nr: NR } = s
  const NV = NR >> 2
  if (NR % 4 !== 0) throw new Error(`gemm: NR=${NR} must be a multiple of 4`)
  const micros: string[] = []
  const names: string[] = []
  for (let m = 1; m <= MR; m++) {
    for (let v = 1; v <= NV; v++) {
      names.push(`$micro_${m}_${v}`)
      micros.push(microWat(f, s, m, v))
    }
  }
  // Table entries from MR·NV: g full row panels × n trailing columns at MR·NV + 4(n − 1) + g − 1.
  for (let n = 1; n <= 3; n++) {
    for (let g = 1; g <= columnGroup(n); g++) {
      names.push(`$columns_${g}_${n}`)
      micros.push(columnsWat(f, MR, g, n))
    }
    for (let g = columnGroup(n) + 1; g <= 4; g++) names.push(`$columns_${columnGroup(n)}_${n}`)
  }
  const microArgs = `${get("a")} ${get("as")} ${get("pbj")} ${get("bsj")} ${get("kc")}`
  return `
(type $micro_t (func (param i32 i32 i32 i32 i32 i32 i32 f32)))
(type $columns_t (func (param i32 i32 i32 i32 i32 i32 i32 i32 f32)))
(table ${names.length} funcref)
(elem (i32.const 0) ${names.join(" ")})
${micros.join("\n")}
(func $gemm_macro (export "gemm_macro")
  (param $mc i32) (param $nc i32) (param $kc i32) (param $pa i32) (param $aps i32) (param $as i32)
  (param $pb i32) (param $bps i32) (param $bs i32) (param $bedge i32) (param $c i32) (param $ldc i32)
  (param $beta f32) (param $tile i32)
  ${locals("i32", ["ir", "jr", "g", "a", "pbj", "bsj", "ldcb", "mre", "nre", "nve", "fullCols", "cp", "i", "j", "t", "cc", "fn"])}
  (local.set $ldcb (i32.shl ${get("ldc")} (i32.const 2)))
  ${forLoop(
    "jr",
    i32(0),
    get("nc"),
    NR,
    `
    (local.set $nre (i32.sub ${get("nc")} ${get("jr")}))
    (if (i32.ge_s ${get("nre")} (i32.const ${NR}))
      (then
        (local.set $nre (i32.const ${NR}))
        (local.set $pbj (i32.add ${get("pb")} (i32.mul (i32.div_u ${get("jr")} (i32.const ${NR})) ${get("bps")})))
        (local.set $bsj ${get("bs")}))
      (else
        (local.set $pbj ${get("bedge")})
        (local.set $bsj (i32.const ${NR * 4}))))
    (local.set $nve (i32.shr_u (i32.add ${get("nre")} (i32.const 3)) (i32.const 2)))
    (local.set $fullCols (i32.eq ${get("nre")} (i32.shl ${get("nve")} (i32.const 2))))
    ${forLoop(
      "ir",
      i32(0),
      get("mc"),
      MR,
      `
      (local.set $a (i32.add ${get("pa")} (i32.mul (i32.div_u ${get("ir")} (i32.const ${MR})) ${get("aps")})))
      (local.set $mre (i32.sub ${get("mc")} ${get("ir")}))
      (if (i32.gt_s ${get("mre")} (i32.const ${MR})) (then (local.set $mre (i32.const ${MR}))))
      (local.set $cp ${f32At(get("c"), `(i32.add (i32.mul ${get("ir")} ${get("ldc")}) ${get("jr")})`)})
      (if ${get("fullCols")}
        (then
          (if (i32.and (i32.eq ${get("mre")} (i32.const ${MR})) (i32.eq ${get("nve")} (i32.const ${NV})))
            (then (call $micro_${MR}_${NV} ${microArgs} ${get("cp")} ${get("ldcb")} ${get("beta")}))
            (else (call_indirect (type $micro_t) ${microArgs} ${get("cp")} ${get("ldcb")} ${get("beta")}
              (i32.add (i32.mul (i32.sub ${get("mre")} (i32.const 1)) (i32.const ${NV})) (i32.sub ${get("nve")} (i32.const 1)))))))
        (else (if (i32.and (i32.eq ${get("mre")} (i32.const ${MR})) (i32.lt_u ${get("nre")} (i32.const 4)))
          (then
            ;; g row panels at once (their independent sums hide the multiply-add latency).
            (local.set $g (i32.div_u (i32.sub ${get("mc")} ${get("ir")}) (i32.const ${MR})))
            (if (i32.gt_u ${get("g")} (i32.const 4)) (then (local.set $g (i32.const 4))))
            (if (i32.and (i32.eq ${get("nre")} (i32.const 3)) (i32.gt_u ${get("g")} (i32.const ${columnGroup(3)}))) (then (local.set $g (i32.const ${columnGroup(3)}))))
            (call_indirect (type $columns_t) ${get("a")} ${get("as")} ${get("aps")} ${get("pbj")} ${get("bsj")} ${get("kc")} ${get("cp")} ${get("ldcb")} ${get("beta")}
              (i32.add (i32.const ${MR * NV - 5}) (i32.add (i32.shl ${get("nre")} (i32.const 2)) ${get("g")})))
            (local.set $ir (i32.add ${get("ir")} (i32.mul (i32.sub ${get("g")} (i32.const 1)) (i32.const ${MR})))))
          (else
          (call_indirect (type $micro_t) ${microArgs} ${get("tile")} (i32.const ${NR * 4}) (f32.const 0)
            (i32.add (i32.mul (i32.sub ${get("mre")} (i32.const 1)) (i32.const ${NV})) (i32.sub ${get("nve")} (i32.const 1))))
          ${forLoop(
            "i",
            i32(0),
            get("mre"),
            1,
            `${forLoop(
              "j",
              i32(0),
              get("nre"),
              1,
              `
              (local.set $t ${f32At(get("tile"), `(i32.add (i32.mul ${get("i")} (i32.const ${NR})) ${get("j")})`)})
              (local.set $cc ${f32At(get("cp"), `(i32.add (i32.mul ${get("i")} ${get("ldc")}) ${get("j")})`)})
              (if (f32.eq ${get("beta")} (f32.const 0))
                (then (f32.store ${get("cc")} (f32.load ${get("t")})))
                (else (f32.store ${get("cc")} (f32.add (f32.load ${get("t")}) (f32.mul ${get("beta")} (f32.load ${get("cc")}))))))`
            )}`
          )}))))`
    )}`
  )})`
}

/** Row panels per trailing-column call: g·n accumulators + n broadcasts + one A vector fit 15 registers. */
const columnGroup = (n: number): number => (n === 3 ? 3 : 4)

/**
 * (func $columns_g_n (a as aps b bs kc c ldcb beta)): the (g·MR) × n block of C (n < 4 trailing columns,
 * the last B panel packed; g full MR-row panels of A at a + p·aps) with the rows in vectors — per k, g
 * A loads, n broadcasts of B and g·n multiply-adds with independent sums, where the MR × 4 edge
 * micro-kernel spent MR broadcasts and MR multiply-adds per panel on one useful column. Each element
 * gets the same products (a·b) in the same k order from 0, and C the same scalar update as the tile path.
 */
const columnsWat = (f: KernelFeatures, MR: number, g: number, n: number): string => {
  if (MR !== 4) throw new Error(`gemm: the trailing-column kernel holds MR=4 rows in a vector, got MR=${MR}`)
  const acc = (p: number, c: number) => `c${p}_${c}`
  const accs = Array.from({ length: g }, (_, p) => Array.from({ length: n }, (_, c) => acc(p, c))).flat()
  const bs = Array.from({ length: n }, (_, c) => `b${c}`)
  const panel = (p: number) => (p === 0 ? get("a") : `(i32.add ${get("a")} (i32.mul ${get("aps")} (i32.const ${p})))`)
  const store = (p: number, c: number, lane: number): string => {
    const at = `(i32.add ${get("c")} (i32.add (i32.mul ${get("ldcb")} (i32.const ${p * MR + lane})) (i32.const ${4 * c})))`
    const t = `(f32x4.extract_lane ${lane} ${get(acc(p, c))})`
    return `(f32.store ${at} (if (result f32) (f32.eq ${get("beta")} (f32.const 0)) (then ${t}) (else (f32.add ${t} (f32.mul ${get("beta")} (f32.load ${at}))))))`
  }
  const step: string[] = []
  for (let c = 0; c < n; c++) step.push(set(bs[c]!, `(v128.load32_splat offset=${4 * c} ${get("b")})`))
  for (let p = 0; p < g; p++) {
    step.push(set("a0", `(v128.load ${p === 0 ? get("a") : `(i32.add ${get("a")} ${get(`o${p}`)})`})`))
    for (let c = 0; c < n; c++) step.push(set(acc(p, c), madd(f, get("a0"), get(bs[c]!), get(acc(p, c)))))
  }
  const stores: string[] = []
  for (let p = 0; p < g; p++) for (let c = 0; c < n; c++) for (let lane = 0; lane < MR; lane++) stores.push(store(p, c, lane))
  const offsets = Array.from({ length: g - 1 }, (_, i) => `o${i + 1}`)
  return `
(func $columns_${g}_${n} (type $columns_t) (param $a i32) (param $as i32) (param $aps i32) (param $b i32) (param $bs i32) (param $kc i32)
  (param $c i32) (param $ldcb i32) (param $beta f32)
  ${locals("i32", ["k", ...offsets])} ${locals("v128", [...accs, ...bs, "a0"])}
  ${offsets.map((o, i) => set(o, `(i32.sub ${panel(i + 1)} ${get("a")})`)).join("\n  ")}
  (local.set $k ${get("kc")})
  (block $k_done
    (br_if $k_done (i32.eqz ${get("k")}))
    (loop $k1
      ${step.join("\n      ")}
      (local.set $a (i32.add ${get("a")} ${get("as")}))
      (local.set $b (i32.add ${get("b")} ${get("bs")}))
      (local.set $k (i32.sub ${get("k")} (i32.const 1)))
      (br_if $k1 ${get("k")})))
  ${stores.join("\n  ")})`
}

/**
 * (func $micro_m_v (a as b bs kc c ldcb beta)): the m × 4v block at byte address c (row stride ldcb
 * bytes) = Σ_k A·B + beta·C, in k order from 0 (one accumulator per element: the same sums whether the
 * panels are packed or read in place). A's m values of step k are at a + k·as, B's 4v at b + k·bs.
 */
const microWat = (f: KernelFeatures, s: GemmShape, m: number, nv: number): string => {
  const { unroll } = s
  const acc = (i: number, v: number) => `c${i}_${v}`
  const accNames: string[] = []
  for (let i = 0; i < m; i++) for (let v = 0; v < nv; v++) accNames.push(acc(i, v))
  const bNames = Array.from({ length: nv }, (_, v) => `b${v}`)
  if (unroll !== 1) throw new Error(`gemm: unroll=${unroll}: the strided micro-kernel steps one k at a time`)
  const step = (): string => {
    const lines: string[] = []
    for (let v = 0; v < nv; v++) lines.push(set(bNames[v]!, `(v128.load offset=${4 * v * 4} ${get("b")})`))
    for (let i = 0; i < m; i++) {
      lines.push(set("a0", `(v128.load32_splat offset=${i * 4} ${get("a")})`))
      for (let v = 0; v < nv; v++) lines.push(set(acc(i, v), madd(f, get("a0"), get(bNames[v]!), get(acc(i, v)))))
    }
    return lines.join("\n      ")
  }
  const store = (mode: "zero" | "one" | "scale"): string => {
    const lines: string[] = []
    for (let i = 0; i < m; i++) {
      lines.push(set("row", i === 0 ? get("c") : `(i32.add ${get("c")} (i32.mul ${get("ldcb")} (i32.const ${i})))`))
      for (let v = 0; v < nv; v++) {
        const cur = `(v128.load offset=${16 * v} ${get("row")})`
        const value =
          mode === "zero"
            ? get(acc(i, v))
            : mode === "one"
              ? `(f32x4.add ${cur} ${get(acc(i, v))})`
              : madd(f, cur, get("vbeta"), get(acc(i, v)))
        lines.push(`(v128.store offset=${16 * v} ${get("row")} ${value})`)
      }
    }
    return lines.join("\n        ")
  }
  return `
(func $micro_${m}_${nv} (type $micro_t) (param $a i32) (param $as i32) (param $b i32) (param $bs i32) (param $kc i32)
  (param $c i32) (param $ldcb i32) (param $beta f32)
  ${locals("i32", ["k", "row"])} ${locals("v128", [...accNames, ...bNames, "a0", "vbeta"])}
  (local.set $k ${get("kc")})
  (block $k_done
    (br_if $k_done (i32.eqz ${get("k")}))
    (loop $k1
      ${step()}
      (local.set $a (i32.add ${get("a")} ${get("as")}))
      (local.set $b (i32.add ${get("b")} ${get("bs")}))
      (local.set $k (i32.sub ${get("k")} (i32.const 1)))
      (br_if $k1 ${get("k")})))
  (if (f32.eq ${get("beta")} (f32.const 0))
    (then ${store("zero")})
    (else (if (f32.eq ${get("beta")} (f32.const 1))
      (then ${store("one")})
      (else (local.set $vbeta (f32x4.splat ${get("beta")})) ${store("scale")})))))`
}
