/**
 * Helper threads for one large GEMM: each instantiates the kernel module over the backend's shared
 * wasm memory, and the calling thread and the helpers claim parts ("chunks") of a recorded GEMM from a
 * shared counter until none is left. Claiming instead of a fixed split keeps a descheduled helper from
 * holding the caller up on a busy machine: whatever it has not claimed, the caller runs.
 *
 * Hand-off through a control Int32Array (Atomics): the caller writes the chunks' commands, then
 * publishes the job as (generation << 11 | next chunk) in one word, so a helper still finishing the
 * previous job's claim loop can never claim a chunk of the new one under the old generation. Helpers
 * spin on the generation word for a while after each job (GEMMs of one layer come back to back, and a
 * futex wake costs tens of µs), then sleep in Atomics.wait.
 *
 * The threads are unref'd (they never keep a process alive) and end with `dispose`.
 */
import { Worker } from "node:worker_threads"
import { Data } from "effect"
import { type Replay, replay, replaySource } from "./gemm-commands.js"
import type { KernelExports } from "./wasm-kernels.js"

export class GemmThreadFailed extends Data.TaggedError("GemmThreadFailed")<{ readonly message: string }> {}

// Control words.
const wGeneration = 0
const wClaim = 1
const wChunks = 2
const wDone = 3
const wStop = 4
const wFailed = 5
/** Chunks the helpers have run since start (for tests and benchmarks). */
const wHelperChunks = 6
/** Per participant p: its A buffer, B buffer and tile at 8 + 3p … (participant 0 is the caller). */
const wBuffers = 8
const maxParticipants = 16
/** Chunk i's commands are [chunkStart[i], chunkStart[i + 1]) at wChunkStart + i. */
const wChunkStart = wBuffers + 3 * maxParticipants
export const maxChunks = 256
const controlWords = wChunkStart + maxChunks + 1
const chunkBits = 11
const chunkMask = (1 << chunkBits) - 1
const generationMask = (1 << (31 - chunkBits)) - 1
/** Command buffer: 64 K doubles (a GEMM's plan is a few hundred; one that does not fit runs on one thread). */
const commandWords = 1 << 16
/** Spins of the caller waiting for helpers' last chunks before it sleeps (1 ms at a time). */
const callerSpins = 20_000

const workerSource = `
const { workerData } = require("node:worker_threads")
const { module, memory, control, commands, participant, spins: helperSpins } = workerData
const x = new WebAssembly.Instance(module, { env: { memory }, math: { exp: Math.exp, log: Math.log } }).exports
const ctl = new Int32Array(control)
const cmd = new Float64Array(commands)
const replay = ${replaySource}
const runClaims = (generation) => {
  const base = ${wBuffers} + 3 * participant
  for (;;) {
    const word = Atomics.load(ctl, ${wClaim})
    if ((word >>> ${chunkBits}) !== generation) return
    const chunk = word & ${chunkMask}
    if (chunk >= Atomics.load(ctl, ${wChunks})) return
    if (Atomics.compareExchange(ctl, ${wClaim}, word, word + 1) !== word) continue
    try {
      replay(x, cmd, ctl[${wChunkStart} + chunk], ctl[${wChunkStart} + chunk + 1], ctl[base], ctl[base + 1], ctl[base + 2])
    } catch (e) {
      Atomics.store(ctl, ${wFailed}, 1)
    }
    Atomics.add(ctl, ${wHelperChunks}, 1)
    Atomics.add(ctl, ${wDone}, 1)
    Atomics.notify(ctl, ${wDone})
  }
}
let seen = Atomics.load(ctl, ${wGeneration})
for (;;) {
  let spins = 0
  while (Atomics.load(ctl, ${wGeneration}) === seen) {
    if (++spins > helperSpins) {
      Atomics.wait(ctl, ${wGeneration}, seen)
      spins = 0
    }
  }
  seen = Atomics.load(ctl, ${wGeneration})
  if (Atomics.load(ctl, ${wStop}) !== 0) break
  runClaims(seen)
}
`

const skip: Replay = () => {}

export class GemmThreads {
  private readonly control = new Int32Array(new SharedArrayBuffer(controlWords * 4))
  readonly commands = new Float64Array(new SharedArrayBuffer(commandWords * 8))
  private readonly workers: Worker[]
  private generation = 0
  private disposed = false

