/**
 * The subcommands of `deepspark`, in help order. Each lives in its own file; add one line here to
 * register a new one.
 */
import type { CliCommand } from "./command.js"
import { dataCommands } from "./data-commands.js"
import { inspectCommand } from "./inspect.js"

const dataSummaries: Readonly<Record<string, string>> = {
  data: "fetch or prepare a dataset (see deepspark data --help)",
  "convert-mnist": "convert MNIST IDX files to a Datum LMDB/LevelDB (Caffe's convert_mnist_data)",
  "convert-cifar": "convert the CIFAR-10 binary batches to Datum databases (Caffe's convert_cifar_data)",
  "convert-imageset": "convert an image list to a Datum database (Caffe's convert_imageset)",
  "compute-mean": "compute the mean image of a Datum database (Caffe's compute_image_mean)"
}

export const commands: ReadonlyArray<CliCommand> = [
  inspectCommand,
  ...Object.entries(dataCommands).map(([name, run]): CliCommand => ({ name, summary: dataSummaries[name] ?? "", run }))
]
