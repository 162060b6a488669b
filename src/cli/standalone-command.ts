/**
 * A command that reports its own errors, so that it also runs without the dispatcher (the data commands
 * in tests, the network commands from src/cli/remote-main.ts): it parses its options (./argv.ts), answers
 * --help, and turns errors into output and exit codes — a usage error prints `deepspark NAME: message`
 * and the usage line (exit 2), any other error `error: message` (exit 1).
 */
import { describeOptions, helpOption, parseOptions, type OptionSpec, type ParsedOptions } from "./argv.js"
import { CliUsageError, type CliIo, type CommandRun } from "./command.js"

export interface CommandSyntax {
  /** The subcommand, as typed after `deepspark`. */
  readonly name: string
  /** One line: `deepspark NAME …`. */
  readonly usage: string
  /** Lines --help prints between the usage and the options. */
  readonly about?: ReadonlyArray<string>
  /** The options (--help is added). */
  readonly options: ReadonlyArray<OptionSpec>
}

export const helpLines = (syntax: CommandSyntax): string[] => [
  `usage: ${syntax.usage}`,
  ...(syntax.about !== undefined ? ["", ...syntax.about] : []),
  "",
  ...describeOptions([...syntax.options, helpOption])
]

export const standaloneCommand =
  (syntax: CommandSyntax, body: (parsed: ParsedOptions, io: CliIo) => Promise<number>): CommandRun =>
  async (argv, io) => {
    try {
      const parsed = parseOptions(argv, [...syntax.options, helpOption])
      if (parsed.flag("help")) {
        io.stdout(helpLines(syntax).join("\n"))
        return 0
      }
      return await body(parsed, io)
    } catch (e) {
      if (e instanceof CliUsageError) {
        io.stderr(`deepspark ${syntax.name}: ${e.message}\nusage: ${syntax.usage}`)
        return 2
      }
      io.stderr(`error: ${e instanceof Error ? e.message : String(e)}`)
      return 1
    }
  }
