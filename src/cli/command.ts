/**
 * What the `deepspark` dispatcher knows about a subcommand. A command parses its own arguments (they
 * arrive with Caffe-style single-dash flags already rewritten to `--flag`, see ./argv.ts), writes through
 * `io` (each call is one line; a trailing newline is added when missing) and resolves to the exit code.
 */
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

/** Bad command-line usage: the dispatcher prints the message and exits with code 2. */
export class CliUsageError extends Error {}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  stderr: (text) => void process.stderr.write(text.endsWith("\n") ? text : `${text}\n`)
}
