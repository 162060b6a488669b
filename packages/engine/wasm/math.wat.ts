/**
 * f32x4 exp and log (Cephes expf/logf polynomials, ≈ 2 ulp), used by softmax and LRN: WebAssembly has no
 * transcendental instructions.
 */
export const mathWat = (): string => `
;; exp(x) per lane; lanes below -87.3 give 0 (the true value is a denormal or 0), above 88.7 clamp.
(func $exp4 (param $x v128) (result v128)
  (local $n v128) (local $r v128) (local $p v128) (local $under v128)
  (local.set $under (f32x4.lt (local.get $x) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3)))
  (local.set $x (f32x4.min (f32x4.max (local.get $x) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3))
                           (v128.const f32x4 88.7 88.7 88.7 88.7)))
  (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
  (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
  (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
  (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
  (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
  (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
  (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
  (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
  (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
  (local.set $p (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $r)) (local.get $r)) (local.get $r))
                           (v128.const f32x4 1 1 1 1)))
  (v128.andnot
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
    (local.get $under)))

;; log(x) per lane for finite x > 0 (smaller values are clamped to the smallest normal).
(func $log4 (param $x v128) (result v128)
  (local $e v128) (local $m v128) (local $z v128) (local $y v128) (local $small v128)
  (local.set $x (f32x4.max (local.get $x) (v128.const f32x4 1.17549435e-38 1.17549435e-38 1.17549435e-38 1.17549435e-38)))
  (local.set $e (f32x4.convert_i32x4_s (i32x4.sub (i32x4.shr_u (local.get $x) (i32.const 23)) (v128.const i32x4 126 126 126 126))))
  (local.set $m (v128.or (v128.and (local.get $x) (v128.const i32x4 0x7fffff 0x7fffff 0x7fffff 0x7fffff))
                         (v128.const i32x4 0x3f000000 0x3f000000 0x3f000000 0x3f000000)))
  ;; m in [0.5, 1): below √½ use 2m − 1 and e − 1, else m − 1.
  (local.set $small (f32x4.lt (local.get $m) (v128.const f32x4 0.707106781186547524 0.707106781186547524 0.707106781186547524 0.707106781186547524)))
  (local.set $e (f32x4.sub (local.get $e) (v128.and (local.get $small) (v128.const f32x4 1 1 1 1))))
  (local.set $m (f32x4.sub (f32x4.add (local.get $m) (v128.and (local.get $small) (local.get $m))) (v128.const f32x4 1 1 1 1)))
  (local.set $z (f32x4.mul (local.get $m) (local.get $m)))
  (local.set $y (v128.const f32x4 7.0376836292e-2 7.0376836292e-2 7.0376836292e-2 7.0376836292e-2))
  ${[
    "-1.1514610310e-1",
    "1.1676998740e-1",
    "-1.2420140846e-1",
    "1.4249322787e-1",
    "-1.6668057665e-1",
    "2.0000714765e-1",
    "-2.4999993993e-1",
    "3.3333331174e-1"
  ]
    .map((c) => `(local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $m)) (v128.const f32x4 ${c} ${c} ${c} ${c})))`)
    .join("\n  ")}
  (local.set $y (f32x4.mul (f32x4.mul (local.get $y) (local.get $m)) (local.get $z)))
  (local.set $y (f32x4.add (local.get $y) (f32x4.mul (local.get $e) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
  (local.set $y (f32x4.sub (local.get $y) (f32x4.mul (local.get $z) (v128.const f32x4 0.5 0.5 0.5 0.5))))
  (f32x4.add (f32x4.add (local.get $m) (local.get $y))
             (f32x4.mul (local.get $e) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))

;; x^p per lane for x > 0.
(func $pow4 (param $x v128) (param $p v128) (result v128)
  (call $exp4 (f32x4.mul (call $log4 (local.get $x)) (local.get $p))))
`