  /** `helpers` threads besides the caller (threads − 1). */
  constructor(
    private readonly x: KernelExports,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    readonly helpers: number,
    /** Spins (loads of the generation word) before an idle helper sleeps. */
    helperSpins: number
  ) {
    if (helpers + 1 > maxParticipants) throw new RangeError(`cpu backend: at most ${maxParticipants} GEMM threads, asked for ${helpers + 1}`)
    this.workers = Array.from({ length: helpers }, (_, i) => {
      const worker = new Worker(workerSource, {
        eval: true,
        workerData: { module, memory, control: this.control.buffer, commands: this.commands.buffer, participant: i + 1, spins: helperSpins }
      })
      worker.unref()
      return worker
    })
  }

  /** Threads taking part, the caller included. */
  get participants(): number {
    return this.helpers + 1
  }

  /** Chunks the helper threads have run so far. */
  get helperChunks(): number {
    return Atomics.load(this.control, wHelperChunks)
  }

  /** Sets participant p's A buffer, B buffer and tile (byte addresses). */
  setBuffers(participant: number, pa: number, pb: number, tile: number): void {
    const base = wBuffers + 3 * participant
    this.control[base] = pa
    this.control[base + 1] = pb
    this.control[base + 2] = tile
  }

  /**
   * Runs chunks 0 … starts.length − 2 (chunk i = commands [starts[i], starts[i + 1])) on every thread
   * and returns once all are done.
   */
  run(starts: ReadonlyArray<number>): void {
    if (this.disposed) throw new GemmThreadFailed({ message: "cpu backend: GEMM threads used after dispose" })
    const ctl = this.control
    const chunks = starts.length - 1
    if (chunks > maxChunks) throw new RangeError(`cpu backend: ${chunks} GEMM chunks, at most ${maxChunks}`)
    for (let i = 0; i <= chunks; i++) ctl[wChunkStart + i] = starts[i]!
    this.generation = (this.generation + 1) & generationMask
    const generation = this.generation
    Atomics.store(ctl, wChunks, chunks)
    Atomics.store(ctl, wDone, 0)
    Atomics.store(ctl, wFailed, 0)
    Atomics.store(ctl, wClaim, generation << chunkBits)
    Atomics.store(ctl, wGeneration, generation)
    Atomics.notify(ctl, wGeneration)
    let failure: unknown
    try {
      this.claim(generation, replay)
    } catch (e) {
      failure = e
      // Nothing after a failure is worth computing: claim the rest as done without running it.
      this.claim(generation, skip)
    }
    // Helpers may still be in their last chunk: short, unless one was descheduled. Waited for even after
    // a failure here, so no helper writes into memory after this returns.
    for (let spins = 0; ; spins++) {
      const done = Atomics.load(ctl, wDone)
      if (done >= chunks) break
      if (spins > callerSpins) Atomics.wait(ctl, wDone, done, 1)
    }
    if (failure !== undefined) throw failure
    if (Atomics.load(ctl, wFailed) !== 0) throw new GemmThreadFailed({ message: "cpu backend: a GEMM thread's kernel call failed" })
  }

  /** The caller's claim loop (the helpers run the same one in workerSource). */
  private claim(generation: number, run: Replay): void {
    const ctl = this.control
    for (;;) {
      const word = Atomics.load(ctl, wClaim)
      if (word >>> chunkBits !== generation) return
      const chunk = word & chunkMask
      if (chunk >= Atomics.load(ctl, wChunks)) return
      if (Atomics.compareExchange(ctl, wClaim, word, word + 1) !== word) continue
      try {
        run(this.x, this.commands, ctl[wChunkStart + chunk]!, ctl[wChunkStart + chunk + 1]!, ctl[wBuffers]!, ctl[wBuffers + 1]!, ctl[wBuffers + 2]!)
      } finally {
        Atomics.add(ctl, wDone, 1)
      }
    }
  }

  /** Stops and terminates the helper threads (idempotent). */
  dispose(): Promise<void> {
    if (this.disposed) return Promise.resolve()
    this.disposed = true
    Atomics.store(this.control, wStop, 1)
    Atomics.store(this.control, wGeneration, (this.generation + 1) & generationMask)
    Atomics.notify(this.control, wGeneration)
    return Promise.all(this.workers.map((w) => w.terminate())).then(() => undefined)
  }
}
