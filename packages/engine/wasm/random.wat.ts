import { zigguratR } from "../src/core/ziggurat.js"

/**
 * mt19937 and the ziggurat for bulk Gaussian fills (DummyData's per-forward refill), the same
 * operations as src/core/rng.ts's JavaScript — twist, tempering, then per word
 * out = f32(mean + std · (j · w[layer] · ±1)) in doubles, the rare draws outside their layer's inner
 * rectangle finished after each run of state words by the exact test (Math.exp / Math.log imported, the
 * very functions the JavaScript calls) — so both give the same samples and state bit for bit.
 *
 *   mt_twist(mt)                               the next 624 state words in place
 *   ziggurat_run(mt first stop out mean std k w rej) → entries
 *       samples from words mt[first .. stop) into out[0 ..]; a draw outside its layer's inner
 *       rectangle is recorded as (output position, draw) int32 pairs at rej
 *   exp_estimate(z) → exp(z) within 1e-14 relative for −6 ≤ z ≤ 0 (gaussian_fill's test, below)
 *   gaussian_fill(mt index out count mean std tables rej) → index
 *       count samples into out from state word `index` on (twisting as needed): runs of ziggurat_run,
 *       each followed by its recorded draws' exact path; returns the next state index
 *   uniform_fill(mt index out count min scale) → index
 *       count samples f32(min + (tempered word >>> 8) · scale) into out (Rng.fillUniform), four words
 *       at a time in two f64x2; returns the next state index
 */
const twistStep = (i: string, next: string, far: string): string => `
      (local.set $y (i32.or (i32.and (i32.load ${i}) (i32.const 0x80000000)) (i32.and (i32.load ${next}) (i32.const 0x7fffffff))))
      (i32.store ${i} (i32.xor (i32.xor (i32.load ${far}) (i32.shr_u (local.get $y) (i32.const 1)))
        (i32.and (i32.sub (i32.const 0) (i32.and (local.get $y) (i32.const 1))) (i32.const 0x9908b0df))))`

/**
 * Four twist steps at once (words p .. p+3): each reads mt[i+1] before the next group overwrites it and a
 * far word that is either still old (i + 397 < 624) or already new (i − 227 < i), as the scalar loop does.
 */
const twistStep4 = (far: string): string => `
      (local.set $v (v128.or (v128.and (v128.load (local.get $p)) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))
        (v128.and (v128.load offset=4 (local.get $p)) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))))
      (v128.store (local.get $p) (v128.xor (v128.xor (v128.load ${far}) (i32x4.shr_u (local.get $v) (i32.const 1)))
        (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 31)) (i32.const 31))
          (v128.const i32x4 0x9908b0df 0x9908b0df 0x9908b0df 0x9908b0df))))`

const splat = (x: number): string => `(v128.const i32x4 ${x} ${x} ${x} ${x})`

/** mt19937's tempering of one word in $y, or of four in $v. */
const temper = `
    (local.set $y (i32.xor (local.get $y) (i32.shr_u (local.get $y) (i32.const 11))))
    (local.set $y (i32.xor (local.get $y) (i32.and (i32.shl (local.get $y) (i32.const 7)) (i32.const 0x9d2c5680))))
    (local.set $y (i32.xor (local.get $y) (i32.and (i32.shl (local.get $y) (i32.const 15)) (i32.const 0xefc60000))))
    (local.set $y (i32.xor (local.get $y) (i32.shr_u (local.get $y) (i32.const 18))))`
const temper4 = `
      (local.set $v (v128.xor (local.get $v) (i32x4.shr_u (local.get $v) (i32.const 11))))
      (local.set $v (v128.xor (local.get $v) (v128.and (i32x4.shl (local.get $v) (i32.const 7)) ${splat(0x9d2c5680 | 0)})))
      (local.set $v (v128.xor (local.get $v) (v128.and (i32x4.shl (local.get $v) (i32.const 15)) ${splat(0xefc60000 | 0)})))
      (local.set $v (v128.xor (local.get $v) (i32x4.shr_u (local.get $v) (i32.const 18))))`

