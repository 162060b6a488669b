/**
 * A host Net trained, tested and timed on the device: the SolverNet the training loop sees when a
 * command runs on `--backend gpu`. The ResidentNet is built at first use, so weights loaded into the
 * host net before (fine-tuning, a resumed snapshot) are what goes to the device. Per forward only the
 * net's outputs come back (the loss; the accuracy of a test net); the parameters come back only for a
 * snapshot or an exchange, the solver history only for a snapshot.
 */
import type { NetParameter } from "@deepspark/caffe"
import type { Net } from "../../net/net.js"
import type { LearnableParam } from "../../solvers/learnable-param.js"
import type { SolverBase } from "../../solvers/solver-base.js"
import type { Logger } from "../../train/logger.js"
import type { DeviceSolverNet, NetOutputView, SolverNet } from "../../train/solver-net.js"
import type { GpuContext } from "./gpu-context.js"
import { ResidentNet } from "./resident-net.js"

export class ResidentSolverNet implements SolverNet {
  readonly device: DeviceSolverNet = {
    forward: () => this.forwardAsync(),
    forwardBackward: () => this.forwardBackwardAsync(),
    applyUpdate: (updater, rate, iteration) => this.applyUpdate(updater, rate, iteration),
    syncToHost: (updater, withDiffs) => this.syncToHost(updater, withDiffs)
  }
  private built: ResidentNet | undefined
  private readonly outputViews: ReadonlyArray<NetOutputView>
  /** The last forward's output values, by output name. */
  private readonly values = new Map<string, Float32Array>()
  /** The host history goes to the device once, before the first update (zeros, or a resumed state). */
  private historySent = false

  constructor(
    readonly ctx: GpuContext,
    readonly net: Net,
    private readonly log?: Logger
  ) {
    this.outputViews = net.outputBlobs().map((o) => ({
      name: o.name,
      lossWeight: o.lossWeight,
      values: () => this.values.get(o.name) ?? new Float32Array(o.blob.count)
    }))
  }

  /** The device net, built (and the host parameters uploaded) at first use. */
  get resident(): ResidentNet {
    return (this.built ??= new ResidentNet(this.ctx, this.net))
  }

  get name(): string {
    return this.net.name
  }

  /** The synchronous passes cannot wait for the device: the solver uses `device` (solveAsync / stepAsync). */
  forward(): number {
    throw new Error(`net ${this.net.name} runs on the GPU: its passes are asynchronous (use the solver's solveAsync / stepAsync)`)
  }
  forwardBackward(): number {
    return this.forward()
  }

  private async readOutputs(): Promise<number> {
    const r = this.resident
    const scalars = await r.readOutputs()
    let loss = 0
    for (const o of scalars) {
      this.values.set(o.name, Float32Array.of(o.value))
      loss += o.lossWeight * o.value
    }
    // Outputs of more than one value (rare: a per-class accuracy) are read whole, as display prints them.
    for (const o of this.net.outputBlobs()) {
      if (o.blob.count === 1) continue
      const v = await r.readBlob(o.blob)
      this.values.set(o.name, v)
      for (let k = 0; k < v.length; k++) loss += o.lossWeight * v[k]!
    }
    return Math.fround(loss)
  }

  async forwardAsync(): Promise<number> {
    this.resident.recordForward()
    return this.readOutputs()
  }

  async forwardBackwardAsync(): Promise<number> {
    const r = this.resident
    r.recordForward()
    r.recordBackward()
    return this.readOutputs()
  }

  clearParamDiffs(): void {
    this.resident.recordClearParamDiffs()
  }

  applyUpdate(updater: SolverBase, rate: number, iteration: number): void {
    const r = this.resident
    if (!this.historySent) {
      this.historySent = true
      const params = this.net.learnableParams()
      updater.ensureHistory(params)
      const copies = updater.history.length / Math.max(1, params.length)
      const arenas: Float32Array[] = []
      for (let c = 0; c < copies && params.length > 0; c++) {
        const arena = new Float32Array(r.paramCount)
        let at = 0
        params.forEach((p, k) => {
          arena.set(updater.history[c * params.length + k]!.subarray(0, p.blob.count), at)
          at += p.blob.count
        })
        arenas.push(arena)
      }
      // A fresh solver's history is zero, as the device's arenas already are: nothing to send.
      if (arenas.some((a) => a.some((v) => v !== 0))) r.writeHistory(arenas)
    }
    r.recordSolverUpdate(updater.settings, rate, iteration)
  }

  async syncToHost(updater: SolverBase, withDiffs = false): Promise<void> {
    const r = this.resident
    // Caffe leaves each update's step in the diffs; a snapshot_diff snapshot writes them.
    await r.syncParamsToHost(withDiffs)
    const params = this.net.learnableParams()
    updater.ensureHistory(params)
    const arenas = await r.readHistory()
    arenas.forEach((arena, c) => {
      let at = 0
      params.forEach((p, k) => {
        updater.history[c * params.length + k]?.set(arena.subarray(at, at + p.blob.count))
        at += p.blob.count
      })
    })
  }

  learnableParams(): ReadonlyArray<LearnableParam> {
    return this.net.learnableParams()
  }

  outputs(): ReadonlyArray<NetOutputView> {
    return this.outputViews
  }

  shareTrainedLayersWith(source: SolverNet): void {
    if (!(source instanceof ResidentSolverNet)) throw new TypeError("shareTrainedLayersWith: the source net is not on the GPU")
    this.resident.copyParamsFrom(source.resident)
  }

  copyTrainedLayersFrom(weights: NetParameter, file?: string): void {
    const log = this.log
    this.net.copyTrainedLayersFrom(weights, {
      ...(file !== undefined ? { file } : {}),
      ...(log ? { log: (line: string) => log.info(line) } : {})
    })
    this.built?.uploadHostParams()
  }

  /** The host net's parameters: current after `syncToHost` (the solver syncs before every snapshot). */
  toProto(writeDiff: boolean): NetParameter {
    return this.net.toProto({ writeDiff })
  }
}
