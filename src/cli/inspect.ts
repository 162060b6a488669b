import * as path from "node:path"
import {
  buildNetGraph,
  mergeNetState,
  resolveSolverNets,
  withSolverDefaults,
  type DataShapeProvider,
  type LayerParameter,
  type NetState,
  type Shape,
  type SolverParameter
} from "@deepspark/caffe"
import { describeOptions, parseOptions, type OptionSpec } from "./argv.js"
import { CliUsageError, type CliIo } from "./command.js"
import { netJson, netTable } from "./inspect-net.js"
import { readInspectInput, readNet } from "./inspect-read.js"
import { solverJson, solverNetJson, solverText } from "./inspect-solver.js"

const options: ReadonlyArray<OptionSpec> = [
  { name: "phase", type: "string", value: "TRAIN|TEST", description: "net phase (default: the file's state, else TEST); nets only" },
  { name: "stage", type: "strings", value: "NAME", description: "add a NetState stage (a solver: to its train_state, as caffe train does)" },
  { name: "level", type: "number", value: "N", description: "NetState level (a solver: its train_state level)" },
  { name: "data-shape", type: "strings", value: "TOP=C,H,W", description: "per-item shape of a data layer's top; the batch axis comes from the layer's batch_size" },
  { name: "model", type: "string", value: "FILE", description: "the net file (as caffe's -model), instead of FILE" },
  { name: "solver", type: "string", value: "FILE", description: "the solver file (as caffe's -solver), instead of FILE" },
  { name: "json", type: "boolean", description: "print one JSON object instead of the tables" },
  { name: "help", type: "boolean", description: "show this help" }
]

const help = [
  "usage: deepspark inspect FILE [--phase TRAIN|TEST] [--stage NAME]... [--level N] [--data-shape TOP=C,H,W]... [--json]",
  "",
  "Shows the net Caffe would build from a net prototxt (layers after NetState filtering and split",
  "insertion, every blob's shape, parameter shapes, learnable parameter count), or a solver after its",
  "upgrades with Caffe's defaults and the train/test nets it names (paths resolve from the working",
  "directory, as in Caffe). The kind of file is told by its fields.",
  "",
  ...describeOptions(options),
  "",
  "--json: for a net {name, phase, level, stages, layers:[{name,type,bottom,top}], blobs:{blob: dims|null},",
  "params:{layer: [dims|null,...]}, paramCount, inputs, outputs}; for a solver {solver, nets:[{role, index,",
  "source, testIter?, ...net}]}."
]

const parseDataShapes = (specs: ReadonlyArray<string>): Map<string, Shape> => {
  const shapes = new Map<string, Shape>()
  for (const spec of specs) {
    const m = /^([^=]+)=(\d+(?:[,x]\d+)*)$/.exec(spec)
    if (m === null) throw new CliUsageError(`--data-shape takes TOP=C,H,W (comma- or x-separated dims), got '${spec}'`)
    shapes.set(m[1]!, m[2]!.split(/[,x]/).map(Number))
  }
  return shapes
}

/** The batch size a data layer declares (the leading axis of its tops). */
const batchSizeOf = (layer: LayerParameter): number | undefined =>
  layer.data_param?.batch_size ??
  layer.image_data_param?.batch_size ??
  layer.hdf5_data_param?.batch_size ??
  layer.window_data_param?.batch_size ??
  layer.memory_data_param?.batch_size

/** Per-item shapes from --data-shape, given to the data layers (with a batch size) that produce those tops. */
const providerFor = (shapes: ReadonlyMap<string, Shape>): DataShapeProvider | undefined =>
  shapes.size === 0
    ? undefined
    : (layer) => {
        const tops = layer.top ?? []
        const batch = batchSizeOf(layer)
        if (batch === undefined || !tops.some((t) => shapes.has(t))) return undefined
        return tops.map((t) => {
          const item = shapes.get(t)
          return item === undefined ? null : [batch, ...item]
        })
      }

