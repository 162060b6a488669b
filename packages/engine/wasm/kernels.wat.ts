/**
 * The whole kernel module as WebAssembly text. It imports one shared memory ("env" "memory") owned by
 * the JS side (src/backend/cpu/wasm-heap.ts), so blobs allocated there are read in place by every kernel.
 */
import { activationWat } from "./activation.wat.js"
import { blas1Wat } from "./blas1.wat.js"
import { convWat } from "./conv.wat.js"
import { convDirectWat } from "./conv-direct.wat.js"
import { type GemmShape, defaultGemmShape, gemmWat } from "./gemm.wat.js"
import { lrnWat } from "./lrn.wat.js"
import { mathWat } from "./math.wat.js"
import { maxPool2x2Wat, maxPool3x3s2Wat, poolWat } from "./pool.wat.js"
import { randomImportsWat, randomWat } from "./random.wat.js"
import { solverWat } from "./solver.wat.js"
import { type KernelFeatures, resetLabels } from "./wat.js"

export interface KernelOptions extends KernelFeatures {
  readonly gemm?: GemmShape
}

/** Maximum pages of the shared memory (64 KiB each): 4 GiB, the wasm32 limit; only reserved address space. */
export const maxMemoryPages = 65536

export const kernelsWat = (o: KernelOptions): string => {
  resetLabels()
  return kernelsModule(o)
}

const kernelsModule = (o: KernelOptions): string => `(module
  (import "env" "memory" (memory 1 ${maxMemoryPages} shared))
  ${randomImportsWat()}
  ${gemmWat(o, o.gemm ?? defaultGemmShape)}
  ${blas1Wat(o)}
  ${mathWat()}
  ${activationWat(o)}
  ${convWat()}
  ${convDirectWat(o)}
  ${poolWat()}
  ${maxPool2x2Wat()}
  ${maxPool3x3s2Wat()}
  ${lrnWat()}
  ${solverWat()}
  ${randomWat()}
)`
