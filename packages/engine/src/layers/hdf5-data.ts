import type { Hdf5Blob } from "@deepspark/data"
import { getOr } from "@deepspark/caffe"
import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"
import { fileDataService, resolveDataPath, type FileDataService } from "./file-data-service.js"

/**
 * Caffe's HDF5DataLayer: `source` lists .h5 files; each holds one dataset per top, named like the top,
 * all with the same number of rows. One file is held in memory at a time (read fully, as Caffe does);
 * rows are served in order, moving to the next file at the end of one and wrapping after the last.
 * With `shuffle`, the file order is shuffled at setup and at each wrap, and the row order whenever a
 * file is loaded and at each end of a file. Tops are (batch, dataset dims after the first). No
 * transform_param (Caffe rejects it too).
 */
export class HDF5DataLayer extends Layer {
  private svc!: FileDataService
  private files: string[] = []
  private listFile = ""
  private filePerm: number[] = []
  private currentFile = 0
  private loaded: Hdf5Blob[] = []
  private rowPerm: number[] = []
  private currentRow = 0
  private batchSize = 0
  private shuffle = false
  private itemShapes: number[][] = []

  override exactNumBottomBlobs(): number {
    return 0
  }
  override minTopBlobs(): number {
    return 1
  }

  layerSetUp(_bottom: Blob[], top: Blob[]): void {
    if (this.param.transform_param !== undefined) throw this.setupError("HDF5Data does not transform data: remove transform_param")
    const p = this.param.hdf5_data_param ?? {}
    this.svc = fileDataService(this.ctx, (d) => this.setupError(d), true)
    this.batchSize = p.batch_size ?? 0
    if (!(this.batchSize > 0)) throw this.setupError(`hdf5_data_param.batch_size must be positive, got ${this.batchSize}`)
    if (p.source === undefined || p.source === "") throw this.setupError("hdf5_data_param.source (the list of .h5 files) is required")
    this.shuffle = getOr(p, "HDF5DataParameter", "shuffle")
    this.listFile = resolveDataPath(this.svc, p.source)
    this.files = this.svc.data.readHdf5SourceList(this.listFile).map((f) => resolveDataPath(this.svc, f))
    this.filePerm = this.files.map((_, i) => i)
    if (this.shuffle) this.svc.data.shuffleInPlace(this.filePerm, this.ctx.rng)
    this.currentFile = 0
    this.load(top.length)
    this.itemShapes = this.loaded.map((b) => b.shape.slice(1))
    this.itemShapes.forEach((s, i) => top[i]!.reshape([this.batchSize, ...s]))
  }

  reshape(): void {}

  /** Caffe's LoadHDF5FileData, plus a check that the file's item shapes match the tops'. */
  private load(tops: number): void {
    const file = this.files[this.filePerm[this.currentFile]!]!
    const names = this.param.top!.slice(0, tops)
    const blobs = this.svc.hdf5!.reader.load(file, names)
    if (this.itemShapes.length > 0) {
      blobs.forEach((b, i) => {
        const want = this.itemShapes[i]!
        const got = b.shape.slice(1)
        if (got.length !== want.length || got.some((d, k) => d !== want[k]))
          throw this.setupError(
            `${file}: dataset "${b.name}" rows are ${got.join("×") || "scalars"}, but the first file (${this.files[this.filePerm[0]!]}) gave ${want.join("×") || "scalars"} (listed in ${this.listFile})`
          )
      })
    }
    this.loaded = blobs
    this.rowPerm = Array.from({ length: blobs[0]!.shape[0]! }, (_, i) => i)
    if (this.rowPerm.length === 0) throw this.setupError(`${file}: datasets have no rows`)
    if (this.shuffle) this.svc.data.shuffleInPlace(this.rowPerm, this.ctx.rng)
    this.currentRow = 0
  }

  /** Caffe's Next(): the next row, the next file at the end of one, reshuffling as configured. */
  private advance(): void {
    if (++this.currentRow < this.rowPerm.length) return
    if (this.files.length > 1) {
      if (++this.currentFile === this.files.length) {
        this.currentFile = 0
        if (this.shuffle) this.svc.data.shuffleInPlace(this.filePerm, this.ctx.rng)
      }
      this.load(this.loaded.length)
    }
    this.currentRow = 0
    if (this.shuffle) this.svc.data.shuffleInPlace(this.rowPerm, this.ctx.rng)
  }

  forward(_bottom: Blob[], top: Blob[]): void {
    for (let i = 0; i < this.batchSize; i++) {
      const row = this.rowPerm[this.currentRow]!
      for (let j = 0; j < top.length; j++) {
        const dim = top[j]!.count / this.batchSize
        top[j]!.data.set(this.loaded[j]!.data.subarray(row * dim, (row + 1) * dim), i * dim)
      }
      this.advance()
    }
  }

  backward(): void {}
}