/** Graph errors name the layer and blob; on the command line they also name the file. */
const graphErrorTags: ReadonlySet<string> = new Set([
  "LayerConfigError",
  "UnknownBottomError",
  "DuplicateTopError",
  "ShapeError",
  "UnsupportedLayerError",
  "ParamSpecError",
  "SolverNetsError"
])

const inFile = <A>(file: string, run: () => A): A => {
  try {
    return run()
  } catch (e) {
    const tag = (e as { _tag?: unknown })._tag
    if (typeof tag === "string" && graphErrorTags.has(tag)) throw new Error(`${file}: ${(e as Error).message}`, { cause: e })
    throw e
  }
}

const print = (io: CliIo, lines: ReadonlyArray<string>): void => io.stdout(lines.join("\n"))

export const runInspect = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const { options: o, positionals } = parseOptions(argv, options)
  if (o.get("help") === true) {
    print(io, help)
    return 0
  }
  const named = [o.get("model"), o.get("solver")].filter((f): f is string => typeof f === "string")
  const files = [...positionals, ...named]
  if (files.length !== 1) throw new CliUsageError(files.length === 0 ? "missing FILE" : `expected one FILE, got ${files.length}: ${files.join(" ")}`)
  const file = files[0]!
  const cwd = io.cwd ?? process.cwd()
  const phase = o.get("phase") as string | undefined
  if (phase !== undefined && phase !== "TRAIN" && phase !== "TEST") throw new CliUsageError(`--phase must be TRAIN or TEST, got '${phase}'`)
  const level = o.get("level") as number | undefined
  if (level !== undefined && !Number.isInteger(level)) throw new CliUsageError(`--level takes an integer, got ${level}`)
  const stages = (o.get("stage") as ReadonlyArray<string> | undefined) ?? []
  const dataShapeProvider = providerFor(parseDataShapes((o.get("data_shape") as ReadonlyArray<string> | undefined) ?? []))
  const asJson = o.get("json") === true
  // Caffe's Net(file, phase, level, stages): phase and level override the file's state, stages add to it.
  const override: NetState = {
    ...(phase !== undefined ? { phase } : {}),
    ...(level !== undefined ? { level } : {}),
    ...(stages.length > 0 ? { stage: [...stages] } : {})
  }

  const input = readInspectInput(file, cwd)
  if (input.kind === "net") {
    const graph = inFile(file, () =>
      buildNetGraph(input.net, {
        state: mergeNetState(input.net.state, override),
        ...(dataShapeProvider ? { dataShapeProvider } : {})
      })
    )
    if (asJson) io.stdout(JSON.stringify(netJson(graph)))
    else print(io, netTable(graph))
    return 0
  }

  if (phase !== undefined) throw new CliUsageError("--phase applies to net files; a solver's train and test nets have their own phases")
  let solver = input.solver
  // As `caffe train -level -stage`: they go into the solver's train_state.
  if (level !== undefined || stages.length > 0) {
    solver = { ...solver, train_state: mergeNetState(solver.train_state, override) }
  }
  const nets = inFile(file, () =>
    resolveSolverNets(solver, {
      cwd,
      readNet: (absolute) => readNet(path.relative(cwd, absolute) || absolute, cwd)
    })
  )
  const built = [nets.train, ...nets.test].map((n) => ({
    net: n,
    graph: inFile(n.file !== undefined ? path.relative(cwd, n.file) || n.file : `${file} (${n.source})`, () =>
      buildNetGraph(n.net, { state: n.state, ...(dataShapeProvider ? { dataShapeProvider } : {}) })
    )
  }))
  const resolved = solverJson(withSolverDefaults(solver)) as SolverParameter
  if (asJson) io.stdout(JSON.stringify({ solver: resolved, nets: built.map(solverNetJson) }))
  else print(io, solverText(resolved, built))
  return 0
}
