import * as fs from "node:fs"
import * as path from "node:path"
import {
  buildNetGraph,
  mergeNetState,
  resolveNetState,
  resolveSolverNets,
  UnknownBottomError,
  withSolverDefaults,
  type DataShapeProvider,
  type LayerParameter,
  type NetGraph,
  type NetGraphOptions,
  type NetParameter,
  type NetState,
  type Shape,
  type SolverParameter
} from "@deepspark/caffe"
import { describeOptions, helpOption, parseOptions, type OptionSpec } from "./argv.js"
import { CliUsageError, type CliIo } from "./command.js"
import { netJson, netTable } from "./inspect-net.js"
import { firstProvider, readDataShapes } from "./inspect-data-shapes.js"
import { readInspectInput, readNet } from "./inspect-read.js"
import { solverJson, solverNetJson, solverText, type BuiltSolverNet } from "./inspect-solver.js"

const options: ReadonlyArray<OptionSpec> = [
  { name: "phase", type: "string", value: "TRAIN|TEST", description: "net phase (default: the file's state, else TEST — or TRAIN, with a note, when that phase leaves a bottom without its producer); nets only" },
  { name: "stage", type: "strings", value: "NAME", description: "add a NetState stage (a solver: to its train_state, as caffe train does)" },
  { name: "level", type: "integer", value: "N", description: "NetState level (a solver: its train_state level)" },
  { name: "data-shape", type: "strings", value: "TOP=C,H,W", description: "per-item shape of a data layer's top; the batch axis comes from the layer's batch_size" },
  { name: "model", type: "string", value: "FILE", description: "the net file (as caffe's -model), instead of FILE" },
  { name: "solver", type: "string", value: "FILE", description: "the solver file (as caffe's -solver), instead of FILE" },
  { name: "json", type: "boolean", description: "print one JSON object instead of the tables" },
  helpOption
]

