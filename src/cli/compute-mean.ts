/** `deepspark compute-mean DB OUT.binaryproto [--backend lmdb|leveldb]` (Caffe's compute_image_mean). */
import { computeMeanFile, parseBackend } from "@deepspark/data"
import type { Command } from "./data-args.js"
import { parseArgs, resolvePath, runCommand, UsageError } from "./data-args.js"

const USAGE = "deepspark compute-mean INPUT_DB OUTPUT_FILE.binaryproto [--backend lmdb|leveldb]"

export const computeMeanCommand: Command = (argv, io) =>
  runCommand(io, USAGE, async () => {
    const args = parseArgs(argv, ["backend"], [])
    if (args.positional.length !== 2) throw new UsageError("expected INPUT_DB OUTPUT_FILE")
    const [db, out] = args.positional as [string, string]
    // compute_image_mean's --backend default is lmdb
    const mean = await computeMeanFile(resolvePath(io, db), resolvePath(io, out), { backend: parseBackend((args.flags.get("backend") as string | undefined) ?? "lmdb") })
    io.stdout(`${out}: mean of ${mean.count} records, ${mean.channels}x${mean.height}x${mean.width}`)
    for (let c = 0; c < mean.channels; c++) {
      let s = 0
      const plane = mean.height * mean.width
      for (let i = 0; i < plane; i++) s += mean.data[c * plane + i]!
      io.stdout(`mean_value channel [${c}]: ${s / plane}`)
    }
    return 0
  })
