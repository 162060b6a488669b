/**
 * MAX and AVE pooling, forward and backward, over (planes = num·channels) input planes.
 *
 * The generic kernels are scalar: windows are ragged at the edges and the results must be bit-identical
 * to the reference (first strict maximum wins; AVE sums in float64 like the reference). The common MAX
 * cases have f32x4 kernels below (2×2/2 whole windows; 3×3/2 interior, the generic kernel doing the rest).
 */
const params = `(param $planes i32) (param $height i32) (param $width i32) (param $kh i32) (param $kw i32)
  (param $padH i32) (param $padW i32) (param $sh i32) (param $sw i32) (param $pooledH i32) (param $pooledW i32)`

/**
 * Loops p (plane), oh, ow computing the clipped window [hs,he)×[ws,we); `body` sees $out (output index).
 * With `skipInterior`, rows oh < $ohFull start at ow = $owFull (a SIMD kernel computed those outputs).
 */
const windows = (clipToPad: boolean, body: string, skipInterior = false): string => `
  (local.set $out (i32.const 0))
  (local.set $p (i32.const 0))
  (block $p_done (loop $p_loop
    (br_if $p_done (i32.ge_s (local.get $p) (local.get $planes)))
    (local.set $oh (i32.const 0))
    (block $oh_done (loop $oh_loop
      (br_if $oh_done (i32.ge_s (local.get $oh) (local.get $pooledH)))
      (local.set $ow (i32.const 0))
      ${
        skipInterior
          ? `(if (i32.lt_s (local.get $oh) (local.get $ohFull))
        (then (local.set $ow (local.get $owFull)) (local.set $out (i32.add (local.get $out) (local.get $owFull)))))`
          : ""
      }
      (block $ow_done (loop $ow_loop
        (br_if $ow_done (i32.ge_s (local.get $ow) (local.get $pooledW)))
        (local.set $hs (i32.sub (i32.mul (local.get $oh) (local.get $sh)) (local.get $padH)))
        (local.set $ws (i32.sub (i32.mul (local.get $ow) (local.get $sw)) (local.get $padW)))
        ${
          clipToPad
            ? `(local.set $he (i32.add (local.get $hs) (local.get $kh)))
        (if (i32.gt_s (local.get $he) (i32.add (local.get $height) (local.get $padH))) (then (local.set $he (i32.add (local.get $height) (local.get $padH)))))
        (local.set $we (i32.add (local.get $ws) (local.get $kw)))
        (if (i32.gt_s (local.get $we) (i32.add (local.get $width) (local.get $padW))) (then (local.set $we (i32.add (local.get $width) (local.get $padW)))))
        (local.set $divisor (f64.convert_i32_s (i32.mul (i32.sub (local.get $he) (local.get $hs)) (i32.sub (local.get $we) (local.get $ws)))))`
            : `(local.set $he (i32.add (local.get $hs) (local.get $kh)))
        (local.set $we (i32.add (local.get $ws) (local.get $kw)))`
        }
        (if (i32.lt_s (local.get $hs) (i32.const 0)) (then (local.set $hs (i32.const 0))))
        (if (i32.lt_s (local.get $ws) (i32.const 0)) (then (local.set $ws (i32.const 0))))
        (if (i32.gt_s (local.get $he) (local.get $height)) (then (local.set $he (local.get $height))))
        (if (i32.gt_s (local.get $we) (local.get $width)) (then (local.set $we (local.get $width))))
        ${body}
        (local.set $out (i32.add (local.get $out) (i32.const 1)))
        (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
        (br $ow_loop)))
      (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
      (br $oh_loop)))
    (local.set $plane (i32.add (local.get $plane) (i32.shl (i32.mul (local.get $height) (local.get $width)) (i32.const 2))))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (br $p_loop)))`

