/** `deepspark compute-mean DB OUT.binaryproto [--backend lmdb|leveldb]` (Caffe's compute_image_mean). */
import { computeMeanFile, parseBackend } from "@deepspark/data"
import { CliUsageError, resolvePath } from "./command.js"
import { dbBackendOption } from "./db-backend-option.js"
import { standaloneCommand } from "./standalone-command.js"

export const computeMeanCommand = standaloneCommand(
  { name: "compute-mean", usage: "deepspark compute-mean INPUT_DB OUTPUT_FILE.binaryproto [--backend lmdb|leveldb]", options: [dbBackendOption] },
  async (p, io) => {
    if (p.positionals.length !== 2) throw new CliUsageError("expected INPUT_DB OUTPUT_FILE")
    const [db, out] = p.positionals as [string, string]
    // compute_image_mean's --backend default is lmdb
    const mean = await computeMeanFile(resolvePath(io, db), resolvePath(io, out), { backend: parseBackend(p.string("backend") ?? "lmdb") })
    io.stdout(`${out}: mean of ${mean.count} records, ${mean.channels}x${mean.height}x${mean.width}`)
    for (let c = 0; c < mean.channels; c++) {
      let s = 0
      const plane = mean.height * mean.width
      for (let i = 0; i < plane; i++) s += mean.data[c * plane + i]!
      io.stdout(`mean_value channel [${c}]: ${s / plane}`)
    }
    return 0
  }
)
