/**
 * Effect wrappers of the binary codec. The sync `decode` / `encode` (./decode.ts, ./encode.ts) throw
 * only ProtoDecodeError / ProtoEncodeError on bad input; these turn those into typed failures, and any
 * other exception (a bug) into a defect.
 */
import { Effect } from "effect"
import type { CaffeMessageName, CaffeMessages } from "../schema/types.js"
import { decode } from "./decode.js"
import { encode } from "./encode.js"
import { ProtoDecodeError, ProtoEncodeError } from "./errors.js"

export const decodeEffect = <N extends CaffeMessageName>(
  messageName: N,
  bytes: Uint8Array
): Effect.Effect<CaffeMessages[N], ProtoDecodeError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(decode(messageName, bytes))
    } catch (e) {
      return e instanceof ProtoDecodeError ? Effect.fail(e) : Effect.die(e)
    }
  })

export const encodeEffect = <N extends CaffeMessageName>(
  messageName: N,
  msg: CaffeMessages[N]
): Effect.Effect<Uint8Array, ProtoEncodeError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(encode(messageName, msg))
    } catch (e) {
      return e instanceof ProtoEncodeError ? Effect.fail(e) : Effect.die(e)
    }
  })
