import { readFile } from "node:fs/promises"
import { Rng } from "@deepspark/engine"
import { writeFileAtomic } from "@deepspark/caffe"
import { Effect } from "effect"
import type { CenterEvaluation } from "../center/center-service.js"
import { softmaxRegressionProblem } from "../simulator/problem.js"

/**
 * What a center process serves, independent of how parameters are computed: the seam between the
 * remote runtime (this folder) and a concrete model. The synthetic softmax problem implements it here
 * (tests, benchmarks); the Caffe driver implements it for a solver prototxt (x̃ as a .caffemodel).
 */
export interface CenterJob {
  /** Shown in the center's log. */
  readonly description: string
  /** Length of the flat parameter vector x̃. */
  readonly paramCount: number
  /** x̃ before any exchange (a fresh net's fillers, or --weights). */
  initialParams(): Float32Array
  /** Tests x̃ (Caffe's test nets); absent = the center never tests. */
  evaluate?(x: Float32Array, exchanges: number): Promise<CenterEvaluation>
  /** File extension of the model files this job writes (".caffemodel" for Caffe jobs). */
  readonly modelExtension: string
  /** Writes x̃ to `file` atomically (temp file + rename); absent = no checkpoints. */
  writeModel?(x: Float32Array, file: string): Promise<void>
  /** Reads x̃ back from a file writeModel wrote (for --resume). */
  readModel?(file: string): Promise<Float32Array>
  /** Where checkpoints go when no prefix is given (Caffe: the solver's snapshot_prefix). */
  readonly defaultCheckpointPrefix?: string
}

/** Arguments a Caffe job factory gets from `deepspark center -solver S …`. */
export interface CaffeCenterJobRequest {
  readonly solverPath: string
  readonly weights?: string
  readonly backend?: string
  readonly log: (line: string) => void
}

export type CaffeCenterJobFactory = (request: CaffeCenterJobRequest) => Promise<CenterJob>

let caffeFactory: CaffeCenterJobFactory | undefined

/** The Caffe driver registers how to turn a solver prototxt into a CenterJob. */
export const registerCaffeCenterJob = (factory: CaffeCenterJobFactory): void => {
  caffeFactory = factory
}

export const caffeCenterJob = async (request: CaffeCenterJobRequest): Promise<CenterJob> => {
  if (!caffeFactory) throw new Error(`cannot serve ${request.solverPath}: no Caffe center job is registered in this build`)
  return caffeFactory(request)
}

// --- The flat float32 model file used by the synthetic job -------------------------------------------

const F32_MAGIC = "DSF32\n"

/** A tiny self-describing file: "DSF32\n", uint32 LE count, then count float32 LE values. */
export const encodeF32File = (x: Float32Array): Uint8Array => {
  const out = new Uint8Array(F32_MAGIC.length + 4 + x.byteLength)
  out.set(new TextEncoder().encode(F32_MAGIC), 0)
  new DataView(out.buffer).setUint32(F32_MAGIC.length, x.length, true)
  const body = new DataView(out.buffer, F32_MAGIC.length + 4)
  for (let i = 0; i < x.length; i++) body.setFloat32(i * 4, x[i]!, true)
  return out
}

export const decodeF32File = (bytes: Uint8Array, file: string): Float32Array => {
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
