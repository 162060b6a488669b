/** `deepspark convert-mnist IMAGES LABELS OUT [--backend lmdb|leveldb]` (Caffe's convert_mnist_data). */
import { convertMnist, parseBackend } from "@deepspark/data"
import type { Command } from "./data-args.js"
import { parseArgs, resolvePath, runCommand, UsageError } from "./data-args.js"

const USAGE = "deepspark convert-mnist IMAGES LABELS OUT [--backend lmdb|leveldb]"

export const convertMnistCommand: Command = (argv, io) =>
  runCommand(io, USAGE, async () => {
    const args = parseArgs(argv, ["backend"], [])
    if (args.positional.length !== 3) throw new UsageError("expected IMAGES LABELS OUT")
    const [images, labels, out] = (args.positional as [string, string, string]).map((p) => resolvePath(io, p)) as [string, string, string]
    const backend = parseBackend((args.flags.get("backend") as string | undefined) ?? "lmdb")
    const res = await convertMnist(images, labels, out, { backend })
    io.stdout(`${out}: ${res.count} records`)
    return 0
  })
