/** The network commands by name, for the dispatcher (./commands.ts) and src/cli/remote-main.ts. */
import type { CommandRun } from "./command.js"
import { centerCommand } from "./center.js"
import { workerCommand } from "./worker.js"
import { runnerCommand } from "./runner.js"

export const remoteCommands: Readonly<Record<string, CommandRun>> = {
  center: centerCommand,
  worker: workerCommand,
  runner: runnerCommand
}
