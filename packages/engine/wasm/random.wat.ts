/**
 * mt19937 and the ziggurat's common path for bulk Gaussian fills (DummyData's per-forward refill), the
 * same operations as src/core/rng.ts's JavaScript — twist, tempering, then per word
 * out = f32(mean + std · (j · w[layer] · ±1)) in doubles — so both give the same samples bit for bit.
 *
 *   mt_twist(mt)                               the next 624 state words in place
 *   ziggurat_run(mt first stop out mean std k w rej) → entries
 *       samples from words mt[first .. stop) into out[0 ..]; a draw outside its layer's inner
 *       rectangle is recorded as (output position, draw) int32 pairs at rej for the exact path (JS)
 */
const twistStep = (i: string, next: string, far: string): string => `
      (local.set $y (i32.or (i32.and (i32.load ${i}) (i32.const 0x80000000)) (i32.and (i32.load ${next}) (i32.const 0x7fffffff))))
      (i32.store ${i} (i32.xor (i32.xor (i32.load ${far}) (i32.shr_u (local.get $y) (i32.const 1)))
        (i32.and (i32.sub (i32.const 0) (i32.and (local.get $y) (i32.const 1))) (i32.const 0x9908b0df))))`

export const randomWat = (): string => `
(func $mt_twist (export "mt_twist") (param $mt i32)
  (local $p i32) (local $y i32) (local $end i32)
  ;; i < 227: mt[i] = mt[i + 397] ^ …
  (local.set $p (local.get $mt))
  (local.set $end (i32.add (local.get $mt) (i32.const ${227 * 4})))
  (loop $a
    ${twistStep("(local.get $p)", "(i32.add (local.get $p) (i32.const 4))", `(i32.add (local.get $p) (i32.const ${397 * 4}))`)}
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    (br_if $a (i32.lt_u (local.get $p) (local.get $end))))
  ;; 227 ≤ i < 623: mt[i] = mt[i − 227] ^ …
  (local.set $end (i32.add (local.get $mt) (i32.const ${623 * 4})))
  (loop $b
    ${twistStep("(local.get $p)", "(i32.add (local.get $p) (i32.const 4))", `(i32.sub (local.get $p) (i32.const ${227 * 4}))`)}
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    (br_if $b (i32.lt_u (local.get $p) (local.get $end))))
  ;; i = 623 wraps to mt[0].
  ${twistStep("(local.get $p)", "(local.get $mt)", `(i32.add (local.get $mt) (i32.const ${396 * 4}))`)})

(func $ziggurat_run (export "ziggurat_run") (param $mt i32) (param $first i32) (param $stop i32) (param $out i32)
  (param $mean f64) (param $std f64) (param $k i32) (param $w i32) (param $rej i32) (result i32)
  (local $p i32) (local $end i32) (local $o i32) (local $y i32) (local $layer i32) (local $j i32) (local $n i32)
  (local.set $p (i32.add (local.get $mt) (i32.shl (local.get $first) (i32.const 2))))
  (local.set $end (i32.add (local.get $mt) (i32.shl (local.get $stop) (i32.const 2))))
  (local.set $o (i32.const 0))
  (local.set $n (i32.const 0))
  (block $done (loop $next
    (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
    (local.set $y (i32.load (local.get $p)))
    (local.set $y (i32.xor (local.get $y) (i32.shr_u (local.get $y) (i32.const 11))))
    (local.set $y (i32.xor (local.get $y) (i32.and (i32.shl (local.get $y) (i32.const 7)) (i32.const 0x9d2c5680))))
    (local.set $y (i32.xor (local.get $y) (i32.and (i32.shl (local.get $y) (i32.const 15)) (i32.const 0xefc60000))))
    (local.set $y (i32.xor (local.get $y) (i32.shr_u (local.get $y) (i32.const 18))))
    (local.set $layer (i32.and (local.get $y) (i32.const 127)))
    (local.set $j (i32.shr_u (local.get $y) (i32.const 8)))
    (f32.store (i32.add (local.get $out) (i32.shl (local.get $o) (i32.const 2)))
      (f32.demote_f64 (f64.add (local.get $mean) (f64.mul (local.get $std)
        (f64.mul
          (f64.mul (f64.convert_i32_u (local.get $j)) (f64.load (i32.add (local.get $w) (i32.shl (local.get $layer) (i32.const 3)))))
          (f64.convert_i32_s (i32.sub (i32.const 1) (i32.and (i32.shr_u (local.get $y) (i32.const 6)) (i32.const 2)))))))))
    (if (i32.ge_u (local.get $j) (i32.load (i32.add (local.get $k) (i32.shl (local.get $layer) (i32.const 2)))))
      (then
        (i32.store (i32.add (local.get $rej) (i32.shl (local.get $n) (i32.const 2))) (local.get $o))
        (i32.store offset=4 (i32.add (local.get $rej) (i32.shl (local.get $n) (i32.const 2))) (local.get $y))
        (local.set $n (i32.add (local.get $n) (i32.const 2)))))
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    (local.set $o (i32.add (local.get $o) (i32.const 1)))
    (br $next)))
  (local.get $n))
`
