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

export const commands: ReadonlyArray<CliCommand> = [
  lazy("inspect", "show a net's layers, blob and parameter shapes, or a solver and its nets", async () => (await import("./inspect.js")).runInspect),
  dataCommand("data", "fetch or prepare a dataset (see deepspark data --help)"),
  dataCommand("convert-mnist", "convert MNIST IDX files to a Datum LMDB/LevelDB (Caffe's convert_mnist_data)"),
  dataCommand("convert-cifar", "convert the CIFAR-10 binary batches to Datum databases (Caffe's convert_cifar_data)"),
  dataCommand("convert-imageset", "convert an image list to a Datum database (Caffe's convert_imageset)"),
  dataCommand("compute-mean", "compute the mean image of a Datum database (Caffe's compute_image_mean)")
]
