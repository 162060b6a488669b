/**
 * ReLU forward/backward and softmax (uses $exp4 from math.wat.ts).
 */
import type { KernelFeatures } from "./wat.js"

/** A loop over byte range [p, end) of one pointer `p` stepping `step` bytes, plus extra pointers. */
const walk = (label: string, ptrs: ReadonlyArray<string>, end: string, step: number, body: string): string => `
  (block $${label}_done (loop $${label}
    (br_if $${label}_done (i32.ge_u (local.get $${ptrs[0]}) ${end}))
    ${body}
    ${ptrs.map((p) => `(local.set $${p} (i32.add (local.get $${p}) (i32.const ${step})))`).join(" ")}
    (br $${label})))`

export const activationWat = (_f: KernelFeatures): string => `
;; y = max(x,0) + slope·min(x,0) (pmax/pmin are C++'s std::max/min, as Caffe).
(func $relu_fwd (export "relu_fwd") (param $x i32) (param $y i32) (param $n i32) (param $slope f32)
  (local $end i32) (local $vs v128) (local $v v128) (local $f f32)
  (local.set $vs (f32x4.splat (local.get $slope)))
  (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
  (if (f32.eq (local.get $slope) (f32.const 0))
    (then ${walk("z", ["x", "y"], "(local.get $end)", 16, `(v128.store (local.get $y) (f32x4.pmax (v128.load (local.get $x)) (v128.const i32x4 0 0 0 0)))`)})
    (else ${walk(
      "l",
      ["x", "y"],
      "(local.get $end)",
      16,
      `(local.set $v (v128.load (local.get $x)))
      (v128.store (local.get $y) (f32x4.add (f32x4.pmax (local.get $v) (v128.const i32x4 0 0 0 0))
                                            (f32x4.mul (local.get $vs) (f32x4.pmin (local.get $v) (v128.const i32x4 0 0 0 0)))))`
    )}))
  (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
  ${walk(
    "t",
    ["x", "y"],
    "(local.get $end)",
    4,
    `(local.set $f (f32.load (local.get $x)))
    (f32.store (local.get $y)
      (f32.add (select (local.get $f) (f32.const 0) (f32.gt (local.get $f) (f32.const 0)))
               (f32.mul (local.get $slope) (select (local.get $f) (f32.const 0) (f32.lt (local.get $f) (f32.const 0))))))`
  )})

;; dx = dy·(x > 0 ? 1 : slope)
(func $relu_bwd (export "relu_bwd") (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $slope f32)
  (local $end i32) (local $vs v128)
  (local.set $vs (f32x4.splat (local.get $slope)))
  (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
  ${walk(
    "v",
    ["x", "dy", "dx"],
    "(local.get $end)",
    16,
    `(v128.store (local.get $dx) (f32x4.mul (v128.load (local.get $dy))
      (v128.bitselect (v128.const f32x4 1 1 1 1) (local.get $vs) (f32x4.gt (v128.load (local.get $x)) (v128.const i32x4 0 0 0 0)))))`
  )}
  (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
  ${walk(
    "t",
    ["x", "dy", "dx"],
    "(local.get $end)",
    4,
    `(f32.store (local.get $dx) (f32.mul (f32.load (local.get $dy))
      (select (f32.const 1) (local.get $slope) (f32.gt (f32.load (local.get $x)) (f32.const 0)))))`
  )})

(func $exp1 (param $x f32) (result f32) (f32x4.extract_lane 0 (call $exp4 (f32x4.splat (local.get $x)))))

;; Softmax over the channel axis of (outer × channels × inner), max-subtracted. 4 lanes along inner when
;; inner ≥ 4, along channels when inner == 1; other positions lane by lane.
(func $softmax (export "softmax") (param $x i32) (param $y i32) (param $outer i32) (param $channels i32) (param $inner i32)
  (local $o i32) (local $k i32) (local $c i32) (local $stride i32) (local $px i32) (local $py i32) (local $end i32)
  (local $vmax v128) (local $vsum v128) (local $e v128) (local $m f32) (local $s f32) (local $f f32)
  (local.set $stride (i32.shl (local.get $inner) (i32.const 2)))
  (block $outer_done (loop $outer_loop
    (br_if $outer_done (i32.ge_s (local.get $o) (local.get $outer)))
    (if (i32.eq (local.get $inner) (i32.const 1))
      (then
        ;; contiguous row of channels
        (local.set $vmax (v128.const f32x4 -inf -inf -inf -inf))
        (local.set $m (f32.const -inf))
        (local.set $px (local.get $x))
        (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $channels) (i32.const -4)) (i32.const 2))))
        ${walk("rm", ["px"], "(local.get $end)", 16, `(local.set $vmax (f32x4.max (local.get $vmax) (v128.load (local.get $px))))`)}
        (local.set $end (i32.add (local.get $x) (i32.shl (local.get $channels) (i32.const 2))))
        ${walk("rmt", ["px"], "(local.get $end)", 4, `(local.set $m (f32.max (local.get $m) (f32.load (local.get $px))))`)}
        (local.set $m (f32.max (f32.max (local.get $m) (f32.max (f32x4.extract_lane 0 (local.get $vmax)) (f32x4.extract_lane 1 (local.get $vmax))))
                               (f32.max (f32x4.extract_lane 2 (local.get $vmax)) (f32x4.extract_lane 3 (local.get $vmax)))))
        (local.set $vmax (f32x4.splat (local.get $m)))
        (local.set $vsum (v128.const i32x4 0 0 0 0))
        (local.set $s (f32.const 0))
        (local.set $px (local.get $x))
        (local.set $py (local.get $y))
        (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $channels) (i32.const -4)) (i32.const 2))))
        ${walk(
          "re",
          ["px", "py"],
          "(local.get $end)",
          16,
          `(local.set $e (call $exp4 (f32x4.sub (v128.load (local.get $px)) (local.get $vmax))))
          (v128.store (local.get $py) (local.get $e))
          (local.set $vsum (f32x4.add (local.get $vsum) (local.get $e)))`
        )}
        (local.set $end (i32.add (local.get $x) (i32.shl (local.get $channels) (i32.const 2))))
        ${walk(
          "ret",
          ["px", "py"],
          "(local.get $end)",
          4,
          `(local.set $f (call $exp1 (f32.sub (f32.load (local.get $px)) (local.get $m))))
          (f32.store (local.get $py) (local.get $f))
          (local.set $s (f32.add (local.get $s) (local.get $f)))`
        )}
        (local.set $s (f32.add (local.get $s)
          (f32.add (f32.add (f32x4.extract_lane 0 (local.get $vsum)) (f32x4.extract_lane 1 (local.get $vsum)))
                   (f32.add (f32x4.extract_lane 2 (local.get $vsum)) (f32x4.extract_lane 3 (local.get $vsum))))))
        (local.set $vsum (f32x4.splat (local.get $s)))
        (local.set $py (local.get $y))
        (local.set $end (i32.add (local.get $y) (i32.shl (i32.and (local.get $channels) (i32.const -4)) (i32.const 2))))
        ${walk("rd", ["py"], "(local.get $end)", 16, `(v128.store (local.get $py) (f32x4.div (v128.load (local.get $py)) (local.get $vsum)))`)}
        (local.set $end (i32.add (local.get $y) (i32.shl (local.get $channels) (i32.const 2))))
        ${walk("rdt", ["py"], "(local.get $end)", 4, `(f32.store (local.get $py) (f32.div (f32.load (local.get $py)) (local.get $s)))`)})
      (else
        (local.set $k (i32.const 0))
        (block $k_done (loop $k_loop
          (br_if $k_done (i32.ge_s (local.get $k) (local.get $inner)))
          (if (i32.le_s (i32.add (local.get $k) (i32.const 4)) (local.get $inner))
            (then
              (local.set $vmax (v128.const f32x4 -inf -inf -inf -inf))
              (local.set $px (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
              (local.set $c (i32.const 0))
              (block $d (loop $l (br_if $d (i32.ge_s (local.get $c) (local.get $channels)))
                (local.set $vmax (f32x4.max (local.get $vmax) (v128.load (local.get $px))))
                (local.set $px (i32.add (local.get $px) (local.get $stride)))
                (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $l)))
              (local.set $vsum (v128.const i32x4 0 0 0 0))
              (local.set $px (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
              (local.set $py (i32.add (local.get $y) (i32.shl (local.get $k) (i32.const 2))))
              (local.set $c (i32.const 0))
              (block $d (loop $l (br_if $d (i32.ge_s (local.get $c) (local.get $channels)))
                (local.set $e (call $exp4 (f32x4.sub (v128.load (local.get $px)) (local.get $vmax))))
                (v128.store (local.get $py) (local.get $e))
                (local.set $vsum (f32x4.add (local.get $vsum) (local.get $e)))
                (local.set $px (i32.add (local.get $px) (local.get $stride)))
                (local.set $py (i32.add (local.get $py) (local.get $stride)))
                (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $l)))
              (local.set $py (i32.add (local.get $y) (i32.shl (local.get $k) (i32.const 2))))
              (local.set $c (i32.const 0))
              (block $d (loop $l (br_if $d (i32.ge_s (local.get $c) (local.get $channels)))
                (v128.store (local.get $py) (f32x4.div (v128.load (local.get $py)) (local.get $vsum)))
                (local.set $py (i32.add (local.get $py) (local.get $stride)))
                (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $l)))
              (local.set $k (i32.add (local.get $k) (i32.const 4))))
            (else
              (local.set $m (f32.const -inf))
              (local.set $px (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
              (local.set $c (i32.const 0))
              (block $d (loop $l (br_if $d (i32.ge_s (local.get $c) (local.get $channels)))
                (local.set $m (f32.max (local.get $m) (f32.load (local.get $px))))
                (local.set $px (i32.add (local.get $px) (local.get $stride)))
                (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $l)))
              (local.set $s (f32.const 0))
              (local.set $px (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
              (local.set $py (i32.add (local.get $y) (i32.shl (local.get $k) (i32.const 2))))
              (local.set $c (i32.const 0))
              (block $d (loop $l (br_if $d (i32.ge_s (local.get $c) (local.get $channels)))
                (local.set $f (call $exp1 (f32.sub (f32.load (local.get $px)) (local.get $m))))
                (f32.store (local.get $py) (local.get $f))
                (local.set $s (f32.add (local.get $s) (local.get $f)))
                (local.set $px (i32.add (local.get $px) (local.get $stride)))
                (local.set $py (i32.add (local.get $py) (local.get $stride)))
                (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $l)))
              (local.set $py (i32.add (local.get $y) (i32.shl (local.get $k) (i32.const 2))))
              (local.set $c (i32.const 0))
              (block $d (loop $l (br_if $d (i32.ge_s (local.get $c) (local.get $channels)))
                (f32.store (local.get $py) (f32.div (f32.load (local.get $py)) (local.get $s)))
                (local.set $py (i32.add (local.get $py) (local.get $stride)))
                (local.set $c (i32.add (local.get $c) (i32.const 1))) (br $l)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))))
          (br $k_loop)))))
    (local.set $x (i32.add (local.get $x) (i32.mul (local.get $channels) (local.get $stride))))
    (local.set $y (i32.add (local.get $y) (i32.mul (local.get $channels) (local.get $stride))))
    (local.set $o (i32.add (local.get $o) (i32.const 1)))
    (br $outer_loop))))
`
