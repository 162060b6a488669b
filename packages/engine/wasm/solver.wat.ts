/**
 * The SGD parameter update fused into one pass (src/solvers/sgd.ts's order of operations, bit for bit).
 * Per element, with w = data, g = diff, h = history, every f32(·) a rounding to float32 of the double
 * result — exactly what the JS update computes with Math.fround:
 *
 *   g = f32(g · factor)            normalize, only when factor ≠ 1 (iter_size > 1)
 *   g = f32(decay · w + g)         L2 weight decay, only when decay ≠ 0
 *   v = f32(rate · g + f32(momentum · h));  h = v;  g = v
 *   w = f32(w − v)
 *
 * Doubles in f64x2 lanes give the same IEEE results as the JS doubles (wasm never fuses mul + add), so
 * the data, diffs and history match the JS path bit for bit.
 */

/** f32x4 `v` → its low (lanes 0, 1) or high (lanes 2, 3) half as f64x2. */
const low = (v: string): string => `(f64x2.promote_low_f32x4 ${v})`
const high = (v: string): string => `(f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${v} ${v}))`
/** Two f64x2 → one f32x4 (each lane rounded to float32). */
const demote2 = (lo: string, hi: string): string =>
  `(i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero ${lo}) (f32x4.demote_f64x2_zero ${hi}))`

/** The per-lane steps on f64x2 locals $g, $w, $h of one half (names suffixed), leaving $v (f64x2, already float32-valued). */
const halfStep = (s: string): string => `
    (if (local.get $norm) (then (local.set $g${s} (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.mul (local.get $g${s}) (local.get $vfactor)))))))
    (if (local.get $l2) (then (local.set $g${s} (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero
      (f64x2.add (f64x2.mul (local.get $vdecay) (local.get $w${s})) (local.get $g${s})))))))
    (local.set $v${s} (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (local.get $vrate) (local.get $g${s}))
      (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.mul (local.get $vmom) (local.get $h${s}))))))))
    (local.set $w${s} (f64x2.sub (local.get $w${s}) (local.get $v${s})))`

export const solverWat = (): string => `
;; SGD with momentum, weight decay and iter_size normalisation for n floats (see solver.wat.ts).
(func $sgd_update (export "sgd_update") (param $n i32) (param $w i32) (param $g i32) (param $h i32)
  (param $factor f64) (param $decay f64) (param $rate f64) (param $momentum f64)
  (local $end i32) (local $norm i32) (local $l2 i32)
  (local $vfactor v128) (local $vdecay v128) (local $vrate v128) (local $vmom v128)
  (local $x v128) (local $gl v128) (local $gh v128) (local $wl v128) (local $wh v128) (local $hl v128) (local $hh v128)
  (local $vl v128) (local $vh v128) (local $v f32) (local $sg f64) (local $sw f64)
  (local.set $norm (f64.ne (local.get $factor) (f64.const 1)))
  (local.set $l2 (f64.ne (local.get $decay) (f64.const 0)))
  (local.set $vfactor (f64x2.splat (local.get $factor)))
  (local.set $vdecay (f64x2.splat (local.get $decay)))
  (local.set $vrate (f64x2.splat (local.get $rate)))
  (local.set $vmom (f64x2.splat (local.get $momentum)))
  (local.set $end (i32.add (local.get $w) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
  (block $done (loop $vec
    (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
    (local.set $x (v128.load (local.get $g)))
    (local.set $gl ${low("(local.get $x)")})
    (local.set $gh ${high("(local.get $x)")})
    (local.set $x (v128.load (local.get $w)))
    (local.set $wl ${low("(local.get $x)")})
    (local.set $wh ${high("(local.get $x)")})
    (local.set $x (v128.load (local.get $h)))
    (local.set $hl ${low("(local.get $x)")})
    (local.set $hh ${high("(local.get $x)")})
    ${halfStep("l")}
    ${halfStep("h")}
    (local.set $x ${demote2("(local.get $vl)", "(local.get $vh)")})
    (v128.store (local.get $h) (local.get $x))
    (v128.store (local.get $g) (local.get $x))
    (v128.store (local.get $w) ${demote2("(local.get $wl)", "(local.get $wh)")})
    (local.set $w (i32.add (local.get $w) (i32.const 16)))
    (local.set $g (i32.add (local.get $g) (i32.const 16)))
    (local.set $h (i32.add (local.get $h) (i32.const 16)))
    (br $vec)))
  (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
  (block $done (loop $tail
    (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
    (local.set $sg (f64.promote_f32 (f32.load (local.get $g))))
    (local.set $sw (f64.promote_f32 (f32.load (local.get $w))))
    (if (local.get $norm) (then (local.set $sg (f64.promote_f32 (f32.demote_f64 (f64.mul (local.get $sg) (local.get $factor)))))))
    (if (local.get $l2) (then (local.set $sg (f64.promote_f32 (f32.demote_f64 (f64.add (f64.mul (local.get $decay) (local.get $sw)) (local.get $sg)))))))
    (local.set $v (f32.demote_f64 (f64.add (f64.mul (local.get $rate) (local.get $sg))
      (f64.promote_f32 (f32.demote_f64 (f64.mul (local.get $momentum) (f64.promote_f32 (f32.load (local.get $h)))))))))
    (f32.store (local.get $h) (local.get $v))
    (f32.store (local.get $g) (local.get $v))
    (f32.store (local.get $w) (f32.demote_f64 (f64.sub (local.get $sw) (f64.promote_f32 (local.get $v)))))
    (local.set $w (i32.add (local.get $w) (i32.const 4)))
    (local.set $g (i32.add (local.get $g) (i32.const 4)))
    (local.set $h (i32.add (local.get $h) (i32.const 4)))
    (br $tail))))
`
