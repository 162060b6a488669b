/**
 * `deepspark convert-cifar INPUT_FOLDER OUTPUT_FOLDER [--backend lmdb|leveldb]` (Caffe's
 * convert_cifar_data): data_batch_1..5.bin and test_batch.bin → cifar10_{train,test}_<backend>.
 */
import { convertCifar, parseBackend } from "@deepspark/data"
import type { Command } from "./data-args.js"
import { parseArgs, resolvePath, runCommand, UsageError } from "./data-args.js"

const USAGE = "deepspark convert-cifar INPUT_FOLDER OUTPUT_FOLDER [--backend lmdb|leveldb]"

export const convertCifarCommand: Command = (argv, io) =>
  runCommand(io, USAGE, async () => {
    const args = parseArgs(argv, ["backend"], [])
    if (args.positional.length < 2 || args.positional.length > 3) throw new UsageError("expected INPUT_FOLDER OUTPUT_FOLDER")
    const [input, output, dbType] = args.positional as [string, string, string | undefined]
    // Caffe takes the db type as a third positional argument; --backend is accepted too.
    const backend = parseBackend((args.flags.get("backend") as string | undefined) ?? dbType ?? "lmdb")
    const { train, test } = await convertCifar(resolvePath(io, input), resolvePath(io, output), { backend })
    io.stdout(`${train.path}: ${train.count} records\n${test.path}: ${test.count} records`)
    return 0
  })
