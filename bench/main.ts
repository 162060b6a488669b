/**
 * `npm run bench [suite ...]`: benchmarks that print ratios against baselines measured in the same run
 * (these machines are shared and noisy: compare ratios, not absolute times across runs).
 *
 *   data   Data-layer throughput (records/s with the transform) vs raw LMDB reads
 *   cpu    GEMM GFLOPS (512³, 1024³, LeNet's shapes) for the wasm SIMD backend vs naive JS
 *   conv   convolution forward per image: im2col + GEMM vs the direct kernel (5×5 and 3×3 shapes); then
 *          the Convolution layer per image vs a group of images per GEMM (1 and 2 threads)
 *   cpu-threads  the threaded GEMM (lone trainer): per-shape speed-up and LeNet fwd+bwd, 1 vs 2 threads
 *   lenet  LeNet / CIFAR-10 quick training iterations per backend vs TensorFlow.js wasm and gpu.js, then
 *          `deepspark time` vs real Caffe's `caffe time` (CAFFE_BIN) alternately (caffe-compare.ts)
 *   caffe  only the Caffe comparison (CAFFE_BIN=…/caffe; without it, the reference figures)
 *   dist   RPC exchange throughput (1.7 MB and 64 MB) vs a raw TCP socket; simulator time-to-accuracy
 *   startup  start-up of the built CLI (--help, inspect), first exchange of a 2-worker run, lone trainer RSS
 *   rules  the update rules in the simulator, 1–16 workers (bench/rules-simulator.ts; the README's guidance)
 *   accuracy  (opt-in, hours; --quick minutes) real MNIST time to 98.5 % / 99 %: every rule × 2, 4, 8 workers × 3 seeds vs one solver (time-to-accuracy.ts)
 *
 * With no suite named, runs data, cpu and dist (lenet is the slowest; name it to run it).
 */
const suites: Record<string, () => Promise<void>> = {
  data: async () => (await import("./data.js")).benchData(),
  cpu: async () => (await import("./cpu.js")).benchCpu(),
  conv: async () => (await import("./conv.js")).benchConv(),
  "cpu-threads": async () => (await import("./cpu-threads.js")).benchCpuThreads(),
  "cpu-lenet": async () => (await import("./cpu-lenet.js")).benchCpuLenet(),
  lenet: async () => (await import("./lenet.js")).benchLenet(),
  caffe: async () => (await import("./caffe-compare.js")).benchCaffeCompare(),
  dist: async () => (await import("./dist.js")).benchDist(),
  startup: async () => (await import("./startup.js")).benchStartup(),
  rules: async () => (await import("./rules-simulator.js")).benchRulesSimulator(),
  accuracy: async () => (await import("./time-to-accuracy.js")).benchTimeToAccuracy()
}

const requested = process.argv.slice(2).filter((a) => !a.startsWith("-"))
const names = requested.length > 0 ? requested : ["data", "cpu", "dist"]
for (const name of names) {
  const suite = suites[name]
  if (!suite) {
    console.error(`unknown benchmark '${name}' (known: ${Object.keys(suites).join(", ")})`)
    process.exit(2)
  }
}
for (const name of names) {
  console.log(`\n=== bench ${name} ===`)
  await suites[name]!()
}
