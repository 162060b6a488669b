/**
 * im2col / col2im for one image (Caffe's 2-D case, with padding, stride and dilation).
 *
 * Every kernel takes `colGap`: bytes skipped after each column-matrix row (c, kh, kw), 0 for one image's
 * own matrix; a group of images side by side in one matrix (one GEMM for the group) passes the other
 * images' share of a row.
 *
 * For each column-matrix row (c, kh, kw) and output row oh, the valid output columns form one interval
 * [owLo, owHi) computed up front, so the inner loop never tests bounds: im2col zero-fills the two ends
 * and copies the middle (f32x4 when stride is 1); col2im adds the middle into the image (f32x4
 * when stride is 1). col2im adds in the same (c, kh, kw, oh, ow) order as the reference, so it is
 * bit-exact.
 */
/**
 * Zeroes `count` floats from byte address `at` inline (f32x4 stores, then scalar): memory.fill is a call
 * into the runtime, far too slow for the few-float spans of small images.
 */
const zeroFloats = (at: string, count: string): string => `
      (local.set $z ${at})
      (local.set $zend (i32.add (local.get $z) (i32.shl ${count} (i32.const 2))))
      (block $zv_done (loop $zv
        (br_if $zv_done (i32.gt_u (i32.add (local.get $z) (i32.const 16)) (local.get $zend)))
        (v128.store (local.get $z) (v128.const i32x4 0 0 0 0))
        (local.set $z (i32.add (local.get $z) (i32.const 16)))
        (br $zv)))
      (block $zs_done (loop $zs
        (br_if $zs_done (i32.ge_u (local.get $z) (local.get $zend)))
        (f32.store (local.get $z) (f32.const 0))
        (local.set $z (i32.add (local.get $z) (i32.const 4)))
        (br $zs)))`

/**
 * x / stride (a non-negative x, signed division as before), skipping the division for stride 1: the
 * interval set-up runs for every (c, kh, kw) and its divisions dominated small images (LeNet's conv2).
 */
const divByStride = (x: string, stride: string): string =>
  `(if (result i32) (i32.eq (local.get ${stride}) (i32.const 1)) (then ${x}) (else (i32.div_s ${x} (local.get ${stride}))))`

