/**
 * ACROSS_CHANNELS LRN, 4 spatial positions per f32x4 (channel planes are contiguous), window sums taken
 * directly (size ≤ ~9 loads per output) rather than sliding, so no cancellation error builds up.
 *
 *   scale_c = k + α/n · Σ_{j=c−h..c+h} x_j²          y_c = x_c · scale_c^(−β)
 *   dx_c = dy_c · scale_c^(−β) − (2αβ/n) · x_c · Σ_{j=c−h..c+h} dy_j·y_j/scale_j
 *
 * Positions past the last multiple of 4 go through the same code one lane at a time.
 */

/** `body(ld, st)` for a 4-lane step and for a 1-lane step (splatted load, lane-0 store). */
const lanes = (step: (ld: (a: string) => string, st: (a: string, v: string) => string) => string) => ({
  vec: step(
    (a) => `(v128.load ${a})`,
    (a, v) => `(v128.store ${a} ${v})`
  ),
  one: step(
    (a) => `(f32x4.splat (f32.load ${a}))`,
    (a, v) => `(f32.store ${a} (f32x4.extract_lane 0 ${v}))`
  )
})

/** Loops n, c, then positions i (4 at a time, then 1); $at is the byte offset of (n, c, i). */
const positions = (body: { vec: string; one: string }): string => `
  (local.set $planeB (i32.shl (local.get $plane) (i32.const 2)))
  (local.set $n (i32.const 0))
  (block $n_done (loop $n_loop
    (br_if $n_done (i32.ge_s (local.get $n) (local.get $num)))
    (local.set $c (i32.const 0))
    (block $c_done (loop $c_loop
      (br_if $c_done (i32.ge_s (local.get $c) (local.get $channels)))
      (local.set $jlo (select (i32.sub (local.get $c) (local.get $half)) (i32.const 0)
        (i32.ge_s (i32.sub (local.get $c) (local.get $half)) (i32.const 0))))
      (local.set $jhi (select (i32.add (local.get $c) (local.get $half)) (i32.sub (local.get $channels) (i32.const 1))
        (i32.lt_s (i32.add (local.get $c) (local.get $half)) (local.get $channels))))
      (local.set $i (i32.const 0))
      (block $v_done (loop $v_loop
        (br_if $v_done (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $plane)))
        (local.set $at (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $channels)) (local.get $c)) (local.get $plane)) (local.get $i)) (i32.const 2)))
        (local.set $win (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $channels)) (local.get $jlo)) (local.get $plane)) (local.get $i)) (i32.const 2)))
        ${body.vec}
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $v_loop)))
      (block $s_done (loop $s_loop
        (br_if $s_done (i32.ge_s (local.get $i) (local.get $plane)))
        (local.set $at (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $channels)) (local.get $c)) (local.get $plane)) (local.get $i)) (i32.const 2)))
        (local.set $win (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $channels)) (local.get $jlo)) (local.get $plane)) (local.get $i)) (i32.const 2)))
        ${body.one}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $s_loop)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $c_loop)))
    (local.set $n (i32.add (local.get $n) (i32.const 1)))
    (br $n_loop)))`

/** Σ over j in [jlo, jhi] of term(address of (n, j, i)) into $acc. */
const windowSum = (term: (addr: string) => string): string => `
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $j (local.get $jlo))
        (local.set $wa (local.get $win))
        (block $j_done (loop $j_loop
          (br_if $j_done (i32.gt_s (local.get $j) (local.get $jhi)))
          (local.set $acc (f32x4.add (local.get $acc) ${term("(local.get $wa)")}))
          (local.set $wa (i32.add (local.get $wa) (local.get $planeB)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $j_loop)))`

const loc = `(local $n i32) (local $c i32) (local $i i32) (local $j i32) (local $jlo i32) (local $jhi i32) (local $at i32)
  (local $win i32) (local $wa i32) (local $planeB i32) (local $acc v128) (local $s v128) (local $v v128)`

export const lrnWat = (): string => {
  const fwd = lanes(
    (ld, st) => `${windowSum((a) => `(f32x4.mul ${ld(`(i32.add (local.get $x) ${a})`)} ${ld(`(i32.add (local.get $x) ${a})`)})`)}
        (local.set $s (f32x4.add (f32x4.splat (local.get $k)) (f32x4.mul (f32x4.splat (local.get $alphaOverSize)) (local.get $acc))))
        ${st("(i32.add (local.get $scale) (local.get $at))", "(local.get $s)")}
        ${st(
          "(i32.add (local.get $y) (local.get $at))",
          `(f32x4.mul ${ld("(i32.add (local.get $x) (local.get $at))")} (call $pow4 (local.get $s) (f32x4.splat (local.get $negBeta))))`
        )}`
  )
  // Pass 1 of backward: ratio = dy·y/scale for the whole batch into $tmp.
  const ratio = lanes(
    (ld, st) => `${st(
      "(i32.add (local.get $tmp) (local.get $at))",
      `(f32x4.div (f32x4.mul ${ld("(i32.add (local.get $dy) (local.get $at))")} ${ld("(i32.add (local.get $y) (local.get $at))")})
                  ${ld("(i32.add (local.get $scale) (local.get $at))")})`
    )}`
  )
  const bwd = lanes(
    (ld, st) => `${windowSum((a) => ld(`(i32.add (local.get $tmp) ${a})`))}
        ${st(
          "(i32.add (local.get $dx) (local.get $at))",
          `(f32x4.sub
            (f32x4.mul ${ld("(i32.add (local.get $dy) (local.get $at))")}
                       (call $pow4 ${ld("(i32.add (local.get $scale) (local.get $at))")} (f32x4.splat (local.get $negBeta))))
            (f32x4.mul (f32x4.splat (local.get $ratio)) (f32x4.mul ${ld("(i32.add (local.get $x) (local.get $at))")} (local.get $acc))))`
        )}`
  )
  return `
(func $lrn_fwd (export "lrn_fwd") (param $num i32) (param $channels i32) (param $plane i32) (param $half i32)
  (param $alphaOverSize f32) (param $k f32) (param $negBeta f32) (param $x i32) (param $y i32) (param $scale i32)
  ${loc}
  ${positions(fwd)})

(func $lrn_bwd (export "lrn_bwd") (param $num i32) (param $channels i32) (param $plane i32) (param $half i32)
  (param $ratio f32) (param $negBeta f32) (param $x i32) (param $y i32) (param $scale i32) (param $dy i32) (param $dx i32)
  (param $tmp i32)
  ${loc}
  (local.set $jlo (i32.const 0)) (local.set $jhi (i32.const -1))
  ${positions(ratio)}
  ${positions(bwd)})
`
}
