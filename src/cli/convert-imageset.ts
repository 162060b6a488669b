/**
 * `deepspark convert-imageset ROOT LIST OUT [--resize_height N --resize_width N --encoded
 * --encode_type EXT --shuffle --seed N --gray --check_size --backend lmdb|leveldb]` (Caffe's convert_imageset).
 */
import { convertImageset, parseBackend, SeededRng } from "@deepspark/data"
import { CliUsageError, resolvePath } from "./command.js"
import { dbBackendOption } from "./db-backend-option.js"
import { standaloneCommand } from "./standalone-command.js"

export const convertImagesetCommand = standaloneCommand(
  {
    name: "convert-imageset",
    usage:
      "deepspark convert-imageset ROOTFOLDER/ LISTFILE DB_NAME [--resize_height N] [--resize_width N] [--encoded] [--encode_type png|jpg] [--shuffle] [--seed N] [--gray] [--check_size] [--backend lmdb|leveldb]",
    options: [
      { name: "resize_height", type: "integer", min: 0, value: "N", description: "resize images to this height (0: keep)" },
      { name: "resize_width", type: "integer", min: 0, value: "N", description: "resize images to this width (0: keep)" },
      { name: "encoded", type: "boolean", description: "store the encoded image bytes in the Datum" },
      { name: "encode_type", type: "string", value: "png|jpg", description: "re-encode to this format (with --encoded)" },
      { name: "shuffle", type: "boolean", description: "shuffle the list's order" },
      { name: "seed", type: "integer", min: 0, value: "N", description: "the shuffle's random seed (default: from the clock)" },
      { name: "gray", type: "boolean", description: "read images as grayscale" },
      { name: "check_size", type: "boolean", description: "require every image to have the first one's size" },
      dbBackendOption
    ]
  },
  async (p, io) => {
    if (p.positionals.length !== 3) throw new CliUsageError("expected ROOTFOLDER/ LISTFILE DB_NAME")
    const [root, list, out] = p.positionals as [string, string, string]
    const res = await convertImageset(resolvePath(io, root), resolvePath(io, list), resolvePath(io, out), {
      backend: parseBackend(p.string("backend") ?? "lmdb"),
      resizeHeight: p.number("resize_height") ?? 0,
      resizeWidth: p.number("resize_width") ?? 0,
      encoded: p.flag("encoded"),
      encodeType: p.string("encode_type") ?? "",
      shuffle: p.flag("shuffle"),
      gray: p.flag("gray"),
      checkSize: p.flag("check_size"),
      rng: new SeededRng(p.number("seed") ?? Date.now() % 4294967296),
      warn: (m) => io.stderr(`warning: ${m}`)
    })
    io.stdout(`${out}: ${res.count} records${res.skipped.length > 0 ? `, ${res.skipped.length} images skipped` : ""}`)
    return 0
  }
)