/** Address of table entry `layer` (an i32 expression) of `bytes`-wide entries at $table. */
const entry = (table: string, layer: string, shift: number): string =>
  `(i32.add (local.get $${table}) (i32.shl ${layer} (i32.const ${shift})))`

/** Byte offset of the (w[layer], k[layer]·w[layer]) f64 pairs in the tables (cpu-backend.ts writes them). */
export const zigguratPairsOffset = 2560

/**
 * Two draws (lanes `half` of the group) in f64x2: x = j · w[layer] into $x (the pair of table entries
 * loaded as one vector each: w and the bound k·w), set aside where x ≥ k·w (as j ≥ k: w > 0 and
 * k·w > (k−1)·w after rounding), then the samples mean + std · (x with y's bit 7 as sign).
 */
const samples2 = (half: "low" | "high"): string => {
  const [a, b] = half === "low" ? ["$l0", "$l1"] : ["$l2", "$l3"]
  const j = half === "low" ? "(local.get $jv)" : "(i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $jv) (local.get $jv))"
  const x = half === "low" ? "$xlo" : "$xhi"
  return `
    (local.set $e0 (v128.load (local.get ${a})))
    (local.set $e1 (v128.load (local.get ${b})))
    (local.set ${x} (f64x2.mul (f64x2.convert_low_i32x4_u ${j})
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $e0) (local.get $e1))))
    (local.set $m (i32.or (local.get $m) (i32.shl (i64x2.bitmask (f64x2.ge (local.get ${x})
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $e0) (local.get $e1)))) (i32.const ${half === "low" ? 0 : 2}))))
    (local.set ${x} (f32x4.demote_f64x2_zero (f64x2.add (local.get $mean2) (f64x2.mul (local.get $std2)
      (v128.xor (local.get ${x}) (i64x2.shl (i64x2.extend_${half}_i32x4_u (local.get $sign)) (i32.const 32)))))))`
}

/** Records lane `lane` of the group as set aside when its bit is in $m. */
const setAside = (lane: number): string => `
          (if (i32.and (local.get $m) (i32.const ${1 << lane})) (then
            (i32.store (i32.add (local.get $rej) (i32.shl (local.get $n) (i32.const 2))) (i32.add (local.get $o) (i32.const ${lane})))
            (i32.store offset=4 (i32.add (local.get $rej) (i32.shl (local.get $n) (i32.const 2))) (i32x4.extract_lane ${lane} (local.get $v)))
            (local.set $n (i32.add (local.get $n) (i32.const 2)))))`

/** The next tempered word into $\{into}, twisting when the state is used up (Rng.nextUint32). */
const nextWord = (into: string): string => `
      (if (i32.ge_u (local.get $index) (i32.const 624)) (then (call $mt_twist (local.get $mt)) (local.set $index (i32.const 0))))
      (local.set $y (i32.load (i32.add (local.get $mt) (i32.shl (local.get $index) (i32.const 2)))))
      (local.set $index (i32.add (local.get $index) (i32.const 1)))
      ${temper}
      (local.set $${into} (local.get $y))`

/** Uniform in (0, 1) from the next word, never 0 (Rng.openUnit). */
const openUnit = (): string => `${nextWord("a")}
      (f64.div (f64.add (f64.convert_i32_u (local.get $a)) (f64.const 0.5)) (f64.const 4294967296))`

/**
 * exp(z) for −6 ≤ z ≤ 0 within 1e-14 relative (z = n·ln 2 + r, |r| ≤ ln2/2, Taylor to r¹¹: truncation
 * < 7e-15, rounding a few ulps) — only to decide the ziggurat's test without calling out to JavaScript
 * (≈ 50 ns a call) unless the two sides are within 1e-12 relative, where Math.exp itself decides. As
 * Math.exp is within 1 ulp of exp, a decision outside that band is the one Math.exp would give.
 */
