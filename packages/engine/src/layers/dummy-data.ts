import type { FillerParameter } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"
import { fillBlob } from "../fillers/fill.js"

/**
 * DummyData: tops of given shapes filled by fillers; constant fillers fill once at setup, the others
 * refill on every forward (Caffe's `refill_`); Gaussian and uniform refills take one 32-bit draw per
 * value (Rng.fillGaussian by the ziggurat, as Caffe's Boost normal_distribution does; Rng.fillUniform) — in
 * the backend's kernels where it has them, same samples.
 */
export class DummyDataLayer extends Layer {
  private fillers: Array<FillerParameter | undefined> = []
  private refill: boolean[] = []

  override exactNumBottomBlobs(): number {
    return 0
  }
  override minTopBlobs(): number {
    return 1
  }
  layerSetUp(_bottom: Blob[], top: Blob[]): void {
    const p = this.param.dummy_data_param ?? {}
    const nt = top.length
    const onceOrPerTop = (name: string, n: number) => {
      if (n !== 0 && n !== 1 && n !== nt) throw this.setupError(`${name} must be specified 0, 1 or ${nt} (one per top) times, got ${n}`)
    }
    const fillers = p.data_filler ?? []
    onceOrPerTop("data_filler", fillers.length)
    const legacy = [p.num ?? [], p.channels ?? [], p.height ?? [], p.width ?? []]
    const shapes = p.shape ?? []
    const legacyUsed = legacy.some((l) => l.length > 0)
    if (legacyUsed && shapes.length > 0) throw this.setupError("both shape and legacy fields (num, channels, height, width) were specified")
    if (legacyUsed) {
      for (const [i, name] of ["num", "channels", "height", "width"].entries()) onceOrPerTop(name, legacy[i]!.length)
    } else onceOrPerTop("shape", shapes.length)
    top.forEach((t, i) => {
      if (legacyUsed) t.reshape(legacy.map((l) => (l.length === 1 ? l[0]! : l[i] ?? 0)))
      else t.reshape((shapes.length === 1 ? shapes[0] : shapes[i])?.dim ?? [])
    })
    this.fillers = top.map((_, i) => (fillers.length === 0 ? undefined : fillers.length === 1 ? fillers[0] : fillers[i]))
    this.refill = this.fillers.map((f) => (f?.type ?? "constant") !== "constant")
    top.forEach((t, i) => {
      if (!this.refill[i]) fillBlob(t, this.fillers[i], this.ctx.rng)
    })
  }
  reshape(): void {}
  forward(_bottom: Blob[], top: Blob[]): void {
    top.forEach((t, i) => {
      if (!this.refill[i]) return
      const f = this.fillers[i]
      // Gaussian and uniform refills (Caffe's timing nets) take the bulk paths: a per-forward cost.
      if (f?.type === "gaussian" && (f.sparse ?? -1) === -1) this.ctx.rng.fillGaussian(t.data, 0, t.count, f.mean ?? 0, f.std ?? 1, this.ctx.backend.bulkRandom)
      else if (f?.type === "uniform") this.ctx.rng.fillUniform(t.data, 0, t.count, f.min ?? 0, f.max ?? 1, this.ctx.backend.bulkRandom)
      else fillBlob(t, f, this.ctx.rng)
    })
  }
  backward(): void {}
}
