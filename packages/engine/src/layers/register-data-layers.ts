import { registerLayer } from "../core/registry.js"
import { HDF5DataLayer } from "./hdf5-data.js"
import { HDF5OutputLayer } from "./hdf5-output.js"
import { ImageDataLayer } from "./image-data.js"
import { WindowDataLayer } from "./window-data.js"

// The file-reading data layers (they use the "fileData" service, see ./file-data-service.ts).
registerLayer("HDF5Data", (p, c) => new HDF5DataLayer(p, c))
registerLayer("HDF5Output", (p, c) => new HDF5OutputLayer(p, c))
registerLayer("ImageData", (p, c) => new ImageDataLayer(p, c))
registerLayer("WindowData", (p, c) => new WindowDataLayer(p, c))
