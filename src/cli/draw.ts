/**
 * `deepspark draw NET OUT.svg [--rankdir LR|TB] [--phase TRAIN|TEST]`: Caffe's python/draw_net.py —
 * the net's graph as a picture (SVG). Without --phase every layer is drawn, as draw_net.py does.
 */
import { filterNet, readNetPrototxtSync, type Phase } from "@deepspark/caffe"
import * as fs from "node:fs"
import { describeOptions, helpOption, parseOptions, type OptionSpec } from "./argv.js"
import { CliUsageError, resolvePath, type CliIo } from "./command.js"
import { drawNetSvg, type RankDir } from "./net-drawing.js"

const options: ReadonlyArray<OptionSpec> = [
  { name: "rankdir", type: "string", value: "LR|TB", description: "direction of the graph: left to right (default) or top to bottom" },
  { name: "phase", type: "string", value: "TRAIN|TEST|ALL", description: "draw only the layers of this phase (default ALL, as draw_net.py)" },
  helpOption
]

const help = [
  "usage: deepspark draw NET.prototxt OUT.svg [--rankdir LR|TB] [--phase TRAIN|TEST|ALL]",
  "",
  "Draws a net's graph as Caffe's draw_net.py does: layers as boxes, blobs as octagons, edges from",
  "bottoms to tops; in-place layers get a new node of their blob. Writes an SVG file.",
  "",
  ...describeOptions(options)
]

export const runDraw = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const p = parseOptions(argv, options)
  if (p.flag("help")) {
    for (const l of help) io.stdout(l)
    return 0
  }
  const [netFile, outFile, ...extra] = p.positionals
  if (netFile === undefined || outFile === undefined || extra.length > 0) throw new CliUsageError("give the net prototxt and the output file: deepspark draw NET.prototxt OUT.svg")
  const rankdir = (p.string("rankdir") ?? "LR").toUpperCase()
  if (rankdir !== "LR" && rankdir !== "TB") throw new CliUsageError(`--rankdir takes LR or TB, got '${p.string("rankdir")}'`)
  const phase = (p.string("phase") ?? "ALL").toUpperCase()
  if (phase !== "ALL" && phase !== "TRAIN" && phase !== "TEST") throw new CliUsageError(`--phase takes TRAIN, TEST or ALL, got '${p.string("phase")}'`)
  const net = readNetPrototxtSync(resolvePath(io, netFile))
  const drawn = phase === "ALL" ? net : filterNet(net, { phase: phase as Phase })
  fs.writeFileSync(resolvePath(io, outFile), drawNetSvg(drawn, { rankdir: rankdir as RankDir }))
  io.stdout(`Drawing net to ${outFile}`)
  return 0
}