/** for h in [hs,he), w in [ws,we): body sees $idx = h·W + w and $addr (byte address in the plane). */
const windowCells = (body: string): string => `
        (local.set $h (local.get $hs))
        (block $h_done (loop $h_loop
          (br_if $h_done (i32.ge_s (local.get $h) (local.get $he)))
          (local.set $w (local.get $ws))
          (block $w_done (loop $w_loop
            (br_if $w_done (i32.ge_s (local.get $w) (local.get $we)))
            (local.set $idx (i32.add (i32.mul (local.get $h) (local.get $width)) (local.get $w)))
            (local.set $addr (i32.add (local.get $plane) (i32.shl (local.get $idx) (i32.const 2))))
            ${body}
            (local.set $w (i32.add (local.get $w) (i32.const 1)))
            (br $w_loop)))
          (local.set $h (i32.add (local.get $h) (i32.const 1)))
          (br $h_loop)))`

/**
 * A window of exactly 3×3 cells (every interior window of a 3×3 pooling: CIFAR-10 quick, AlexNet),
 * unrolled: `cell(addr)` for its nine cells in windowCells' order (rows, then columns), $addr the first.
 */
const cells3x3 = (cell: (addr: string) => string): string => {
  const out: string[] = []
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) out.push(cell(r === 0 && c === 0 ? "(local.get $addr)" : `(i32.add (local.get $addr) (i32.add (i32.mul (local.get $rowBytes) (i32.const ${r})) (i32.const ${4 * c})))`))
  return out.join("\n")
}

/** Whether the current window [hs,he)×[ws,we) is 3×3; sets $addr to its first cell. */
const is3x3 = `(i32.and (i32.eq (i32.sub (local.get $he) (local.get $hs)) (i32.const 3)) (i32.eq (i32.sub (local.get $we) (local.get $ws)) (i32.const 3)))`
const firstCell = `(local.set $addr (i32.add (local.get $plane) (i32.shl (i32.add (i32.mul (local.get $hs) (local.get $width)) (local.get $ws)) (i32.const 2))))`

const loc = `(local $p i32) (local $oh i32) (local $ow i32) (local $hs i32) (local $he i32) (local $ws i32) (local $we i32)
  (local $h i32) (local $w i32) (local $idx i32) (local $addr i32) (local $out i32) (local $plane i32) (local $divisor f64)
  (local $rowBytes i32)`

