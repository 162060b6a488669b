/**
 * Tiny helpers for writing WebAssembly text (WAT) from TypeScript. The kernels are generated rather than
 * hand-written so that register-blocked loops (one local per accumulator, fully unrolled) stay short and
 * parameterised; wabt assembles the text (see src/backend/cpu/wasm-module.ts).
 */

/** Switches chosen at start-up: `fma` emits f32x4.relaxed_madd, else f32x4.mul + f32x4.add. */
export interface KernelFeatures {
  readonly fma: boolean
}

export const get = (name: string): string => `(local.get $${name})`
export const set = (name: string, value: string): string => `(local.set $${name} ${value})`
export const i32 = (n: number): string => `(i32.const ${n | 0})`
export const f32 = (x: number): string => `(f32.const ${Number.isFinite(x) ? x : x > 0 ? "inf" : "-inf"})`

/** a·b + c on f32x4 (fused and possibly differently rounded when `fma`). */
export const madd = (f: KernelFeatures, a: string, b: string, c: string): string =>
  f.fma ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : `(f32x4.add (f32x4.mul ${a} ${b}) ${c})`

/** `(local $x T)` declarations. */
export const locals = (type: string, names: ReadonlyArray<string>): string =>
  names.map((n) => `(local $${n} ${type})`).join(" ")

/**
 * A counted loop `for (v = from; v < to; v += step) body` with the test at the top; `to` is evaluated
 * each iteration, so pass a local.
 */
export const forLoop = (v: string, from: string, to: string, step: number, body: string): string => {
  const id = `${v}_${uniq++}`
  return `(local.set $${v} ${from})
  (block $exit_${id} (loop $next_${id}
    (br_if $exit_${id} (i32.ge_s (local.get $${v}) ${to}))
    ${body}
    (local.set $${v} (i32.add (local.get $${v}) (i32.const ${step})))
    (br $next_${id})))`
}
let uniq = 0

/**
 * Restarts forLoop's label numbering, so generating the same module twice gives the same text (the
 * module cache is keyed by the text; without this a second generation in one process missed it).
 */
export const resetLabels = (): void => {
  uniq = 0
}

/** Byte address of element `index` (i32 expression) of a float array starting at byte `base`. */
export const f32At = (base: string, index: string): string => `(i32.add ${base} (i32.shl ${index} (i32.const 2)))`
