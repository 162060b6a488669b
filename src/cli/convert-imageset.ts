/**
 * `deepspark convert-imageset ROOT LIST OUT [--resize_height N --resize_width N --encoded
 * --encode_type EXT --shuffle --seed N --gray --check_size --backend lmdb|leveldb]` (Caffe's convert_imageset).
 */
import { convertImageset, parseBackend, SeededRng } from "@deepspark/data"
import type { Command } from "./data-args.js"
import { intFlag, parseArgs, resolvePath, runCommand, UsageError } from "./data-args.js"

const USAGE =
  "deepspark convert-imageset ROOTFOLDER/ LISTFILE DB_NAME [--resize_height N] [--resize_width N] [--encoded] [--encode_type png|jpg] [--shuffle] [--seed N] [--gray] [--check_size] [--backend lmdb|leveldb]"

export const convertImagesetCommand: Command = (argv, io) =>
  runCommand(io, USAGE, async () => {
    const args = parseArgs(argv, ["resize_height", "resize_width", "encode_type", "backend", "seed"], ["encoded", "shuffle", "gray", "check_size"])
    if (args.positional.length !== 3) throw new UsageError("expected ROOTFOLDER/ LISTFILE DB_NAME")
    const [root, list, out] = args.positional as [string, string, string]
    const res = await convertImageset(resolvePath(io, root), resolvePath(io, list), resolvePath(io, out), {
      backend: parseBackend((args.flags.get("backend") as string | undefined) ?? "lmdb"),
      resizeHeight: intFlag(args, "resize_height", 0),
      resizeWidth: intFlag(args, "resize_width", 0),
      encoded: args.flags.get("encoded") === true,
      encodeType: (args.flags.get("encode_type") as string | undefined) ?? "",
      shuffle: args.flags.get("shuffle") === true,
      gray: args.flags.get("gray") === true,
      checkSize: args.flags.get("check_size") === true,
      rng: new SeededRng(intFlag(args, "seed", Date.now() % 4294967296)),
      warn: (m) => io.stderr(`warning: ${m}`)
    })
    io.stdout(`${out}: ${res.count} records${res.skipped.length > 0 ? `, ${res.skipped.length} images skipped` : ""}`)
    return 0
  })
