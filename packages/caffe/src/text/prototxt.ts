import { Effect } from "effect"
import type { PlainMessage } from "../schema/descriptor.js"
import type { CaffeMessageName, CaffeMessages } from "../schema/types.js"
import { caffeLookup } from "./caffeLookup.js"
import { type ParseOptions, parsePrototxtWith } from "./parse.js"
import { type PrintOptions, printPrototxtWith } from "./print.js"
import { PrototxtError } from "./PrototxtError.js"

/**
 * Parses prototxt text as Caffe message `messageName` ("NetParameter", "SolverParameter", …) into a
 * plain message. No upgrades run here (see readNetPrototxt / upgradeNetAsNeeded). Throws PrototxtError.
 */
export const parsePrototxt = <N extends CaffeMessageName>(
  messageName: N,
  text: string,
  options: ParseOptions = {}
): CaffeMessages[N] => parsePrototxtWith(caffeLookup, messageName, text, options) as CaffeMessages[N]

/** parsePrototxt as an Effect failing with PrototxtError. */
export const parsePrototxtEffect = <N extends CaffeMessageName>(
  messageName: N,
  text: string,
  options: ParseOptions = {}
): Effect.Effect<CaffeMessages[N], PrototxtError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(parsePrototxt(messageName, text, options))
    } catch (e) {
      if (e instanceof PrototxtError) return Effect.fail(e)
      throw e
    }
  })

/** Prints a plain message as prototxt (Caffe's layout, fields in declaration order). */
export const printPrototxt = <N extends CaffeMessageName>(
  messageName: N,
  msg: CaffeMessages[N],
  options: PrintOptions = {}
): string => printPrototxtWith(caffeLookup, messageName, msg as PlainMessage, options)
