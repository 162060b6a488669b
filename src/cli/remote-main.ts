/**
 * Runs `center` / `worker` / `runner` directly (`node bin/run-ts.mjs src/cli/remote-main.ts worker …`): what
 * the tests and the benchmark spawn, so they need only these commands, not the whole CLI. Same flags,
 * output and exit codes as through `deepspark`.
 */
import { processIo } from "./command.js"
import { remoteCommands } from "./remote-commands.js"

const [name, ...argv] = process.argv.slice(2)
const command = name === undefined ? undefined : remoteCommands[name]
if (!command) {
  console.error(`usage: main.ts (${Object.keys(remoteCommands).join("|")}) [flags]`)
  process.exit(2)
}
process.exit(await command(argv, processIo))
