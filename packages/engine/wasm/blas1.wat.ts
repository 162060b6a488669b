/**
 * Level-1/2 kernels: axpy, dot (float64 accumulation, as the Backend contract says) and gemv.
 * All addresses are byte addresses; loops run 4 lanes at a time with a scalar tail.
 */
import { type KernelFeatures, madd } from "./wat.js"

export const blas1Wat = (f: KernelFeatures): string => `
;; y[i] += alpha·x[i]
(func $axpy (export "axpy") (param $n i32) (param $alpha f32) (param $x i32) (param $y i32)
  (local $end i32) (local $va v128)
  (local.set $va (f32x4.splat (local.get $alpha)))
  (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
  (block $done (loop $v
    (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
    (v128.store (local.get $y) ${madd(f, "(v128.load (local.get $x))", "(local.get $va)", "(v128.load (local.get $y))")})
    (local.set $x (i32.add (local.get $x) (i32.const 16)))
    (local.set $y (i32.add (local.get $y) (i32.const 16)))
    (br $v)))
  (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
  (block $done (loop $s
    (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
    (f32.store (local.get $y) (f32.add (f32.load (local.get $y)) (f32.mul (local.get $alpha) (f32.load (local.get $x)))))
    (local.set $x (i32.add (local.get $x) (i32.const 4)))
    (local.set $y (i32.add (local.get $y) (i32.const 4)))
    (br $s))))

;; Σ x[i]·y[i]; products and sums in float64 (exact products of floats), two f64x2 accumulators.
(func $dot (export "dot") (param $n i32) (param $x i32) (param $y i32) (result f64)
  (local $end i32) (local $vx v128) (local $vy v128) (local $s0 v128) (local $s1 v128) (local $s f64)
  (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
  (block $done (loop $v
    (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
    (local.set $vx (v128.load (local.get $x)))
    (local.set $vy (v128.load (local.get $y)))
    (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $vx)) (f64x2.promote_low_f32x4 (local.get $vy)))))
    (local.set $vx (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vx) (local.get $vx)))
    (local.set $vy (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vy) (local.get $vy)))
    (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $vx)) (f64x2.promote_low_f32x4 (local.get $vy)))))
    (local.set $x (i32.add (local.get $x) (i32.const 16)))
    (local.set $y (i32.add (local.get $y) (i32.const 16)))
    (br $v)))
  (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
  (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
  (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
  (block $done (loop $t
    (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
    (local.set $s (f64.add (local.get $s) (f64.mul (f64.promote_f32 (f32.load (local.get $x))) (f64.promote_f32 (f32.load (local.get $y))))))
    (local.set $x (i32.add (local.get $x) (i32.const 4)))
    (local.set $y (i32.add (local.get $y) (i32.const 4)))
    (br $t)))
  (local.get $s))

;; float32 dot of n floats with two f32x4 accumulators (gemv rows).
(func $sdot (param $n i32) (param $x i32) (param $y i32) (result f32)
  (local $end i32) (local $a0 v128) (local $a1 v128) (local $s f32)
  (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
  (block $done (loop $v
    (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
    (local.set $a0 ${madd(f, "(v128.load (local.get $x))", "(v128.load (local.get $y))", "(local.get $a0)")})
    (local.set $a1 ${madd(f, "(v128.load offset=16 (local.get $x))", "(v128.load offset=16 (local.get $y))", "(local.get $a1)")})
    (local.set $x (i32.add (local.get $x) (i32.const 32)))
    (local.set $y (i32.add (local.get $y) (i32.const 32)))
    (br $v)))
  (local.set $a0 (f32x4.add (local.get $a0) (local.get $a1)))
  (local.set $s (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
                         (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
  (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 2))))
  (block $done (loop $t
    (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
    (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x)) (f32.load (local.get $y)))))
    (local.set $x (i32.add (local.get $x) (i32.const 4)))
    (local.set $y (i32.add (local.get $y) (i32.const 4)))
    (br $t)))
  (local.get $s))

;; y = alpha·A·x + beta·y (A M×N row-major): one float32 dot per row.
(func $gemv_n (export "gemv_n") (param $m i32) (param $n i32) (param $alpha f32) (param $a i32) (param $x i32)
  (param $beta f32) (param $y i32)
  (local $i i32) (local $s f32)
  (block $done (loop $row
    (br_if $done (i32.ge_s (local.get $i) (local.get $m)))
    (local.set $s (f32.mul (local.get $alpha) (call $sdot (local.get $n) (local.get $a) (local.get $x))))
    (if (f32.ne (local.get $beta) (f32.const 0))
      (then (local.set $s (f32.add (local.get $s) (f32.mul (local.get $beta) (f32.load (local.get $y)))))))
    (f32.store (local.get $y) (local.get $s))
    (local.set $a (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $y (i32.add (local.get $y) (i32.const 4)))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br $row))))

;; y = alpha·Aᵀ·x + beta·y (A M×N row-major, y has N entries): y ← beta·y, then y += (alpha·x[i])·A[i,:].
(func $gemv_t (export "gemv_t") (param $m i32) (param $n i32) (param $alpha f32) (param $a i32) (param $x i32)
  (param $beta f32) (param $y i32)
  (local $i i32) (local $j i32) (local $p i32)
  (if (f32.eq (local.get $beta) (f32.const 0))
    (then (memory.fill (local.get $y) (i32.const 0) (i32.shl (local.get $n) (i32.const 2))))
    (else (if (f32.ne (local.get $beta) (f32.const 1))
      (then
        (local.set $p (local.get $y))
        (block $done (loop $s
          (br_if $done (i32.ge_s (local.get $j) (local.get $n)))
          (f32.store (local.get $p) (f32.mul (local.get $beta) (f32.load (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $s)))))))
  (block $done (loop $row
    (br_if $done (i32.ge_s (local.get $i) (local.get $m)))
    (call $axpy (local.get $n) (f32.mul (local.get $alpha) (f32.load (local.get $x))) (local.get $a) (local.get $y))
    (local.set $a (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $x (i32.add (local.get $x) (i32.const 4)))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br $row))))
`
