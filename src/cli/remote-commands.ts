/** The multi-process commands by name, for the dispatcher in ./main.ts to register (like dataCommands). */
import type { Command } from "../remote/args.js"
import { centerCommand } from "./center.js"
import { workerCommand } from "./worker.js"
import { runnerCommand } from "./runner.js"

export const remoteCommands: Readonly<Record<string, Command>> = {
  center: centerCommand,
  worker: workerCommand,
  runner: runnerCommand
}