const help = [
  "usage: deepspark inspect FILE [--phase TRAIN|TEST] [--stage NAME]... [--level N] [--data-shape TOP=C,H,W]... [--json]",
  "",
  "Shows the net Caffe would build from a net prototxt (layers after NetState filtering and split",
  "insertion, every blob's shape, parameter shapes, learnable parameter count), or a solver after its",
  "upgrades with Caffe's defaults and the train/test nets it names (paths resolve from the working",
  "directory, as in Caffe; a net file that does not exist is reported, not fatal). The kind of file is",
  "told by its fields. Python layers are shown with unknown shapes (and a warning: training refuses them).",
  "",
  ...describeOptions(options),
  "",
  "--json: for a net {name, phase, level, stages, layers:[{name,type,bottom,top}], blobs:{blob: dims|null},",
  "params:{layer: [dims|null,...]}, paramCount, inputs, outputs}; for a solver {solver, nets:[{role, index,",
  "source, testIter?, ...net} or {role, index, source, testIter?, error} for a net file that is missing]}."
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

/** Python layers are shown (with unknown shapes) but cannot be trained: say so once per layer. */
const warnUnsupported = (io: CliIo, where: string, graph: NetGraph): void => {
  for (const u of graph.unsupported) {
    io.stderr(`deepspark inspect: warning: ${where}: layer '${u.layer}': ${u.type} layers are not supported for training`)
  }
}

/**
 * A net file without --phase: Caffe's default (the file's state, else TEST) first. A train/test net
 * whose data layers are all phase-filtered (mnist_autoencoder.prototxt: no TEST data layer without a
 * stage) cannot be built in that phase; then TRAIN is shown, with a note saying why. Any other failure,
 * or TRAIN failing too, reports the first error.
 */
const buildDefaultPhase = (
  io: CliIo,
  file: string,
  net: NetParameter,
  override: NetState,
  options: NetGraphOptions
): NetGraph => {
  const state = mergeNetState(net.state, override)
  try {
    return buildNetGraph(net, { ...options, state })
  } catch (e) {
    const first = resolveNetState(state)
    if (!(e instanceof UnknownBottomError) || e.excluded === undefined || first.phase === "TRAIN") throw e
    let graph: NetGraph
    try {
      graph = buildNetGraph(net, { ...options, state: mergeNetState(net.state, { ...override, phase: "TRAIN" }) })
    } catch {
      throw e
    }
    const producers = [...new Set(e.excluded.layers)].map((n) => `'${n}'`).join(", ")
    io.stderr(
      `deepspark inspect: note: ${file}: showing phase TRAIN, as in ${e.excluded.state} nothing produces bottom '${e.blob}' of layer '${e.layer}' (layer ${producers} is excluded); --phase chooses the phase`
    )
    return graph
  }
}

export const runInspect = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const p = parseOptions(argv, options)
  if (p.flag("help")) {
    print(io, help)
    return 0
  }
  const named = [p.string("model"), p.string("solver")].filter((f): f is string => f !== undefined)
  const files = [...p.positionals, ...named]
  if (files.length !== 1) throw new CliUsageError(files.length === 0 ? "missing FILE" : `expected one FILE, got ${files.length}: ${files.join(" ")}`)
  const file = files[0]!
  const cwd = io.cwd ?? process.cwd()
  const phase = p.string("phase")
  if (phase !== undefined && phase !== "TRAIN" && phase !== "TEST") throw new CliUsageError(`--phase must be TRAIN or TEST, got '${phase}'`)
  const level = p.number("level")
  const stages = p.strings("stage")
  const dataShapeProvider = providerFor(parseDataShapes(p.strings("data-shape")))
  const asJson = p.flag("json")
  // Caffe's Net(file, phase, level, stages): phase and level override the file's state, stages add to it.
  const override: NetState = {
    ...(phase !== undefined ? { phase } : {}),
    ...(level !== undefined ? { level } : {}),
    ...(stages.length > 0 ? { stage: [...stages] } : {})
  }

  // Data-layer shapes: --data-shape first, else the first record of each database that exists.
  const withData = async (nets: ReadonlyArray<NetParameter>): Promise<NetGraphOptions> => {
    const provider = firstProvider(dataShapeProvider, await readDataShapes(nets, cwd))
    return { ...(provider ? { dataShapeProvider: provider } : {}), unsupportedLayers: "unknown-shapes" }
  }

  const input = readInspectInput(file, cwd)
  if (input.kind === "net") {
    const net = input.net
    const graphOptions = await withData([net])
    const graph = inFile(file, () =>
      phase === undefined
        ? buildDefaultPhase(io, file, net, override, graphOptions)
        : buildNetGraph(net, { ...graphOptions, state: mergeNetState(net.state, override) })
    )
    warnUnsupported(io, file, graph)
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
  // Net files that do not exist (generated by a notebook, or relative to another working directory)
  // are reported; the solver and its other nets are still shown.
  const missing = new Map<string, string>()
  const nets = inFile(file, () =>
    resolveSolverNets(solver, {
      cwd,
      readNet: (absolute) => {
        const shown = path.relative(cwd, absolute) || absolute
        if (fs.existsSync(absolute)) return readNet(shown, cwd)
        missing.set(absolute, `no such file: ${shown}`)
        return {}
      }
    })
  )
  const warned = new Set<string>()
  const graphOptions = await withData([nets.train, ...nets.test].filter((n) => !(n.file !== undefined && missing.has(n.file))).map((n) => n.net))
  const built = [nets.train, ...nets.test].map((n): BuiltSolverNet => {
    const error = n.file !== undefined ? missing.get(n.file) : undefined
    if (error !== undefined) {
      if (!warned.has(n.file!)) {
        warned.add(n.file!)
        const field = n.source.replace(/ file: .*$/, "")
        io.stderr(`deepspark inspect: warning: ${file}: ${field}: ${error}; its net is not shown (Caffe resolves net paths from the working directory)`)
      }
      return { net: n, error }
    }
    const where = n.file !== undefined ? path.relative(cwd, n.file) || n.file : `${file} (${n.source})`
    const graph = inFile(where, () => buildNetGraph(n.net, { ...graphOptions, state: n.state }))
    warnUnsupported(io, where, graph)
    return { net: n, graph }
  })
  const resolved = solverJson(withSolverDefaults(solver)) as SolverParameter
  if (asJson) io.stdout(JSON.stringify({ solver: resolved, nets: built.map(solverNetJson) }))
  else print(io, solverText(resolved, built))
  return 0
}
