import type { Blob } from "../core/blob.js"
import { Layer } from "../core/layer.js"
import { fileDataService, resolveDataPath, type FileDataService } from "./file-data-service.js"

/**
 * Caffe's HDF5OutputLayer: each forward writes bottom 0 as dataset "data" and bottom 1 as "label"
 * (float32, the blobs' full shapes) to hdf5_output_param.file_name, created (truncated) at setup.
 * Caffe can only write once (a second forward fails re-creating the datasets); here each forward
 * rewrites the file, so it holds the latest batch — the first forward gives Caffe's file.
 * No tops; no gradient.
 */
export class HDF5OutputLayer extends Layer {
  private svc!: FileDataService
  private file = ""

  override exactNumBottomBlobs(): number {
    return 2
  }
  override exactNumTopBlobs(): number {
    return 0
  }
  override allowForceBackward(): boolean {
    return false
  }

  layerSetUp(): void {
    const name = this.param.hdf5_output_param?.file_name
    if (name === undefined || name === "") throw this.setupError("hdf5_output_param.file_name is required")
    this.svc = fileDataService(this.ctx, (d) => this.setupError(d), true)
    this.file = resolveDataPath(this.svc, name)
    // Created at setup, as Caffe's H5Fcreate(H5F_ACC_TRUNC): an unwritable path fails before training.
    this.svc.hdf5!.writer.write(this.file, [])
  }

  reshape(bottom: Blob[], _top: Blob[]): void {
    const [data, label] = bottom as [Blob, Blob]
    if (data.shape[0] !== label.shape[0])
      throw this.setupError(`data and label must have the same number of rows (first axis), got ${data.shape.join("×")} and ${label.shape.join("×")}`)
  }

  forward(bottom: Blob[], _top: Blob[]): void {
    const [data, label] = bottom as [Blob, Blob]
    this.svc.hdf5!.writer.write(this.file, [
      { name: "data", shape: data.shape, data: data.data.slice(0, data.count) },
      { name: "label", shape: label.shape, data: label.data.slice(0, label.count) }
    ])
  }

  backward(): void {}
}