export const poolWat = (): string => `
(func $max_pool_fwd (export "max_pool_fwd") ${params} (param $ohFull i32) (param $owFull i32)
  (param $bottom i32) (param $top i32) (param $mask i32)
  ${loc} (local $best f32) (local $arg i32) (local $v f32) (local $gt i32)
  (local.set $plane (local.get $bottom))
  ${windows(
    false,
    `(local.set $best (f32.const -3.4028234663852886e38))
        (local.set $arg (i32.const -1))
        ${windowCells(`(local.set $v (f32.load (local.get $addr)))
            ;; branch-free (select): which cell wins is data-dependent and mispredicted as a branch
            (local.set $gt (f32.gt (local.get $v) (local.get $best)))
            (local.set $best (select (local.get $v) (local.get $best) (local.get $gt)))
            (local.set $arg (select (local.get $idx) (local.get $arg) (local.get $gt)))`)}
        (f32.store (i32.add (local.get $top) (i32.shl (local.get $out) (i32.const 2))) (local.get $best))
        (i32.store (i32.add (local.get $mask) (i32.shl (local.get $out) (i32.const 2))) (local.get $arg))`,
    true
  )})

;; bottomDiff = 0, then bottomDiff[plane, mask] += topDiff.
(func $max_pool_bwd (export "max_pool_bwd") (param $planes i32) (param $planeIn i32) (param $planeOut i32)
  (param $topDiff i32) (param $mask i32) (param $bottomDiff i32)
  (local $p i32) (local $i i32) (local $arg i32) (local $a i32)
  (memory.fill (local.get $bottomDiff) (i32.const 0) (i32.shl (i32.mul (local.get $planes) (local.get $planeIn)) (i32.const 2)))
  (block $p_done (loop $p_loop
    (br_if $p_done (i32.ge_s (local.get $p) (local.get $planes)))
    (local.set $i (i32.const 0))
    (block $i_done (loop $i_loop
      (br_if $i_done (i32.ge_s (local.get $i) (local.get $planeOut)))
      (local.set $arg (i32.load (local.get $mask)))
      (if (i32.ge_s (local.get $arg) (i32.const 0))
        (then
          (local.set $a (i32.add (local.get $bottomDiff) (i32.shl (local.get $arg) (i32.const 2))))
          (f32.store (local.get $a) (f32.add (f32.load (local.get $a)) (f32.load (local.get $topDiff))))))
      (local.set $mask (i32.add (local.get $mask) (i32.const 4)))
      (local.set $topDiff (i32.add (local.get $topDiff) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $i_loop)))
    (local.set $bottomDiff (i32.add (local.get $bottomDiff) (i32.shl (local.get $planeIn) (i32.const 2))))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (br $p_loop))))

(func $ave_pool_fwd (export "ave_pool_fwd") ${params} (param $bottom i32) (param $top i32)
  ${loc} (local $s f64) (local $pairs i32) (local $s2 v128) (local $v0 v128) (local $v1 v128)
  (local.set $plane (local.get $bottom))
  (local.set $rowBytes (i32.shl (local.get $width) (i32.const 2)))
  ;; 3×3 windows at stride 2 (CIFAR-10 quick's pool2/pool3): two neighbouring whole windows at once, one
  ;; per f64x2 lane — each lane adds its nine cells in the same order as the one-window path, and both
  ;; windows have the same divisor (the same rows, three whole columns each).
  (local.set $pairs (i32.and (i32.and (i32.eq (local.get $kh) (i32.const 3)) (i32.eq (local.get $kw) (i32.const 3))) (i32.eq (local.get $sw) (i32.const 2))))
  ${windows(
    true,
    `(block $pair_done
        (local.set $s (f64.const 0))
        (if ${is3x3}
          (then ${firstCell}
            (if (i32.and (local.get $pairs) (i32.and (i32.lt_s (i32.add (local.get $ow) (i32.const 1)) (local.get $pooledW))
                  (i32.le_s (i32.add (local.get $ws) (i32.const 5)) (local.get $width))))
              (then
                ;; lanes: window ow (cells ws .. ws+2) and window ow+1 (cells ws+2 .. ws+4) of each row
                (local.set $s2 (f64x2.splat (f64.const 0)))
                ${[0, 1, 2]
                  .map((r) => {
                    const row = r === 0 ? "(local.get $addr)" : `(i32.add (local.get $addr) (i32.mul (local.get $rowBytes) (i32.const ${r})))`
                    const add = (v: string, lanes: string) =>
                      `(local.set $s2 (f64x2.add (local.get $s2) (f64x2.promote_low_f32x4 (i8x16.shuffle ${lanes} (local.get ${v}) (local.get ${v})))))`
                    return `(local.set $v0 (v128.load ${row}))
                (local.set $v1 (v128.load offset=4 ${row}))
                ${add("$v0", "0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11")}
                ${add("$v0", "4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15")}
                ${add("$v1", "4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15")}`
                  })
                  .join("\n")}
                (local.set $s2 (f64x2.div (local.get $s2) (f64x2.splat (local.get $divisor))))
                (f32.store (i32.add (local.get $top) (i32.shl (local.get $out) (i32.const 2))) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $s2))))
                (f32.store offset=4 (i32.add (local.get $top) (i32.shl (local.get $out) (i32.const 2))) (f32.demote_f64 (f64x2.extract_lane 1 (local.get $s2))))
                ;; the loop's own step then moves past the second window
                (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
                (local.set $out (i32.add (local.get $out) (i32.const 1)))
                (br $pair_done)))
            ${cells3x3((a) => `(local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load ${a}))))`)})
          (else
        ${windowCells(`(local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $addr)))))`)}))
        (f32.store (i32.add (local.get $top) (i32.shl (local.get $out) (i32.const 2)))
          (f32.demote_f64 (f64.div (local.get $s) (local.get $divisor)))))`
  )})

(func $ave_pool_bwd (export "ave_pool_bwd") ${params} (param $topDiff i32) (param $bottomDiff i32)
  ${loc} (local $d f64)
  (memory.fill (local.get $bottomDiff) (i32.const 0)
    (i32.shl (i32.mul (local.get $planes) (i32.mul (local.get $height) (local.get $width))) (i32.const 2)))
  (local.set $plane (local.get $bottomDiff))
  (local.set $rowBytes (i32.shl (local.get $width) (i32.const 2)))
  ${windows(
    true,
    `(local.set $d (f64.div (f64.promote_f32 (f32.load (i32.add (local.get $topDiff) (i32.shl (local.get $out) (i32.const 2))))) (local.get $divisor)))
        (if ${is3x3}
          (then ${firstCell}
            ${cells3x3((a) => `(f32.store ${a} (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load ${a})) (local.get $d))))`)})
          (else
        ${windowCells(`(f32.store (local.get $addr) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $addr))) (local.get $d))))`)}))`
  )})
`

