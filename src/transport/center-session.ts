import type * as Rpc from "@effect/rpc/Rpc"
import { Effect } from "effect"
import { releaseTensor } from "./buffer-pool.js"
import type { Exchange, Register } from "./center-rpcs.js"
import type { CenterClient } from "./tcp.js"

/**
 * A worker's Register and Exchange calls with the transport keeping its buffers: each reply, whose x̃
 * may be a view into a pooled receive frame, is lent to `use` and the frame taken back as soon as `use`
 * returns. `use` must therefore copy what it keeps (a trainer writes x̃ into its net).
 */
export interface CenterSession {
  readonly register: <A>(
    p: Rpc.Payload<typeof Register>,
    use: (reply: Rpc.Success<typeof Register>) => A
  ) => Effect.Effect<A, Effect.Effect.Error<ReturnType<CenterClient["Register"]>>>
  readonly exchange: <A>(
    p: Rpc.Payload<typeof Exchange>,
    use: (reply: Rpc.Success<typeof Exchange>) => A
  ) => Effect.Effect<A, Effect.Effect.Error<ReturnType<CenterClient["Exchange"]>>>
}

const lend = <R extends { readonly center: Float32Array }, A>(reply: R, use: (reply: R) => A): A => {
  try {
    return use(reply)
  } finally {
    releaseTensor(reply.center)
  }
}

export const centerSession = (client: CenterClient): CenterSession => ({
  register: (p, use) => client.Register(p).pipe(Effect.map((reply) => lend(reply, use))),
  exchange: (p, use) => client.Exchange(p).pipe(Effect.map((reply) => lend(reply, use)))
})
