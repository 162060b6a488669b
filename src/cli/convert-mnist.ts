/** `deepspark convert-mnist IMAGES LABELS OUT [--backend lmdb|leveldb]` (Caffe's convert_mnist_data). */
import { convertMnist, parseBackend } from "@deepspark/data"
import { CliUsageError, resolvePath } from "./command.js"
import { dbBackendOption } from "./db-backend-option.js"
import { standaloneCommand } from "./standalone-command.js"

export const convertMnistCommand = standaloneCommand(
  { name: "convert-mnist", usage: "deepspark convert-mnist IMAGES LABELS OUT [--backend lmdb|leveldb]", options: [dbBackendOption] },
  async (p, io) => {
    if (p.positionals.length !== 3) throw new CliUsageError("expected IMAGES LABELS OUT")
    const [images, labels, out] = p.positionals.map((f) => resolvePath(io, f)) as [string, string, string]
    const res = await convertMnist(images, labels, out, { backend: parseBackend(p.string("backend") ?? "lmdb") })
    io.stdout(`${out}: ${res.count} records`)
    return 0
  }
)
