/**
 * The GEMM driver's kernel calls as data: the driver (gemm.ts) hands each call to a `GemmCalls` sink,
 * which either calls the module at once (one thread) or records the call into a shared Float64Array for
 * whichever thread claims that part of the work (gemm-threads.ts). Recorded calls name the packing
 * buffers and the edge tile relative to the running thread's own scratch, so any thread can run any part.
 *
 * Both the recording and the replay spell out the same three kernels with the same arguments, so a
 * replayed call does exactly what the direct call would (bit-identical results on every thread).
 */
import type { KernelExports } from "./wasm-kernels.js"

/** Where a packed operand or tile lives: an absolute byte address, or (−1) the running thread's own buffer. */
export const ownBuffer = -1

export interface GemmCalls {
  /** gemm_pack_a into the running thread's A buffer at byte offset `dstOffset`. */
  packA(src: number, rs: number, cs: number, rows: number, cols: number, scale: number, dstOffset: number): void
  /** gemm_pack_b into the running thread's B buffer at byte offset `dstOffset`. */
  packB(src: number, rs: number, cs: number, rows: number, cols: number, scale: number, dstOffset: number): void
  /** gemm_macro; `pa` / `pb` are addresses or `ownBuffer`; `bedgeOffset` is a byte offset into the B buffer. */
  macro(
    mc: number,
    nc: number,
    kc: number,
    pa: number,
    aps: number,
    as: number,
    pb: number,
    bps: number,
    bs: number,
    bedgeOffset: number,
    c: number,
    ldc: number,
    beta: number
  ): void
}

const opPackA = 0
const opPackB = 1
const opMacro = 2

/**
 * Replays commands [from, to) of `cmd` against the kernel exports `x`, with this thread's buffers.
 * Plain JavaScript source, so the worker threads (which load no TypeScript) run the very same function.
 */
export const replaySource = `function replay(x, cmd, from, to, pa, pb, tile) {
  let i = from
  while (i < to) {
    const op = cmd[i]
    if (op === ${opPackA}) {
      x.gemm_pack_a(cmd[i + 1], cmd[i + 2], cmd[i + 3], cmd[i + 4], cmd[i + 5], cmd[i + 6], pa + cmd[i + 7])
      i += 8
    } else if (op === ${opPackB}) {
      x.gemm_pack_b(cmd[i + 1], cmd[i + 2], cmd[i + 3], cmd[i + 4], cmd[i + 5], cmd[i + 6], pb + cmd[i + 7])
      i += 8
    } else {
      const a = cmd[i + 4]
      const b = cmd[i + 7]
      x.gemm_macro(cmd[i + 1], cmd[i + 2], cmd[i + 3], a < 0 ? pa : a, cmd[i + 5], cmd[i + 6], b < 0 ? pb : b,
        cmd[i + 8], cmd[i + 9], pb + cmd[i + 10], cmd[i + 11], cmd[i + 12], cmd[i + 13], tile)
      i += 14
    }
  }
}`

export type Replay = (
  x: KernelExports,
  cmd: Float64Array,
  from: number,
  to: number,
  pa: number,
  pb: number,
  tile: number
) => void

export const replay = new Function(`return ${replaySource}`)() as Replay

/** Calls the kernels at once, with fixed buffers (the one-thread path). */
export class DirectCalls implements GemmCalls {
  pa = 0
  pb = 0
  tile = 0
  constructor(private readonly x: KernelExports) {}

  packA(src: number, rs: number, cs: number, rows: number, cols: number, scale: number, dstOffset: number): void {
    this.x.gemm_pack_a(src, rs, cs, rows, cols, scale, this.pa + dstOffset)
  }

  packB(src: number, rs: number, cs: number, rows: number, cols: number, scale: number, dstOffset: number): void {
    this.x.gemm_pack_b(src, rs, cs, rows, cols, scale, this.pb + dstOffset)
  }

  macro(
    mc: number,
    nc: number,
    kc: number,
    pa: number,
    aps: number,
    as: number,
    pb: number,
    bps: number,
    bs: number,
    bedgeOffset: number,
    c: number,
    ldc: number,
    beta: number
  ): void {
    this.x.gemm_macro(
      mc,
      nc,
      kc,
      pa === ownBuffer ? this.pa : pa,
      aps,
      as,
      pb === ownBuffer ? this.pb : pb,
      bps,
      bs,
      this.pb + bedgeOffset,
      c,
      ldc,
      beta,
      this.tile
    )
  }
}

/** Appends the calls to a command buffer; `length` is where the next one goes (−1 once it overflowed). */
export class RecordedCalls implements GemmCalls {
  length = 0
  constructor(readonly cmd: Float64Array) {}

  private room(n: number): boolean {
    if (this.length < 0 || this.length + n > this.cmd.length) {
      this.length = -1
      return false
    }
    return true
  }

  private pack(op: number, src: number, rs: number, cs: number, rows: number, cols: number, scale: number, dstOffset: number): void {
    if (!this.room(8)) return
    const c = this.cmd
    const i = this.length
    c[i] = op
    c[i + 1] = src
    c[i + 2] = rs
    c[i + 3] = cs
    c[i + 4] = rows
    c[i + 5] = cols
    c[i + 6] = scale
    c[i + 7] = dstOffset
    this.length = i + 8
  }

  packA(src: number, rs: number, cs: number, rows: number, cols: number, scale: number, dstOffset: number): void {
    this.pack(opPackA, src, rs, cs, rows, cols, scale, dstOffset)
  }

  packB(src: number, rs: number, cs: number, rows: number, cols: number, scale: number, dstOffset: number): void {
    this.pack(opPackB, src, rs, cs, rows, cols, scale, dstOffset)
  }

  macro(
    mc: number,
    nc: number,
    kc: number,
    pa: number,
    aps: number,
    as: number,
    pb: number,
    bps: number,
    bs: number,
    bedgeOffset: number,
    c: number,
    ldc: number,
    beta: number
  ): void {
    if (!this.room(14)) return
    const d = this.cmd
    const i = this.length
    d[i] = opMacro
    d[i + 1] = mc
    d[i + 2] = nc
    d[i + 3] = kc
    d[i + 4] = pa
    d[i + 5] = aps
    d[i + 6] = as
    d[i + 7] = pb
    d[i + 8] = bps
    d[i + 9] = bs
    d[i + 10] = bedgeOffset
    d[i + 11] = c
    d[i + 12] = ldc
    d[i + 13] = beta
    this.length = i + 14
  }
}
