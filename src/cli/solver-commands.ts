/** The Caffe tool commands owned by the solver/training side, for the dispatcher's command table. */
import type { CliCommand } from "./command.js"
import { testCommand } from "./test.js"
import { timeCommand } from "./time.js"
import { trainCommand } from "./train.js"

export const solverCommands: ReadonlyArray<CliCommand> = [trainCommand, testCommand, timeCommand]
