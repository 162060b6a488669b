import { filterNet, type NetParameter, type NetState } from "@deepspark/caffe"
import type { LayerServices } from "../core/layer.js"
import { FILE_DATA_SERVICE, type FileDataService } from "../layers/file-data-service.js"

const FILE_LAYERS = new Set(["ImageData", "HDF5Data", "HDF5Output"])
const HDF5_LAYERS = new Set(["HDF5Data", "HDF5Output"])

export interface OpenedFileDataService {
  /** Merge into the Net's `services` (empty when the net has no ImageData/HDF5 layer). */
  readonly services: LayerServices
}

/**
 * Prepares what ImageData, HDF5Data and HDF5Output need before the (synchronous) Net setup: loads
 * @deepspark/data and, for HDF5 layers, starts h5wasm. Does nothing for nets without those layers.
 * `baseDir` is where relative list files, images, .h5 files and mean files are found (Caffe: the cwd).
 */
export const openFileDataService = async (
  net: NetParameter,
  options: { readonly state?: NetState; readonly baseDir?: string } = {}
): Promise<OpenedFileDataService> => {
  const types = new Set((filterNet(net, options.state ?? net.state).layer ?? []).map((l) => l.type ?? ""))
  if (![...types].some((t) => FILE_LAYERS.has(t))) return { services: {} }
  const data = await import("@deepspark/data")
  const hdf5 = [...types].some((t) => HDF5_LAYERS.has(t)) ? { reader: await data.openHdf5Reader(), writer: await data.openHdf5Writer() } : null
  const service: FileDataService = { data, baseDir: options.baseDir ?? process.cwd(), hdf5 }
  return { services: { [FILE_DATA_SERVICE]: service } }
}