/**
 * MAX pooling for the common 2×2 / stride 2 / no-pad case when every window is whole (LeNet, VGG):
 * four outputs per step from two rows of 8 floats, deinterleaved into even/odd columns; the four cells
 * are visited in the reference's order with a strict `>`, so values and argmax match it exactly.
 */
export const maxPool2x2Wat = (): string => {
  const cell = (v: string, idx: string) => `
        (local.set $m (f32x4.gt ${v} (local.get $best)))
        (local.set $best (v128.bitselect ${v} (local.get $best) (local.get $m)))
        (local.set $arg (v128.bitselect ${idx} (local.get $arg) (local.get $m)))`
  const scalarCell = (addr: string, idx: string) => `
          (local.set $f (f32.load ${addr}))
          (if (f32.gt (local.get $f) (local.get $fb)) (then (local.set $fb (local.get $f)) (local.set $ia ${idx})))`
  return `
(func $max_pool_2x2 (export "max_pool_2x2") (param $planes i32) (param $height i32) (param $width i32)
  (param $pooledH i32) (param $pooledW i32) (param $bottom i32) (param $top i32) (param $mask i32)
  (local $p i32) (local $oh i32) (local $ow i32) (local $row0 i32) (local $row1 i32) (local $base i32) (local $wb i32)
  (local $a0 v128) (local $a1 v128) (local $best v128) (local $arg v128) (local $m v128) (local $idx v128) (local $vw v128)
  (local $f f32) (local $fb f32) (local $ia i32)
  (local.set $wb (i32.shl (local.get $width) (i32.const 2)))
  (local.set $vw (i32x4.splat (local.get $width)))
  (block $p_done (loop $p_loop
    (br_if $p_done (i32.ge_s (local.get $p) (local.get $planes)))
    (local.set $oh (i32.const 0))
    (block $oh_done (loop $oh_loop
      (br_if $oh_done (i32.ge_s (local.get $oh) (local.get $pooledH)))
      (local.set $base (i32.mul (i32.shl (local.get $oh) (i32.const 1)) (local.get $width)))
      (local.set $row0 (i32.add (local.get $bottom) (i32.shl (local.get $base) (i32.const 2))))
      (local.set $row1 (i32.add (local.get $row0) (local.get $wb)))
      (local.set $ow (i32.const 0))
      (block $v_done (loop $v_loop
        (br_if $v_done (i32.gt_s (i32.add (local.get $ow) (i32.const 4)) (local.get $pooledW)))
        (local.set $idx (i32x4.add (i32x4.splat (i32.add (local.get $base) (i32.shl (local.get $ow) (i32.const 1))))
                                   (v128.const i32x4 0 2 4 6)))
        (local.set $best (v128.const f32x4 -3.4028234663852886e38 -3.4028234663852886e38 -3.4028234663852886e38 -3.4028234663852886e38))
        (local.set $arg (v128.const i32x4 -1 -1 -1 -1))
        (local.set $a0 (v128.load (local.get $row0)))
        (local.set $a1 (v128.load offset=16 (local.get $row0)))
        ${cell("(i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a0) (local.get $a1))", "(local.get $idx)")}
        ${cell(
          "(i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a0) (local.get $a1))",
          "(i32x4.add (local.get $idx) (v128.const i32x4 1 1 1 1))"
        )}
        (local.set $a0 (v128.load (local.get $row1)))
        (local.set $a1 (v128.load offset=16 (local.get $row1)))
        ${cell("(i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a0) (local.get $a1))", "(i32x4.add (local.get $idx) (local.get $vw))")}
        ${cell(
          "(i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a0) (local.get $a1))",
          "(i32x4.add (i32x4.add (local.get $idx) (local.get $vw)) (v128.const i32x4 1 1 1 1))"
        )}
        (v128.store (local.get $top) (local.get $best))
        (v128.store (local.get $mask) (local.get $arg))
        (local.set $top (i32.add (local.get $top) (i32.const 16)))
        (local.set $mask (i32.add (local.get $mask) (i32.const 16)))
        (local.set $row0 (i32.add (local.get $row0) (i32.const 32)))
        (local.set $row1 (i32.add (local.get $row1) (i32.const 32)))
        (local.set $ow (i32.add (local.get $ow) (i32.const 4)))
        (br $v_loop)))
      (block $s_done (loop $s_loop
        (br_if $s_done (i32.ge_s (local.get $ow) (local.get $pooledW)))
        (local.set $fb (f32.const -3.4028234663852886e38))
        (local.set $ia (i32.const -1))
        ${scalarCell("(local.get $row0)", "(i32.add (local.get $base) (i32.shl (local.get $ow) (i32.const 1)))")}
        ${scalarCell("(i32.add (local.get $row0) (i32.const 4))", "(i32.add (i32.add (local.get $base) (i32.shl (local.get $ow) (i32.const 1))) (i32.const 1))")}
        ${scalarCell("(local.get $row1)", "(i32.add (i32.add (local.get $base) (i32.shl (local.get $ow) (i32.const 1))) (local.get $width))")}
        ${scalarCell(
          "(i32.add (local.get $row1) (i32.const 4))",
          "(i32.add (i32.add (i32.add (local.get $base) (i32.shl (local.get $ow) (i32.const 1))) (local.get $width)) (i32.const 1))"
        )}
        (f32.store (local.get $top) (local.get $fb))
        (i32.store (local.get $mask) (local.get $ia))
        (local.set $top (i32.add (local.get $top) (i32.const 4)))
        (local.set $mask (i32.add (local.get $mask) (i32.const 4)))
        (local.set $row0 (i32.add (local.get $row0) (i32.const 8)))
        (local.set $row1 (i32.add (local.get $row1) (i32.const 8)))
        (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
        (br $s_loop)))
      (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
      (br $oh_loop)))
    (local.set $bottom (i32.add (local.get $bottom) (i32.shl (i32.mul (local.get $height) (local.get $width)) (i32.const 2))))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (br $p_loop))))
`
}

