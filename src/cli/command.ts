/**
 * What the `deepspark` dispatcher knows about a subcommand. A command parses its own arguments with
 * ./argv.ts (Caffe's `-flag` and GNU `--flag` alike), writes through `io` (each call is one line; a
 * trailing newline is added when missing) and resolves to the exit code: 0 success, 1 failure, 2 bad usage.
 */
import { Data } from "effect"
import path from "node:path"

export interface CliIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** Working directory for relative paths (Caffe resolves net paths from it). Default process.cwd(). */
  readonly cwd?: string
}

export type CommandRun = (argv: ReadonlyArray<string>, io: CliIo) => Promise<number>

export interface CliCommand {
  readonly name: string
  /** One line for `deepspark help`. */
  readonly summary: string
  readonly run: CommandRun
}

/** Bad command-line usage: reported with the command's name, exit code 2. */
export class CliUsageError extends Data.TaggedError("CliUsageError")<{ readonly message: string }> {
  constructor(message: string) {
    super({ message })
  }
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  stderr: (text) => void process.stderr.write(text.endsWith("\n") ? text : `${text}\n`)
}

/** A path argument resolved against the command's working directory. */
export const resolvePath = (io: CliIo, p: string): string => path.resolve(io.cwd ?? process.cwd(), p)
