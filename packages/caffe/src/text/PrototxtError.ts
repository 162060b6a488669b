import { Data } from "effect"

/**
 * Every failure to read protobuf text format (prototxt): where it happened (file, 1-based line and
 * column of the offending token), which field (a path such as `layer[3].convolution_param.kernel_size`,
 * empty at the top level) and why, in one line. `message` is the formatted one-liner.
 */
export class PrototxtError extends Data.TaggedError("PrototxtError")<{
  readonly file: string
  readonly line: number
  readonly column: number
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    const where = this.line > 0 ? `${this.file}:${this.line}:${this.column}` : this.file
    return `${where}: ${this.path === "" ? "" : `${this.path}: `}${this.reason}`
  }
}