/**
 * MAX pooling 3×3 / stride 2 / no pad (CIFAR-10, AlexNet) over the interior: rows oh < ohFull and
 * outputs ow < owFull (≥ 4; groups of four, the last one ending at owFull) whose windows, plus one
 * column, lie inside the image; the
 * generic kernel then does the rest (max_pool_fwd with the same ohFull / owFull). Four outputs per step:
 * each window row's columns 2ow..2ow+9 as four loads, deinterleaved into the kx = 0, 1, 2 cells; cells
 * are visited in the reference's (h, w) order with a strict `>`, so values and argmax match it exactly.
 */
export const maxPool3x3s2Wat = (): string => {
  const even = "0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27"
  const odd = "4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31"
  const cell = (v: string, offset: number) => `
          (local.set $m (f32x4.gt ${v} (local.get $best)))
          (local.set $best (v128.bitselect ${v} (local.get $best) (local.get $m)))
          (local.set $arg (v128.bitselect (i32x4.add (local.get $idx) (v128.const i32x4 ${offset} ${offset} ${offset} ${offset})) (local.get $arg) (local.get $m)))`
  const rows = [0, 1, 2]
    .map(
      (ky) => `
          (local.set $r (i32.add (local.get $rowBase) (i32.const ${ky})))
          (local.set $a (i32.add (local.get $plane) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $width)) (local.get $w0)) (i32.const 2))))
          (local.set $l0 (v128.load (local.get $a)))
          (local.set $l1 (v128.load offset=16 (local.get $a)))
          (local.set $l2 (v128.load offset=8 (local.get $a)))
          (local.set $l3 (v128.load offset=24 (local.get $a)))
          (local.set $idx (i32x4.add (i32x4.splat (i32.add (i32.mul (local.get $r) (local.get $width)) (local.get $w0))) (v128.const i32x4 0 2 4 6)))
          ${cell(`(i8x16.shuffle ${even} (local.get $l0) (local.get $l1))`, 0)}
          ${cell(`(i8x16.shuffle ${odd} (local.get $l0) (local.get $l1))`, 1)}
          ${cell(`(i8x16.shuffle ${even} (local.get $l2) (local.get $l3))`, 2)}`
    )
    .join("")
  return `
(func $max_pool_3x3s2 (export "max_pool_3x3s2") (param $planes i32) (param $height i32) (param $width i32)
  (param $pooledH i32) (param $pooledW i32) (param $ohFull i32) (param $owFull i32)
  (param $bottom i32) (param $top i32) (param $mask i32)
  (local $p i32) (local $oh i32) (local $ow i32) (local $plane i32) (local $rowBase i32) (local $w0 i32) (local $r i32)
  (local $a i32) (local $o i32) (local $planeOut i32)
  (local $l0 v128) (local $l1 v128) (local $l2 v128) (local $l3 v128) (local $best v128) (local $arg v128)
  (local $idx v128) (local $m v128)
  (local.set $planeOut (i32.mul (local.get $pooledH) (local.get $pooledW)))
  (block $p_done (loop $p_loop
    (br_if $p_done (i32.ge_s (local.get $p) (local.get $planes)))
    (local.set $plane (i32.add (local.get $bottom) (i32.shl (i32.mul (local.get $p) (i32.mul (local.get $height) (local.get $width))) (i32.const 2))))
    (local.set $oh (i32.const 0))
    (block $oh_done (loop $oh_loop
      (br_if $oh_done (i32.ge_s (local.get $oh) (local.get $ohFull)))
      (local.set $rowBase (i32.shl (local.get $oh) (i32.const 1)))
      (local.set $ow (i32.const 0))
      (block $ow_done (loop $ow_loop
        (br_if $ow_done (i32.ge_s (local.get $ow) (local.get $owFull)))
        ;; the last group ends at owFull, overlapping the previous one (recomputing identical outputs)
        (if (i32.gt_s (i32.add (local.get $ow) (i32.const 4)) (local.get $owFull))
          (then (local.set $ow (i32.sub (local.get $owFull) (i32.const 4)))))
        (local.set $w0 (i32.shl (local.get $ow) (i32.const 1)))
        (local.set $best (f32x4.splat (f32.const -3.4028234663852886e38)))
        (local.set $arg (i32x4.splat (i32.const -1)))
        ${rows}
        (local.set $o (i32.shl (i32.add (i32.mul (local.get $p) (local.get $planeOut))
          (i32.add (i32.mul (local.get $oh) (local.get $pooledW)) (local.get $ow))) (i32.const 2)))
        (v128.store (i32.add (local.get $top) (local.get $o)) (local.get $best))
        (v128.store (i32.add (local.get $mask) (local.get $o)) (local.get $arg))
        (local.set $ow (i32.add (local.get $ow) (i32.const 4)))
        (br $ow_loop)))
      (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
      (br $oh_loop)))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (br $p_loop))))`
}
