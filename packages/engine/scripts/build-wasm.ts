/**
 * Pre-builds the cpu backend's WebAssembly kernels into the cache (node_modules/.cache/deepspark-wasm)
 * and reports how long each step takes. Optional: the backend builds lazily on first use anyway
 * (src/backend/cpu/wasm-module.ts); this warms the cache and lets you inspect the output.
 *
 *   node bin/run-ts.mjs packages/engine/scripts/build-wasm.ts [--out DIR]   (DIR receives .wat + .wasm)
 */
import { mkdirSync, writeFileSync } from "node:fs"
import path from "node:path"
import { kernelsWat } from "../wasm/kernels.wat.js"
import { assembleWat, buildKernelModule, hasRelaxedSimd, wasmCacheDir } from "../src/backend/cpu/wasm-module.js"

const outIndex = process.argv.indexOf("--out")
const outDir = outIndex >= 0 ? process.argv[outIndex + 1] : undefined
const relaxed = hasRelaxedSimd()
console.log(`runtime: Node ${process.version}, relaxed SIMD ${relaxed ? "available" : "unavailable"}`)
for (const fma of relaxed ? [true, false] : [false]) {
  const t0 = performance.now()
  const text = kernelsWat({ fma })
  const t1 = performance.now()
  const bytes = await assembleWat(text)
  const t2 = performance.now()
  const built = await buildKernelModule({ fma })
  const label = fma ? "fma" : "mul-add"
  console.log(
    `${label}: WAT ${(text.length / 1024).toFixed(0)} KiB generated in ${(t1 - t0).toFixed(1)} ms, ` +
      `assembled to ${(bytes.length / 1024).toFixed(1)} KiB in ${(t2 - t1).toFixed(1)} ms (first call includes wabt start-up); ` +
      `cached module ${built.fromCache ? "read" : "written"} + compiled in ${built.buildMs.toFixed(1)} ms`
  )
  if (outDir) {
    mkdirSync(outDir, { recursive: true })
    writeFileSync(path.join(outDir, `kernels-${label}.wat`), text)
    writeFileSync(path.join(outDir, `kernels-${label}.wasm`), bytes)
  }
}
console.log(`cache: ${wasmCacheDir()}`)
