import type { NetParameter } from "@deepspark/caffe"
import type { Backend } from "../backend/backend.js"
import type { Net } from "../net/net.js"
import type { LearnableParam } from "../solvers/learnable-param.js"
import type { Logger } from "./logger.js"
import type { NetOutputView, SolverNet } from "./solver-net.js"

/** The engine Net seen through the narrow interface the training loop uses. */
export class NetSolverAdapter implements SolverNet {
  private readonly outputViews: ReadonlyArray<NetOutputView>

  constructor(
    readonly net: Net,
    private readonly log?: Logger
  ) {
    this.outputViews = net.outputBlobs().map((o) => ({
      name: o.name,
      lossWeight: o.lossWeight,
      values: () => o.blob.data.subarray(0, o.blob.count)
    }))
  }

  get name(): string {
    return this.net.name
  }
  get backend(): Backend {
    return this.net.backend
  }
  forward(): number {
    return this.net.forward()
  }
  forwardBackward(): number {
    return this.net.forwardBackward()
  }
  clearParamDiffs(): void {
    this.net.clearParamDiffs()
  }
  learnableParams(): ReadonlyArray<LearnableParam> {
    return this.net.learnableParams()
  }
  outputs(): ReadonlyArray<NetOutputView> {
    return this.outputViews
  }
  shareTrainedLayersWith(source: SolverNet): void {
    if (!(source instanceof NetSolverAdapter)) throw new TypeError("shareTrainedLayersWith: the source is not an engine Net")
    this.net.shareTrainedLayersWith(source.net)
  }
  copyTrainedLayersFrom(weights: NetParameter, file?: string): void {
    const log = this.log
    this.net.copyTrainedLayersFrom(weights, {
      ...(file !== undefined ? { file } : {}),
      ...(log ? { log: (line: string) => log.info(line) } : {})
    })
  }
  toProto(writeDiff: boolean): NetParameter {
    return this.net.toProto({ writeDiff })
  }
}
