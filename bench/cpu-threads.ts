/**
 * The cpu backend's threaded GEMM (a lone trainer's `--cpu-threads`): per-shape speed-up of LeNet's
 * large GEMMs, then LeNet (batch 64, DummyData) forward + backward, one thread against N, in alternating
 * rounds in one process so both see the same machine load. Wall and process CPU ms per iteration.
 *
 *   node bin/run-ts.mjs bench/cpu-threads.ts          (or `npm run bench cpu-threads`)
 *   DEEPSPARK_BENCH_THREADS=2  DEEPSPARK_BENCH_ROUNDS=7
 *
 * On a machine whose cores are busy with other work a second thread has nothing to run on: the
 * figures then show the hand-off's cost, not the speed-up. Print the load with the numbers.
 */
import os from "node:os"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { createCpuBackend } from "../packages/engine/src/backend/cpu/cpu-backend.js"
import { openStandaloneNet } from "../packages/engine/src/train/standalone-net.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const lenetModel = path.join(repoRoot, "test/fixtures/caffe/reference/timing/lenet_dummy.prototxt")

const shapes: ReadonlyArray<readonly [string, boolean, boolean, number, number, number]> = [
  ["conv2 fwd", false, false, 50, 64, 500],
  ["conv2 bwd W", false, true, 50, 500, 64],
  ["conv2 bwd x", true, false, 500, 64, 50],
  ["ip1 fwd", false, true, 64, 500, 800],
  ["ip1 bwd W", true, false, 500, 800, 64],
  ["ip1 bwd x", false, false, 64, 800, 500]
]

const median = (xs: ReadonlyArray<number>): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!

export const benchCpuThreads = async (): Promise<void> => {
  const threads = Number(process.env["DEEPSPARK_BENCH_THREADS"] ?? Math.max(2, os.availableParallelism()))
  const rounds = Number(process.env["DEEPSPARK_BENCH_ROUNDS"] ?? 7)
  const one = await createCpuBackend()
  const many = await createCpuBackend({ threads })
  try {
    console.log(`${many.description}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} on ${os.cpus().length} CPUs`)
    console.log(`GEMM (best of 30 batches)        1 thread µs   ${threads} threads µs   speed-up`)
    for (const [label, tA, tB, M, N, K] of shapes) {
      const times = [one, many].map((b) => {
        const A = b.allocator.allocFloat32(M * K).fill(0.5)
        const B = b.allocator.allocFloat32(K * N).fill(0.25)
        const C = b.allocator.allocFloat32(M * N)
        const reps = Math.max(3, Math.round(2e7 / (M * N * K)))
        let best = Number.POSITIVE_INFINITY
        for (let r = 0; r < 30; r++) {
          const t = performance.now()
          for (let i = 0; i < reps; i++) b.gemm(tA, tB, M, N, K, 1, A, 0, B, 0, 0, C, 0)
          best = Math.min(best, (performance.now() - t) / reps)
        }
        return best * 1000
      })
      console.log(`${`${label} ${M}×${N}×${K}`.padEnd(30)} ${times[0]!.toFixed(0).padStart(12)} ${times[1]!.toFixed(0).padStart(13)} ${`${(times[0]! / times[1]!).toFixed(2)}×`.padStart(10)}`)
    }
    const nets = await Promise.all([one, many].map((backend) => openStandaloneNet(lenetModel, { phase: "TRAIN", backend })))
    const wall: number[][] = [[], []]
    const cpu: number[][] = [[], []]
    const iterations = 10
    for (const n of nets) {
      n.net.forward()
      n.net.backward()
    }
    for (let r = 0; r < rounds; r++) {
      nets.forEach((n, i) => {
        const c0 = process.cpuUsage()
        const t0 = performance.now()
        for (let j = 0; j < iterations; j++) {
          n.net.forward()
          n.net.backward()
        }
        wall[i]!.push((performance.now() - t0) / iterations)
        const c = process.cpuUsage(c0)
        cpu[i]!.push((c.user + c.system) / 1000 / iterations)
      })
    }
    const ratios = wall[1]!.map((w, r) => w / wall[0]![r]!)
    console.log(
      `LeNet fwd+bwd (batch 64, ${rounds} rounds × ${iterations}): wall median 1 thread ${median(wall[0]!).toFixed(1)} ms, ` +
        `${threads} threads ${median(wall[1]!).toFixed(1)} ms; ratio per round ${ratios.map((x) => x.toFixed(2)).join(" ")} ` +
        `(median ${median(ratios).toFixed(2)}×); CPU ms per iteration ${median(cpu[0]!).toFixed(1)} vs ${median(cpu[1]!).toFixed(1)}; ` +
        `helper chunks ${many.helperChunks}`
    )
    console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`)
    await Promise.all(nets.map((n) => n.close()))
  } finally {
    await many.dispose()
  }
}


if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchCpuThreads()
