/**
 * Runs `center` / `worker` directly (`node bin/run-ts.mjs src/remote/main.ts worker …`): what the tests
 * and the benchmark spawn, so they need only these two commands, not the whole CLI.
 */
import { remoteCommands } from "../cli/remote-commands.js"

const [name, ...argv] = process.argv.slice(2)
const command = name === undefined ? undefined : remoteCommands[name]
if (!command) {
  console.error(`usage: main.ts (${Object.keys(remoteCommands).join("|")}) [flags]`)
  process.exit(2)
}
const out = (s: string) => (s.endsWith("\n") ? s : `${s}\n`)
const code = await command(argv, { stdout: (s) => void process.stdout.write(out(s)), stderr: (s) => void process.stderr.write(out(s)) })
process.exit(code)
