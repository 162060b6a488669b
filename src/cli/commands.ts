/**
 * The subcommands of `deepspark`, in help order. Each lives in its own file and is imported only when
 * it runs (the data commands pull in LMDB / image codecs; `inspect` should not pay for them). Add one
 * entry here to register a new command.
 */
import type { CliCommand, CommandRun } from "./command.js"

/** A command whose module is loaded on first use. */
const lazy = (name: string, summary: string, load: () => Promise<CommandRun>): CliCommand => ({
  name,
  summary,
  run: async (argv, io) => (await load())(argv, io)
})

const dataCommand = (name: string, summary: string): CliCommand =>
  lazy(name, summary, async () => {
    const run = (await import("./data-commands.js")).dataCommands[name]
    if (run === undefined) throw new Error(`data command '${name}' is not in ./data-commands.ts`)
    return run
  })

const solverCommand = (name: string, summary: string): CliCommand =>
  lazy(name, summary, async () => {
    const command = (await import("./solver-commands.js")).solverCommands.find((c) => c.name === name)
    if (command === undefined) throw new Error(`command '${name}' is not in ./solver-commands.ts`)
    return command.run
  })

const remoteCommand = (name: string, summary: string): CliCommand =>
  lazy(name, summary, async () => {
    const run = (await import("./remote-commands.js")).remoteCommands[name]
    if (run === undefined) throw new Error(`command '${name}' is not in ./remote-commands.ts`)
    return run
  })

export const commands: ReadonlyArray<CliCommand> = [
  solverCommand("train", "train a net from a solver prototxt (caffe train; --weights to fine-tune, --snapshot to resume)"),
  solverCommand("test", "score a trained model (caffe test: --model, --weights, --iterations)"),
  solverCommand("time", "benchmark a net's forward/backward per layer (caffe time: --model, --iterations)"),
  lazy("device_query", "list the WebGPU adapters the gpu backend can use (caffe device_query)", async () => (await import("./device-query.js")).runDeviceQuery),
  lazy("draw", "draw a net's graph as an SVG picture (Caffe's draw_net.py)", async () => (await import("./draw.js")).runDraw),
  lazy("inspect", "show a net's layers, blob and parameter shapes, or a solver and its nets", async () => (await import("./inspect.js")).runInspect),
  remoteCommand("center", "run the EASGD center (parameter server) for remote workers"),
  remoteCommand("worker", "run a trainer worker that connects to a center"),
  remoteCommand("runner", "run an @effect/cluster runner that hosts trainers of cluster-mode runs (--cluster-db)"),
  dataCommand("data", "fetch or prepare a dataset (see deepspark data --help)"),
  dataCommand("convert-mnist", "convert MNIST IDX files to a Datum LMDB/LevelDB (Caffe's convert_mnist_data)"),
  dataCommand("convert-cifar", "convert the CIFAR-10 binary batches to Datum databases (Caffe's convert_cifar_data)"),
  dataCommand("convert-imageset", "convert an image list to a Datum database (Caffe's convert_imageset)"),
  dataCommand("compute-mean", "compute the mean image of a Datum database (Caffe's compute_image_mean)")
]
