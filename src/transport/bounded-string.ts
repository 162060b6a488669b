import { Schema } from "effect"

/**
 * Length limits for every string that crosses a process, and for what the receiving side logs of them.
 * A message is already bounded by its frame limit, but a string field is echoed into errors and log
 * lines: a 20 MB worker id sent with a wrong token wrote 100 MB of log in 2.5 s. The refusal names the
 * length, never the value.
 */
export const MAX_ID_LENGTH = 256
export const MAX_TOKEN_LENGTH = 4096
export const MAX_MESSAGE_LENGTH = 4096
export const MAX_PATH_LENGTH = 4096
/** A partition cursor (JSON of every Data layer's position). */
export const MAX_CURSOR_LENGTH = 64 * 1024

/** A string of at most `max` UTF-16 units; a longer one is refused by its length alone. */
export const boundedString = (max: number) =>
  Schema.String.pipe(Schema.filter((s) => s.length <= max || `a string of ${s.length} characters (at most ${max})`))

/** What a log line shows of a peer's string: at most `max` characters, and the length when cut. */
export const forLog = (s: string, max = 120): string => (s.length <= max ? s : `${s.slice(0, max)}… (${s.length} characters)`)
