/** The data commands by name, for the dispatcher in ./main.ts to register. */
import { computeMeanCommand } from "./compute-mean.js"
import { convertCifarCommand } from "./convert-cifar.js"
import { convertImagesetCommand } from "./convert-imageset.js"
import { convertMnistCommand } from "./convert-mnist.js"
import type { Command } from "./data-args.js"
import { dataCommand } from "./data.js"

export const dataCommands: Readonly<Record<string, Command>> = {
  data: dataCommand,
  "convert-mnist": convertMnistCommand,
  "convert-cifar": convertCifarCommand,
  "convert-imageset": convertImagesetCommand,
  "compute-mean": computeMeanCommand
}