const expEstimateWat = (): string => {
  // 1/i! for i = 0 … 11, innermost (r¹¹) first.
  const taylor = Array.from({ length: 12 }, (_, i) => Array.from({ length: i }, (_, m) => m + 1).reduce((c, m) => c / m, 1))
  const horner = taylor.reduceRight(
    (inner, c, i) => (i === 11 ? `(f64.const ${c})` : `(f64.add (f64.const ${c}) (f64.mul (local.get $rr) ${inner}))`),
    ""
  )
  return `
(func $exp_estimate (export "exp_estimate") (param $z f64) (result f64)
  (local $en f64) (local $rr f64)
  (local.set $en (f64.nearest (f64.mul (local.get $z) (f64.const ${1 / Math.LN2}))))
  (local.set $rr (f64.sub (local.get $z) (f64.mul (local.get $en) (f64.const ${Math.LN2}))))
  (f64.mul ${horner}
    (f64.reinterpret_i64 (i64.shl (i64.add (i64.trunc_f64_s (local.get $en)) (i64.const 1023)) (i64.const 52)))))`
}

/** Imports the ziggurat's exact path calls: the JavaScript Math functions themselves. */
export const randomImportsWat = (): string => `
  (import "math" "exp" (func $exp (param f64) (result f64)))
  (import "math" "log" (func $log (param f64) (result f64)))`

