/**
 * `deepspark convert-cifar INPUT_FOLDER OUTPUT_FOLDER [--backend lmdb|leveldb]` (Caffe's
 * convert_cifar_data): data_batch_1..5.bin and test_batch.bin → cifar10_{train,test}_<backend>.
 */
import { convertCifar, parseBackend } from "@deepspark/data"
import { CliUsageError, resolvePath } from "./command.js"
import { dbBackendOption } from "./db-backend-option.js"
import { standaloneCommand } from "./standalone-command.js"

export const convertCifarCommand = standaloneCommand(
  { name: "convert-cifar", usage: "deepspark convert-cifar INPUT_FOLDER OUTPUT_FOLDER [--backend lmdb|leveldb]", options: [dbBackendOption] },
  async (p, io) => {
    if (p.positionals.length < 2 || p.positionals.length > 3) throw new CliUsageError("expected INPUT_FOLDER OUTPUT_FOLDER")
    const [input, output, dbType] = p.positionals as [string, string, string | undefined]
    // Caffe takes the db type as a third positional argument; --backend is accepted too.
    const backend = parseBackend(p.string("backend") ?? dbType ?? "lmdb")
    const { train, test } = await convertCifar(resolvePath(io, input), resolvePath(io, output), { backend })
    io.stdout(`${train.path}: ${train.count} records\n${test.path}: ${test.count} records`)
    return 0
  }
)
