// Entry point of the `deepspark` command (bin/deepspark.mjs imports this file).
import { processIo } from "./command.js"
import { runCli } from "./run-cli.js"

// A reader that goes away (`deepspark --help | head`) ends the output, as for any Unix tool, instead of
// crashing the process on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0)
    throw e
  })

process.exitCode = await runCli(process.argv.slice(2), processIo)