export const randomWat = (): string => `${expEstimateWat()}
(func $mt_twist (export "mt_twist") (param $mt i32)
  (local $p i32) (local $y i32) (local $end i32) (local $v v128)
  ;; i < 224 in fours: mt[i] = mt[i + 397] ^ … (mt[i + 397 .. i + 400] are all still old)
  (local.set $p (local.get $mt))
  (local.set $end (i32.add (local.get $mt) (i32.const ${224 * 4})))
  (loop $a
    ${twistStep4(`(i32.add (local.get $p) (i32.const ${397 * 4}))`)}
    (local.set $p (i32.add (local.get $p) (i32.const 16)))
    (br_if $a (i32.lt_u (local.get $p) (local.get $end))))
  ;; 224 ≤ i < 227 one by one: mt[i + 397] would reach past the state in fours.
  ${twistStep("(local.get $p)", "(i32.add (local.get $p) (i32.const 4))", `(i32.add (local.get $p) (i32.const ${397 * 4}))`)}
  ${twistStep("(i32.add (local.get $p) (i32.const 4))", "(i32.add (local.get $p) (i32.const 8))", `(i32.add (local.get $p) (i32.const ${398 * 4}))`)}
  ${twistStep("(i32.add (local.get $p) (i32.const 8))", "(i32.add (local.get $p) (i32.const 12))", `(i32.add (local.get $p) (i32.const ${399 * 4}))`)}
  ;; 227 ≤ i < 623 (99 fours): mt[i] = mt[i − 227] ^ … (mt[i − 227 .. i − 224] are all new already)
  (local.set $p (i32.add (local.get $mt) (i32.const ${227 * 4})))
  (local.set $end (i32.add (local.get $mt) (i32.const ${623 * 4})))
  (loop $b
    ${twistStep4(`(i32.sub (local.get $p) (i32.const ${227 * 4}))`)}
    (local.set $p (i32.add (local.get $p) (i32.const 16)))
    (br_if $b (i32.lt_u (local.get $p) (local.get $end))))
  ;; i = 623 wraps to mt[0].
  ${twistStep("(local.get $p)", "(local.get $mt)", `(i32.add (local.get $mt) (i32.const ${396 * 4}))`)})

(func $ziggurat_run (export "ziggurat_run") (param $mt i32) (param $first i32) (param $stop i32) (param $out i32)
  (param $mean f64) (param $std f64) (param $k i32) (param $w i32) (param $rej i32) (result i32)
  (local $p i32) (local $end i32) (local $o i32) (local $y i32) (local $layer i32) (local $j i32) (local $n i32)
  (local $v v128) (local $jv v128) (local $sign v128) (local $layers v128) (local $mean2 v128) (local $std2 v128)
  (local $pairs v128) (local $e0 v128) (local $e1 v128) (local $xlo v128) (local $xhi v128)
  (local $l0 i32) (local $l1 i32) (local $l2 i32) (local $l3 i32) (local $m i32)
  (local.set $p (i32.add (local.get $mt) (i32.shl (local.get $first) (i32.const 2))))
  (local.set $end (i32.add (local.get $mt) (i32.shl (local.get $stop) (i32.const 2))))
  (local.set $o (i32.const 0))
  (local.set $n (i32.const 0))
  (local.set $pairs (i32x4.splat (i32.add (local.get $k) (i32.const ${zigguratPairsOffset}))))
  (local.set $mean2 (f64x2.splat (local.get $mean)))
  (local.set $std2 (f64x2.splat (local.get $std)))
  ;; Four words at a time: tempering and the magnitudes in i32x4, the samples in two f64x2 (the same
  ;; double operations as the one-word loop below, so the same bits), the tables read per lane.
  (block $fours (loop $four
    (br_if $fours (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
    (local.set $v (v128.load (local.get $p)))
    ${temper4}
    (local.set $jv (i32x4.shr_u (local.get $v) (i32.const 8)))
    (local.set $sign (v128.and (i32x4.shl (local.get $v) (i32.const 24)) ${splat(0x80000000 | 0)}))
    (local.set $layers (i32x4.add (i32x4.shl (v128.and (local.get $v) ${splat(127)}) (i32.const 4)) (local.get $pairs)))
    (local.set $l0 (i32x4.extract_lane 0 (local.get $layers)))
    (local.set $l1 (i32x4.extract_lane 1 (local.get $layers)))
    (local.set $l2 (i32x4.extract_lane 2 (local.get $layers)))
    (local.set $l3 (i32x4.extract_lane 3 (local.get $layers)))
    (local.set $m (i32.const 0))
    ${samples2("low")}
    ${samples2("high")}
    (v128.store (i32.add (local.get $out) (i32.shl (local.get $o) (i32.const 2)))
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $xlo) (local.get $xhi)))
    (if (local.get $m) (then ${[0, 1, 2, 3].map(setAside).join("")}))
    (local.set $p (i32.add (local.get $p) (i32.const 16)))
    (local.set $o (i32.add (local.get $o) (i32.const 4)))
    (br $four)))
  (block $done (loop $next
    (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
    (local.set $y (i32.load (local.get $p)))
    ${temper}
    (local.set $layer (i32.and (local.get $y) (i32.const 127)))
    (local.set $j (i32.shr_u (local.get $y) (i32.const 8)))
    (f32.store (i32.add (local.get $out) (i32.shl (local.get $o) (i32.const 2)))
      (f32.demote_f64 (f64.add (local.get $mean) (f64.mul (local.get $std)
        (f64.mul
          (f64.mul (f64.convert_i32_u (local.get $j)) (f64.load ${entry("w", "(local.get $layer)", 3)}))
          (f64.convert_i32_s (i32.sub (i32.const 1) (i32.and (i32.shr_u (local.get $y) (i32.const 6)) (i32.const 2)))))))))
    (if (i32.ge_u (local.get $j) (i32.load ${entry("k", "(local.get $layer)", 2)}))
      (then
        (i32.store (i32.add (local.get $rej) (i32.shl (local.get $n) (i32.const 2))) (local.get $o))
        (i32.store offset=4 (i32.add (local.get $rej) (i32.shl (local.get $n) (i32.const 2))) (local.get $y))
        (local.set $n (i32.add (local.get $n) (i32.const 2)))))
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    (local.set $o (i32.add (local.get $o) (i32.const 1)))
    (br $next)))
  (local.get $n))

(func $gaussian_fill (export "gaussian_fill") (param $mt i32) (param $index i32) (param $out i32) (param $count i32)
  (param $mean f64) (param $std f64) (param $tables i32) (param $rej i32) (result i32)
  (local $o i32) (local $stop i32) (local $run i32) (local $n i32) (local $r i32) (local $y i32) (local $a i32) (local $b i32)
  (local $draw i32) (local $layer i32) (local $j i32) (local $x f64) (local $t f64) (local $fl f64)
  (local $lhs f64) (local $z f64) (local $e f64)
  (local.set $o (i32.const 0))
  (block $filled (loop $runs
    (br_if $filled (i32.ge_u (local.get $o) (local.get $count)))
    (if (i32.ge_u (local.get $index) (i32.const 624)) (then (call $mt_twist (local.get $mt)) (local.set $index (i32.const 0))))
    (local.set $stop (i32.add (local.get $index) (i32.sub (local.get $count) (local.get $o))))
    (if (i32.gt_u (local.get $stop) (i32.const 624)) (then (local.set $stop (i32.const 624))))
    (local.set $run (i32.add (local.get $out) (i32.shl (local.get $o) (i32.const 2))))
    (local.set $n (call $ziggurat_run (local.get $mt) (local.get $index) (local.get $stop) (local.get $run)
      (local.get $mean) (local.get $std) (local.get $tables) (i32.add (local.get $tables) (i32.const ${4 * 128})) (local.get $rej)))
    (local.set $o (i32.add (local.get $o) (i32.sub (local.get $stop) (local.get $index))))
    (local.set $index (local.get $stop))
    ;; The run's set-aside draws in order, their extra words following the run's (Rng.zigguratSlow).
    (local.set $r (i32.const 0))
    (block $finished (loop $slow
      (br_if $finished (i32.ge_u (local.get $r) (local.get $n)))
      (local.set $draw (i32.load offset=4 (i32.add (local.get $rej) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $b (local.get $draw))
      (block $got (loop $retry
        (local.set $layer (i32.and (local.get $b) (i32.const 127)))
        (local.set $j (i32.shr_u (local.get $b) (i32.const 8)))
        (local.set $x (f64.mul (f64.convert_i32_u (local.get $j)) (f64.load offset=${4 * 128} (i32.add (local.get $tables) (i32.shl (local.get $layer) (i32.const 3))))))
        (br_if $got (i32.lt_u (local.get $j) (i32.load (i32.add (local.get $tables) (i32.shl (local.get $layer) (i32.const 2))))))
        (if (i32.eqz (local.get $layer)) (then
          ;; The tail beyond r (Marsaglia's method): x = −ln(U1)/r accepted when −2 ln(U2) > x².
          (loop $tail
            (local.set $x (f64.div (f64.neg (call $log ${openUnit()})) (f64.const ${zigguratR})))
            (local.set $t (f64.neg (call $log ${openUnit()})))
            (br_if $tail (f64.lt (f64.add (local.get $t) (local.get $t)) (f64.mul (local.get $x) (local.get $x)))))
          (local.set $x (f64.add (f64.const ${zigguratR}) (local.get $x)))
          (br $got)))
        ;; f[layer] + U · (f[layer − 1] − f[layer]) < exp(−x²/2), U with 53 bits from two words.
        (local.set $fl (f64.load offset=${4 * 128 + 8 * 128} (i32.add (local.get $tables) (i32.shl (local.get $layer) (i32.const 3)))))
        ${nextWord("a")}
        ${nextWord("b")}
        (local.set $lhs (f64.add (local.get $fl) (f64.mul
            (f64.div (f64.add (f64.mul (f64.convert_i32_u (i32.shr_u (local.get $a) (i32.const 5))) (f64.const 67108864))
              (f64.convert_i32_u (i32.shr_u (local.get $b) (i32.const 6)))) (f64.const 9007199254740992))
            (f64.sub (f64.load offset=${4 * 128 + 8 * 127} (i32.add (local.get $tables) (i32.shl (local.get $layer) (i32.const 3)))) (local.get $fl)))))
        (local.set $z (f64.mul (f64.mul (f64.const -0.5) (local.get $x)) (local.get $x)))
        (local.set $e (call $exp_estimate (local.get $z)))
        (br_if $got (f64.lt (local.get $lhs) (f64.mul (local.get $e) (f64.const ${1 - 1e-12}))))
        (if (f64.le (local.get $lhs) (f64.mul (local.get $e) (f64.const ${1 + 1e-12})))
          (then (br_if $got (f64.lt (local.get $lhs) (call $exp (local.get $z))))))
        ${nextWord("b")}
        (br $retry)))
      (if (i32.and (local.get $draw) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
      (f32.store (i32.add (local.get $run) (i32.shl (i32.load (i32.add (local.get $rej) (i32.shl (local.get $r) (i32.const 2)))) (i32.const 2)))
        (f32.demote_f64 (f64.add (local.get $mean) (f64.mul (local.get $std) (local.get $x)))))
      (local.set $r (i32.add (local.get $r) (i32.const 2)))
      (br $slow)))
    (br $runs)))
  (local.get $index))

(func $uniform_fill (export "uniform_fill") (param $mt i32) (param $index i32) (param $out i32) (param $count i32)
  (param $min f64) (param $scale f64) (result i32)
  (local $p i32) (local $end i32) (local $o i32) (local $stop i32) (local $y i32) (local $v v128) (local $jv v128)
  (local $min2 v128) (local $scale2 v128)
  (local.set $min2 (f64x2.splat (local.get $min)))
  (local.set $scale2 (f64x2.splat (local.get $scale)))
  (local.set $o (local.get $out))
  (block $filled (loop $runs
    (br_if $filled (i32.eqz (local.get $count)))
    (if (i32.ge_u (local.get $index) (i32.const 624)) (then (call $mt_twist (local.get $mt)) (local.set $index (i32.const 0))))
    (local.set $stop (i32.add (local.get $index) (local.get $count)))
    (if (i32.gt_u (local.get $stop) (i32.const 624)) (then (local.set $stop (i32.const 624))))
    (local.set $count (i32.sub (local.get $count) (i32.sub (local.get $stop) (local.get $index))))
    (local.set $p (i32.add (local.get $mt) (i32.shl (local.get $index) (i32.const 2))))
    (local.set $end (i32.add (local.get $mt) (i32.shl (local.get $stop) (i32.const 2))))
    (local.set $index (local.get $stop))
    ;; Four words at a time: the same double operations per lane as the one-word loop, so the same bits.
    (block $fours (loop $four
      (br_if $fours (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
      (local.set $v (v128.load (local.get $p)))
      ${temper4}
      (local.set $jv (i32x4.shr_u (local.get $v) (i32.const 8)))
      (v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (f64x2.add (local.get $min2) (f64x2.mul (f64x2.convert_low_i32x4_u (local.get $jv)) (local.get $scale2))))
        (f32x4.demote_f64x2_zero (f64x2.add (local.get $min2) (f64x2.mul (f64x2.convert_low_i32x4_u
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $jv) (local.get $jv))) (local.get $scale2))))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br $four)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $y (i32.load (local.get $p)))
      ${temper}
      (f32.store (local.get $o) (f32.demote_f64 (f64.add (local.get $min)
        (f64.mul (f64.convert_i32_u (i32.shr_u (local.get $y) (i32.const 8))) (local.get $scale)))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $next)))
    (br $runs)))
  (local.get $index))
`
