import type * as DataPackage from "@deepspark/data"
import path from "node:path"
import type { LayerContext } from "../core/layer.js"

/**
 * What the file-reading data layers (ImageData, HDF5Data, HDF5Output) use: the @deepspark/data package
 * (loaded on demand — its native modules cost seconds at import, so the engine never imports it
 * statically), the folder relative paths are resolved against (Caffe: the working directory), and the
 * started HDF5 library (h5wasm initialises asynchronously; once started, reads and writes are
 * synchronous, as layer setup and forward must be). `openFileDataService` in ../net/file-data-service.ts
 * builds it before the Net.
 */
export interface FileDataService {
  readonly data: typeof DataPackage
  readonly baseDir: string
  readonly hdf5: { readonly reader: DataPackage.Hdf5Reader; readonly writer: DataPackage.Hdf5Writer } | null
}

export const FILE_DATA_SERVICE = "fileData"

/** The service, or an error naming the layer and how to provide it. */
export const fileDataService = (ctx: LayerContext, fail: (detail: string) => Error, needsHdf5 = false): FileDataService => {
  const svc = ctx.services[FILE_DATA_SERVICE] as FileDataService | undefined
  if (svc === undefined || (needsHdf5 && svc.hdf5 === null)) {
    throw fail(
      `no file data service ("${FILE_DATA_SERVICE}"${needsHdf5 ? " with HDF5 started" : ""}): build the Net with the services of openFileDataService(net) from @deepspark/engine`
    )
  }
  return svc
}

export const resolveDataPath = (svc: FileDataService, file: string): string => path.resolve(svc.baseDir, file)