export const convWat = (): string => {
  // Shared loops of both kernels: for each (c, ki, kj) the valid output rows and columns are intervals;
  // rows outside go to `invalidRows` in one piece, valid rows step the image pointer by sh·W.
  const rows = (validRow: string, invalidRows: (floats: string) => string) => `
  (local.set $c (i32.const 0))
  (block $c_done (loop $c_loop
    (br_if $c_done (i32.ge_s (local.get $c) (local.get $channels)))
    (local.set $ki (i32.const 0))
    (block $ki_done (loop $ki_loop
      (br_if $ki_done (i32.ge_s (local.get $ki) (local.get $kh)))
      (local.set $kj (i32.const 0))
      (block $kj_done (loop $kj_loop
        (br_if $kj_done (i32.ge_s (local.get $kj) (local.get $kw)))
        ;; w of output column 0 and the valid interval [owLo, owHi) of output columns
        (local.set $w0 (i32.sub (i32.mul (local.get $kj) (local.get $dw)) (local.get $pw)))
        (local.set $owLo (select (i32.const 0)
          ${divByStride("(i32.add (i32.sub (i32.const 0) (local.get $w0)) (i32.sub (local.get $sw) (i32.const 1)))", "$sw")}
          (i32.ge_s (local.get $w0) (i32.const 0))))
        (local.set $t (i32.sub (i32.sub (local.get $width) (i32.const 1)) (local.get $w0)))
        (local.set $owHi (select (i32.add ${divByStride("(local.get $t)", "$sw")} (i32.const 1)) (i32.const 0)
          (i32.ge_s (local.get $t) (i32.const 0))))
        (if (i32.gt_s (local.get $owHi) (local.get $outW)) (then (local.set $owHi (local.get $outW))))
        (if (i32.gt_s (local.get $owLo) (local.get $outW)) (then (local.set $owLo (local.get $outW))))
        (if (i32.lt_s (local.get $owHi) (local.get $owLo)) (then (local.set $owHi (local.get $owLo))))
        ;; valid output rows [ohLo, ohHi): h = oh·sh − ph + ki·dh inside [0, height)
        (local.set $h (i32.sub (i32.mul (local.get $ki) (local.get $dh)) (local.get $ph)))
        (local.set $ohLo (select (i32.const 0)
          ${divByStride("(i32.add (i32.sub (i32.const 0) (local.get $h)) (i32.sub (local.get $sh) (i32.const 1)))", "$sh")}
          (i32.ge_s (local.get $h) (i32.const 0))))
        (local.set $t (i32.sub (i32.sub (local.get $height) (i32.const 1)) (local.get $h)))
        (local.set $ohHi (select (i32.add ${divByStride("(local.get $t)", "$sh")} (i32.const 1)) (i32.const 0)
          (i32.ge_s (local.get $t) (i32.const 0))))
        (if (i32.gt_s (local.get $ohHi) (local.get $outH)) (then (local.set $ohHi (local.get $outH))))
        (if (i32.gt_s (local.get $ohLo) (local.get $outH)) (then (local.set $ohLo (local.get $outH))))
        (if (i32.lt_s (local.get $ohHi) (local.get $ohLo)) (then (local.set $ohHi (local.get $ohLo))))
        ${invalidRows("(i32.mul (local.get $ohLo) (local.get $outW))")}
        (local.set $col (i32.add (local.get $col) (i32.shl (i32.mul (local.get $ohLo) (local.get $outW)) (i32.const 2))))
        ;; image address of pixel (c, h(ohLo), w0 + owLo·sw), then one input row step per output row
        (local.set $rowSrc (i32.add (local.get $data) (i32.shl
          (i32.add (i32.mul (i32.add (i32.mul (local.get $c) (local.get $height))
                                     (i32.add (local.get $h) (i32.mul (local.get $ohLo) (local.get $sh)))) (local.get $width))
                   (i32.add (local.get $w0) (i32.mul (local.get $owLo) (local.get $sw))))
          (i32.const 2))))
        (local.set $srcStep (i32.shl (i32.mul (local.get $sh) (local.get $width)) (i32.const 2)))
        (local.set $oh (local.get $ohLo))
        (block $oh_done (loop $oh_loop
          (br_if $oh_done (i32.ge_s (local.get $oh) (local.get $ohHi)))
          (local.set $src (local.get $rowSrc))
          ${validRow}
          (local.set $col (i32.add (local.get $col) (i32.shl (local.get $outW) (i32.const 2))))
          (local.set $rowSrc (i32.add (local.get $rowSrc) (local.get $srcStep)))
          (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
          (br $oh_loop)))
        ${invalidRows("(i32.mul (i32.sub (local.get $outH) (local.get $ohHi)) (local.get $outW))")}
        (local.set $col (i32.add (local.get $col) (i32.shl (i32.mul (i32.sub (local.get $outH) (local.get $ohHi)) (local.get $outW)) (i32.const 2))))
        (local.set $col (i32.add (local.get $col) (local.get $colGap)))
        (local.set $kj (i32.add (local.get $kj) (i32.const 1)))
        (br $kj_loop)))
      (local.set $ki (i32.add (local.get $ki) (i32.const 1)))
      (br $ki_loop)))
    (local.set $c (i32.add (local.get $c) (i32.const 1)))
    (br $c_loop)))`
  const params = `(param $channels i32) (param $height i32) (param $width i32) (param $kh i32) (param $kw i32)
  (param $ph i32) (param $pw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32)
  (param $outH i32) (param $outW i32)`
  const loc = `(local $c i32) (local $ki i32) (local $kj i32) (local $oh i32) (local $h i32) (local $w0 i32)
  (local $owLo i32) (local $owHi i32) (local $t i32) (local $src i32) (local $dst i32) (local $end i32) (local $ow i32)
  (local $z i32) (local $zend i32) (local $ohLo i32) (local $ohHi i32) (local $rowSrc i32) (local $srcStep i32)`
  return `
(func $im2col (export "im2col") ${params} (param $data i32) (param $col i32) (param $colGap i32)
  ${loc}
  ${rows(
    `
      (if $full (i32.and (i32.and (i32.eqz (local.get $owLo)) (i32.eq (local.get $owHi) (local.get $outW)))
                         (i32.and (i32.eq (local.get $sw) (i32.const 1)) (i32.ge_s (local.get $outW) (i32.const 4))))
        (then
          ;; whole row valid, stride 1: full vectors, then one (possibly overlapping) vector at the end
          (local.set $end (i32.add (local.get $col) (i32.shl (i32.sub (local.get $outW) (i32.const 4)) (i32.const 2))))
          (local.set $dst (local.get $col))
          (block $f_done (loop $f_loop
            (br_if $f_done (i32.ge_u (local.get $dst) (local.get $end)))
            (v128.store (local.get $dst) (v128.load (local.get $src)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $src (i32.add (local.get $src) (i32.const 16)))
            (br $f_loop)))
          (v128.store (local.get $end) (v128.load (i32.add (local.get $rowSrc) (i32.shl (i32.sub (local.get $outW) (i32.const 4)) (i32.const 2))))))
        (else
      ${zeroFloats("(local.get $col)", "(local.get $owLo)")}
      (local.set $dst (i32.add (local.get $col) (i32.shl (local.get $owLo) (i32.const 2))))
      (local.set $end (i32.add (local.get $col) (i32.shl (local.get $owHi) (i32.const 2))))
      (if (i32.eq (local.get $sw) (i32.const 1))
        (then
          (block $v_done (loop $v_loop
            (br_if $v_done (i32.gt_u (i32.add (local.get $dst) (i32.const 16)) (local.get $end)))
            (v128.store (local.get $dst) (v128.load (local.get $src)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $src (i32.add (local.get $src) (i32.const 16)))
            (br $v_loop)))
          (local.set $t (i32.const 4)))
        (else (local.set $t (i32.shl (local.get $sw) (i32.const 2)))))
      (block $s_done (loop $s_loop
        (br_if $s_done (i32.ge_u (local.get $dst) (local.get $end)))
        (f32.store (local.get $dst) (f32.load (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (local.get $t)))
        (br $s_loop)))
      ${zeroFloats("(local.get $end)", "(i32.sub (local.get $outW) (local.get $owHi))")}))`,
    (floats) => zeroFloats("(local.get $col)", floats)
  )})

${im2colValidWat()}
${col2imValidWat()}
${padCropWat()}
${copyBlocksWat()}

(func $col2im (export "col2im") ${params} (param $col i32) (param $data i32) (param $colGap i32)
  ${loc}
  (memory.fill (local.get $data) (i32.const 0)
    (i32.shl (i32.mul (local.get $channels) (i32.mul (local.get $height) (local.get $width))) (i32.const 2)))
  ${rows(
    `
      (local.set $dst (i32.add (local.get $col) (i32.shl (local.get $owLo) (i32.const 2))))
      (local.set $end (i32.add (local.get $col) (i32.shl (local.get $owHi) (i32.const 2))))
      (if (i32.eq (local.get $sw) (i32.const 1))
        (then
          (block $v_done (loop $v_loop
            (br_if $v_done (i32.gt_u (i32.add (local.get $dst) (i32.const 16)) (local.get $end)))
            (v128.store (local.get $src) (f32x4.add (v128.load (local.get $src)) (v128.load (local.get $dst))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $src (i32.add (local.get $src) (i32.const 16)))
            (br $v_loop)))
          (local.set $t (i32.const 4)))
        (else (local.set $t (i32.shl (local.get $sw) (i32.const 2)))))
      (block $s_done (loop $s_loop
        (br_if $s_done (i32.ge_u (local.get $dst) (local.get $end)))
        (f32.store (local.get $src) (f32.add (f32.load (local.get $src)) (f32.load (local.get $dst))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (local.get $t)))
        (br $s_loop)))`,
    () => ""
  )})
`
}

/**
 * im2col without padding, stride 1, dilation 1 and outW ≥ 4 (LeNet's convolutions): every output row
 * is outW contiguous image floats, copied as f32x4 with one overlapping vector for a ragged end — none
 * of the general kernel's per-row interval and zero-fill bookkeeping, which dominated 8-wide rows.
 */
const im2colValidWat = (): string => `
(func $im2col_valid (export "im2col_valid") (param $channels i32) (param $height i32) (param $width i32)
  (param $kh i32) (param $kw i32) (param $outH i32) (param $outW i32) (param $data i32) (param $col i32) (param $colGap i32)
  (local $c i32) (local $ki i32) (local $kj i32) (local $oh i32) (local $j i32) (local $src i32) (local $rowSrc i32)
  (local $rowBytes i32) (local $vecEnd i32) (local $last i32)
  (local.set $rowBytes (i32.shl (local.get $outW) (i32.const 2)))
  (local.set $vecEnd (i32.and (local.get $rowBytes) (i32.const -16)))
  (local.set $last (i32.sub (local.get $rowBytes) (i32.const 16)))
  (block $c_done (loop $c_loop
    (br_if $c_done (i32.ge_s (local.get $c) (local.get $channels)))
    (local.set $ki (i32.const 0))
    (block $ki_done (loop $ki_loop
      (br_if $ki_done (i32.ge_s (local.get $ki) (local.get $kh)))
      (local.set $kj (i32.const 0))
      (block $kj_done (loop $kj_loop
        (br_if $kj_done (i32.ge_s (local.get $kj) (local.get $kw)))
        (local.set $rowSrc (i32.add (local.get $data) (i32.shl
          (i32.add (i32.mul (i32.add (i32.mul (local.get $c) (local.get $height)) (local.get $ki)) (local.get $width)) (local.get $kj))
          (i32.const 2))))
        (local.set $oh (i32.const 0))
        (block $oh_done (loop $oh_loop
          (br_if $oh_done (i32.ge_s (local.get $oh) (local.get $outH)))
          (local.set $j (i32.const 0))
          (block $v_done (loop $v_loop
            (br_if $v_done (i32.ge_u (local.get $j) (local.get $vecEnd)))
            (v128.store (i32.add (local.get $col) (local.get $j)) (v128.load (i32.add (local.get $rowSrc) (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $v_loop)))
          (v128.store (i32.add (local.get $col) (local.get $last)) (v128.load (i32.add (local.get $rowSrc) (local.get $last))))
          (local.set $col (i32.add (local.get $col) (local.get $rowBytes)))
          (local.set $rowSrc (i32.add (local.get $rowSrc) (i32.shl (local.get $width) (i32.const 2))))
          (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
          (br $oh_loop)))
        (local.set $col (i32.add (local.get $col) (local.get $colGap)))
        (local.set $kj (i32.add (local.get $kj) (i32.const 1)))
        (br $kj_loop)))
      (local.set $ki (i32.add (local.get $ki) (i32.const 1)))
      (br $ki_loop)))
    (local.set $c (i32.add (local.get $c) (i32.const 1)))
    (br $c_loop))))`

/**
 * col2im for the same case as im2col_valid: image rows += column rows in the reference's (c, kh, kw,
 * oh, ow) order (bit-exact), f32x4 then a scalar tail (an overlapping vector would add twice).
 */
const col2imValidWat = (): string => `
(func $col2im_valid (export "col2im_valid") (param $channels i32) (param $height i32) (param $width i32)
  (param $kh i32) (param $kw i32) (param $outH i32) (param $outW i32) (param $col i32) (param $data i32) (param $colGap i32)
  (local $c i32) (local $ki i32) (local $kj i32) (local $oh i32) (local $j i32) (local $rowDst i32)
  (local $rowBytes i32) (local $vecEnd i32) (local $a i32)
  (memory.fill (local.get $data) (i32.const 0)
    (i32.shl (i32.mul (local.get $channels) (i32.mul (local.get $height) (local.get $width))) (i32.const 2)))
  (local.set $rowBytes (i32.shl (local.get $outW) (i32.const 2)))
  (local.set $vecEnd (i32.and (local.get $rowBytes) (i32.const -16)))
  (block $c_done (loop $c_loop
    (br_if $c_done (i32.ge_s (local.get $c) (local.get $channels)))
    (local.set $ki (i32.const 0))
    (block $ki_done (loop $ki_loop
      (br_if $ki_done (i32.ge_s (local.get $ki) (local.get $kh)))
      (local.set $kj (i32.const 0))
      (block $kj_done (loop $kj_loop
        (br_if $kj_done (i32.ge_s (local.get $kj) (local.get $kw)))
        (local.set $rowDst (i32.add (local.get $data) (i32.shl
          (i32.add (i32.mul (i32.add (i32.mul (local.get $c) (local.get $height)) (local.get $ki)) (local.get $width)) (local.get $kj))
          (i32.const 2))))
        (local.set $oh (i32.const 0))
        (block $oh_done (loop $oh_loop
          (br_if $oh_done (i32.ge_s (local.get $oh) (local.get $outH)))
          (local.set $j (i32.const 0))
          (block $v_done (loop $v_loop
            (br_if $v_done (i32.ge_u (local.get $j) (local.get $vecEnd)))
            (local.set $a (i32.add (local.get $rowDst) (local.get $j)))
            (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (v128.load (i32.add (local.get $col) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $v_loop)))
          (block $s_done (loop $s_loop
            (br_if $s_done (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $a (i32.add (local.get $rowDst) (local.get $j)))
            (f32.store (local.get $a) (f32.add (f32.load (local.get $a)) (f32.load (i32.add (local.get $col) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $s_loop)))
          (local.set $col (i32.add (local.get $col) (local.get $rowBytes)))
          (local.set $rowDst (i32.add (local.get $rowDst) (i32.shl (local.get $width) (i32.const 2))))
          (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
          (br $oh_loop)))
        (local.set $col (i32.add (local.get $col) (local.get $colGap)))
        (local.set $kj (i32.add (local.get $kj) (i32.const 1)))
        (br $kj_loop)))
      (local.set $ki (i32.add (local.get $ki) (i32.const 1)))
      (br $ki_loop)))
    (local.set $c (i32.add (local.get $c) (i32.const 1)))
    (br $c_loop))))`

/**
 * Copies `n` floats from $s to $d (byte addresses, both advanced; $e is set to $s's end): f32x4 then
 * scalar. For pad_image / crop_image's rows and copy_blocks' rows.
 */
const copyRow = (n: string) => `
        (local.set $e (i32.add (local.get $s) (i32.shl ${n} (i32.const 2))))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.gt_u (i32.add (local.get $s) (i32.const 16)) (local.get $e)))
          (v128.store (local.get $d) (v128.load (local.get $s)))
          (local.set $s (i32.add (local.get $s) (i32.const 16)))
          (local.set $d (i32.add (local.get $d) (i32.const 16)))
          (br $v_loop)))
        (block $f_done (loop $f_loop
          (br_if $f_done (i32.ge_u (local.get $s) (local.get $e)))
          (f32.store (local.get $d) (f32.load (local.get $s)))
          (local.set $s (i32.add (local.get $s) (i32.const 4)))
          (local.set $d (i32.add (local.get $d) (i32.const 4)))
          (br $f_loop)))`

/**
 * pad_image: (channels, H, W) → (channels, H + 2·ph, W + 2·pw) with zero borders; crop_image the
 * reverse (the interior back). With them a padded stride-1 convolution runs im2col_valid / col2im_valid
 * on the padded image (CIFAR-10 quick's pad 2): same values, and col2im's additions to interior pixels
 * happen in the same order (the border's are dropped), so both stay exact.
 */
const padCropWat = (): string => {
  const rowsOf = (body: string) => `
  (local.set $pw2 (i32.add (local.get $width) (i32.shl (local.get $pw) (i32.const 1))))
  (local.set $ph2 (i32.add (local.get $height) (i32.shl (local.get $ph) (i32.const 1))))
  (block $c_done (loop $c_loop
    (br_if $c_done (i32.ge_s (local.get $c) (local.get $channels)))
    (local.set $h (i32.const 0))
    (block $h_done (loop $h_loop
      (br_if $h_done (i32.ge_s (local.get $h) (local.get $height)))
      ;; padded pixel (c, h + ph, pw) and image pixel (c, h, 0)
      (local.set $pp (i32.add (local.get $padded) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $c) (local.get $ph2))
        (i32.add (local.get $h) (local.get $ph))) (local.get $pw2)) (local.get $pw)) (i32.const 2))))
      (local.set $ip (i32.add (local.get $image) (i32.shl (i32.mul (i32.add (i32.mul (local.get $c) (local.get $height)) (local.get $h)) (local.get $width)) (i32.const 2))))
      ${body}
      (local.set $h (i32.add (local.get $h) (i32.const 1)))
      (br $h_loop)))
    (local.set $c (i32.add (local.get $c) (i32.const 1)))
    (br $c_loop)))`
  const sig = `(param $channels i32) (param $height i32) (param $width i32) (param $ph i32) (param $pw i32)
  (param $image i32) (param $padded i32)
  (local $c i32) (local $h i32) (local $pp i32) (local $ip i32) (local $s i32) (local $d i32) (local $e i32)
  (local $pw2 i32) (local $ph2 i32)`
  return `
(func $pad_image (export "pad_image") ${sig}
  (memory.fill (local.get $padded) (i32.const 0) (i32.shl (i32.mul (local.get $channels)
    (i32.mul (i32.add (local.get $height) (i32.shl (local.get $ph) (i32.const 1)))
             (i32.add (local.get $width) (i32.shl (local.get $pw) (i32.const 1))))) (i32.const 2)))
  ${rowsOf(`(local.set $s (local.get $ip)) (local.set $d (local.get $pp)) ${copyRow("(local.get $width)")}`)})

(func $crop_image (export "crop_image") ${sig}
  ${rowsOf(`(local.set $s (local.get $pp)) (local.set $d (local.get $ip)) ${copyRow("(local.get $width)")}`)})`
}


/**
 * copy_blocks (blocks rows len src srcBlock srcRow dst dstBlock dstRow): for b < blocks, r < rows,
 * copies `len` floats from src + b·srcBlock + r·srcRow to dst + b·dstBlock + r·dstRow (strides in
 * bytes) — the images of a group ↔ one matrix with the images' columns side by side (a batched
 * convolution's GEMM output and its backward input). f32x4 then scalar; plain copies, so exact.
 */
const copyBlocksWat = (): string => `
(func $copy_blocks (export "copy_blocks") (param $blocks i32) (param $rows i32) (param $len i32)
  (param $src i32) (param $srcBlock i32) (param $srcRow i32) (param $dst i32) (param $dstBlock i32) (param $dstRow i32)
  (local $b i32) (local $r i32) (local $s i32) (local $d i32) (local $e i32)
  (block $b_done (loop $b_loop
    (br_if $b_done (i32.ge_s (local.get $b) (local.get $blocks)))
    (local.set $r (i32.const 0))
    (block $r_done (loop $r_loop
      (br_if $r_done (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $s (i32.add (i32.add (local.get $src) (i32.mul (local.get $b) (local.get $srcBlock))) (i32.mul (local.get $r) (local.get $srcRow))))
      (local.set $d (i32.add (i32.add (local.get $dst) (i32.mul (local.get $b) (local.get $dstBlock))) (i32.mul (local.get $r) (local.get $dstRow))))
      ${copyRow("(local.get $len)")}
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $r_loop)))
    (local.set $b (i32.add (local.get $b) (i32.const 1)))
    (br $b_loop))))`
