import type { LayerParameter } from "@deepspark/caffe"
import { expect } from "vitest"
import { referenceBackend } from "../backend/reference.js"
import { Blob } from "../core/blob.js"
import type { Layer, LayerContext, Phase } from "../core/layer.js"
import { Rng } from "../core/rng.js"
import { checkGradients, type GradientCheckOptions } from "../testing/gradient-check.js"

/** Test support for the layer tests: contexts on the reference backend, seeded blobs, checks. */

export const testContext = (phase: Phase = "TRAIN", seed = 1701): LayerContext => ({
  phase,
  backend: referenceBackend,
  rng: new Rng(seed),
  services: {}
})

export const blobOf = (shape: ReadonlyArray<number>, values?: ArrayLike<number>): Blob => {
  const b = new Blob(shape)
  if (values) {
    if (values.length !== b.count) throw new Error(`blobOf: ${values.length} values for shape [${shape.join(", ")}]`)
    for (let i = 0; i < b.count; i++) b.data[i] = values[i]!
  }
  return b
}

/** Uniform random values in [lo, hi), optionally kept at least `avoid` away from the given kinks. */
export const randomBlob = (
  shape: ReadonlyArray<number>,
  rng: Rng,
  lo = -1,
  hi = 1,
  kinks: ReadonlyArray<number> = [],
  avoid = 0.05
): Blob => {
  const b = new Blob(shape)
  for (let i = 0; i < b.count; i++) {
    let v = rng.uniform(lo, hi)
    while (kinks.some((k) => Math.abs(v - k) < avoid)) v = rng.uniform(lo, hi)
    b.data[i] = v
  }
  return b
}

/** Integer labels uniform in [0, classes). */
export const labelBlob = (shape: ReadonlyArray<number>, rng: Rng, classes: number): Blob => {
  const b = new Blob(shape)
  for (let i = 0; i < b.count; i++) b.data[i] = rng.nextInt(classes)
  return b
}

export const param = (p: LayerParameter): LayerParameter => ({ name: p.name ?? "test", ...p })

/** Runs checkGradients and asserts there are no mismatches (listing the first few if any). */
export const expectGradientsOk = (layer: Layer, bottom: Blob[], top: Blob[], options: GradientCheckOptions = {}): void => {
  const mismatches = checkGradients(layer, bottom, top, options)
  expect(mismatches.slice(0, 5)).toEqual([])
}

export const setUpForward = (layer: Layer, bottom: Blob[], top: Blob[]): void => {
  layer.setUp(bottom, top)
  layer.reshape(bottom, top)
  layer.forward(bottom, top)
}

export const values = (b: Blob): number[] => Array.from(b.data.subarray(0, b.count))

/** Element-wise closeness with a relative+absolute tolerance. */
export const expectClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void => {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!
    const e = expected[i]!
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) {
      expect.fail(`element ${i}: got ${a}, expected ${e} (tol ${tol})`)
    }
  }
}
