/**
 * The simulator's softmax-regression problem as a CenterJob (../center/center-job.ts), with its flat
 * float32 model file: a whole multi-process run without a Caffe net, for tests and benchmarks
 * (`deepspark center --synthetic SEED`, `deepspark worker --synthetic SEED`).
 */
import { readFile } from "node:fs/promises"
import { Rng } from "@deepspark/engine"
import { writeFileAtomic } from "@deepspark/caffe"
import { Effect } from "effect"
import type { CenterJob } from "../center/center-job.js"
import { softmaxRegressionProblem } from "./problem.js"

// --- The flat float32 model file used by the synthetic job -------------------------------------------

const F32_MAGIC = "DSF32\n"

/** A tiny self-describing file: "DSF32\n", uint32 LE count, then count float32 LE values. */
const encodeF32File = (x: Float32Array): Uint8Array => {
  const out = new Uint8Array(F32_MAGIC.length + 4 + x.byteLength)
  out.set(new TextEncoder().encode(F32_MAGIC), 0)
  new DataView(out.buffer).setUint32(F32_MAGIC.length, x.length, true)
  const body = new DataView(out.buffer, F32_MAGIC.length + 4)
  for (let i = 0; i < x.length; i++) body.setFloat32(i * 4, x[i]!, true)
  return out
}

const decodeF32File = (bytes: Uint8Array, file: string): Float32Array => {
  const head = new TextDecoder().decode(bytes.subarray(0, F32_MAGIC.length))
  if (head !== F32_MAGIC) throw new Error(`${file}: not a deepspark float32 model file (bad magic)`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const count = view.getUint32(F32_MAGIC.length, true)
  const expected = F32_MAGIC.length + 4 + count * 4
  if (bytes.length !== expected) throw new Error(`${file}: ${bytes.length} bytes, expected ${expected} for ${count} values`)
  const x = new Float32Array(count)
  for (let i = 0; i < count; i++) x[i] = view.getFloat32(F32_MAGIC.length + 4 + i * 4, true)
  return x
}

export interface SyntheticJobOptions {
  /** The softmax problem's data seed; workers must use the same one (`--synthetic SEED`). */
  readonly problemSeed: number
  /** Seed of the initial parameters. */
  readonly initSeed?: number
}

/**
 * The simulator's softmax-regression problem as a center job: the same problem the "softmax-problem"
 * TrainerSpec trains in workers, so a whole multi-process run needs no Caffe net.
 */
export const syntheticCenterJob = (options: SyntheticJobOptions): CenterJob => {
  const problem = softmaxRegressionProblem({ seed: options.problemSeed, separation: 0.6 }, (s) => new Rng(s))
  return {
    description: `synthetic softmax problem (seed ${options.problemSeed}, ${problem.paramCount} parameters)`,
    paramCount: problem.paramCount,
    initialParams: () => problem.init(new Rng(options.initSeed ?? 1)),
    evaluate: async (x) => {
      const r = problem.evaluate(x)
      return { outputs: [{ name: "accuracy", value: r.accuracy }, { name: "loss", value: r.loss, lossWeight: 1 }] }
    },
    modelExtension: ".f32",
    writeModel: (x, file) => Effect.runPromise(writeFileAtomic(file, encodeF32File(x))),
    readModel: async (file) => decodeF32File(new Uint8Array(await readFile(file)), file)
  }
}
