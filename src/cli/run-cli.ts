import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { CliUsageError, processIo, type CliCommand, type CliIo } from "./command.js"
import { commands as registered } from "./commands.js"

const usage = (commands: ReadonlyArray<CliCommand>): string[] => {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2
  return [
    "usage: deepspark COMMAND [ARGS...]   (flags as --flag value, --flag=value or Caffe's -flag value)",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "deepspark COMMAND --help shows a command's flags."
  ]
}

/** `deepspark --version` (Caffe's `caffe --version`), `-version`, `version`. */
const VERSION: ReadonlySet<string> = new Set(["--version", "-version", "version"])

/** This package's version, from the package.json above this file (sources or a compiled build). */
const packageVersion = (): string => {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json")
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string }
      if (pkg.name === "deepspark" && pkg.version) return pkg.version
    }
    if (path.dirname(dir) === dir) return "unknown"
  }
}

/** `deepspark help`, Caffe's `-help` / `-h`, GNU's `--help`. */
const HELP: ReadonlySet<string> = new Set(["help", "--help", "-help", "-h", "--h"])

/** One line for an error: typed errors carry their own one-line message. */
export const errorLine = (e: unknown): string => {
  if (e instanceof Error) return e.message.split("\n")[0] ?? String(e)
  return String(e)
}

/**
 * Runs `deepspark ARGV` in-process and resolves to the exit code: 0 success, 1 failure (one line on
 * stderr), 2 bad usage. Tests call this directly; bin/deepspark.mjs calls it through ./main.ts.
 */
export const runCli = async (
  argv: ReadonlyArray<string>,
  io: CliIo = processIo,
  commands: ReadonlyArray<CliCommand> = registered
): Promise<number> => {
  const [name, ...rest] = argv
  if (name === undefined || HELP.has(name)) {
    const topic = name === "help" ? commands.find((c) => c.name === rest[0]) : undefined
    if (topic !== undefined) return runCli([topic.name, "--help"], io, commands)
    const lines = usage(commands)
    if (name === undefined) {
      for (const l of lines) io.stderr(l)
      return 2
    }
    for (const l of lines) io.stdout(l)
    return 0
  }
  if (VERSION.has(name)) {
    io.stdout(`deepspark version ${packageVersion()}`)
    return 0
  }
  const command = commands.find((c) => c.name === name)
  if (command === undefined) {
    io.stderr(`deepspark: unknown command '${name}' (commands: ${commands.map((c) => c.name).join(", ")})`)
    return 2
  }
  try {
    return await command.run(rest, io)
  } catch (e) {
    if (e instanceof CliUsageError) {
      io.stderr(`deepspark ${name}: ${e.message} (see deepspark ${name} --help)`)
      return 2
    }
    io.stderr(`deepspark ${name}: ${errorLine(e)}`)
    if (process.env["DEEPSPARK_DEBUG"] && e instanceof Error && e.stack) io.stderr(e.stack)
    return 1
  }
}
