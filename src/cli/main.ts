// Entry point of the `deepspark` command (bin/deepspark.mjs imports this file).
import { processIo } from "./command.js"
import { runCli } from "./run-cli.js"

process.exitCode = await runCli(process.argv.slice(2), processIo)
