/**
 * The data commands by name, for the dispatcher (./commands.ts). Each is imported only when it runs:
 * @deepspark/data pulls in native modules (sharp, classic-level) that other commands should not load.
 */
import type { CommandRun } from "./command.js"

export const dataCommands: Readonly<Record<string, CommandRun>> = {
  data: async (argv, io) => (await import("./data.js")).dataCommand(argv, io),
  "convert-mnist": async (argv, io) => (await import("./convert-mnist.js")).convertMnistCommand(argv, io),
  "convert-cifar": async (argv, io) => (await import("./convert-cifar.js")).convertCifarCommand(argv, io),
  "convert-imageset": async (argv, io) => (await import("./convert-imageset.js")).convertImagesetCommand(argv, io),
  "compute-mean": async (argv, io) => (await import("./compute-mean.js")).computeMeanCommand(argv, io)
}
