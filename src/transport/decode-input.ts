import { Data, Either, ParseResult, Schema } from "effect"

/**
 * What comes in from outside this process or thread — a worker thread's workerData, a child process's
 * argv JSON, a state file — is decoded with its Schema, never cast. A value that does not fit fails
 * with one error naming where it came from (`source`: a file, an argument) and the field at fault.
 */
export class InputDecodeError extends Data.TaggedError("InputDecodeError")<{
  /** Where the value came from: a file path, "the trainer process's argument", … */
  readonly source: string
  /** The field at fault, as a dotted path ("" for the value itself). */
  readonly field: string
  readonly message: string
}> {}

/**
 * The first problem of a failed decode as one line: `field "a.b" must be …` where the schema's
 * annotation words it so (and Effect's "is missing"), else `field "a.b": <Effect's message>`.
 */
const describeParseError = (error: ParseResult.ParseError): { readonly field: string; readonly detail: string } => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  const field = (issue?.path ?? []).map(String).join(".")
  const message = issue?.message ?? String(error)
  return { field, detail: field === "" ? message : /^(must|is) /.test(message) ? `field "${field}" ${message}` : `field "${field}": ${message}` }
}

/** Decodes `input` from `source` with `schema`; Left is one InputDecodeError naming source and field. */
export const decodeInput =
  <A, I>(schema: Schema.Schema<A, I>, source: string) =>
  (input: unknown): Either.Either<A, InputDecodeError> =>
    Either.mapLeft(Schema.decodeUnknownEither(schema, { errors: "first", onExcessProperty: "ignore" })(input), (error) => {
      const { field, detail } = describeParseError(error)
      return new InputDecodeError({ source, field, message: `${source}: ${detail}` })
    })

/** decodeInput for code that runs before any Effect does (a thread's or process's first lines): throws. */
export const decodeInputSync =
  <A, I>(schema: Schema.Schema<A, I>, source: string) =>
  (input: unknown): A =>
    Either.getOrThrowWith(decodeInput(schema, source)(input), (e) => e)
