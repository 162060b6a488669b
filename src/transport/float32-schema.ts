import { ParseResult, Schema } from "effect"
import { shareLease } from "./buffer-pool.js"

/**
 * Float32Array on the wire. Effect 3.22 has no schema for it, so this one declares the in-memory type
 * and carries it as bytes: msgpack sends a `bin`, which arrives as a Uint8Array view of the frame. The
 * decoder views those bytes zero-copy when they are 4-byte aligned and copies them otherwise. Decoding
 * never throws (a throw inside a response decoder would kill the RPC client's read loop): a byte length
 * that is not a multiple of 4 is a parse failure. A zero-copy view shares the bytes' pool lease
 * (buffer-pool.ts), both ways, so releasing the Float32Array releases the frame it views.
 */
export const Float32ArrayFromSelf = Schema.declare((u: unknown): u is Float32Array => u instanceof Float32Array, {
  identifier: "Float32Array",
  description: "a Float32Array"
})

export const Float32ArrayFromBytes = Schema.transformOrFail(Schema.Uint8ArrayFromSelf, Float32ArrayFromSelf, {
  strict: true,
  decode: (bytes, _, ast) => {
    if (bytes.byteLength % 4 !== 0)
      return ParseResult.fail(new ParseResult.Type(ast, bytes, `tensor byte length ${bytes.byteLength} is not a multiple of 4`))
    if (bytes.byteOffset % 4 === 0) {
      const view = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
      shareLease(bytes, view)
      return ParseResult.succeed(view)
    }
    const copy = new Uint8Array(bytes) // copies: Buffer#slice would not
    return ParseResult.succeed(new Float32Array(copy.buffer, 0, copy.byteLength / 4))
  },
  encode: (f) => {
    const bytes = new Uint8Array(f.buffer, f.byteOffset, f.byteLength)
    shareLease(f, bytes)
    return ParseResult.succeed(bytes)
  }
})

/** A parameter tensor as it crosses a process: values plus the shape they claim (checked by receivers). */
export const Tensor = Schema.Struct({
  shape: Schema.Array(Schema.Int.pipe(Schema.nonNegative())),
  data: Float32ArrayFromBytes
}).pipe(
  Schema.filter((t) => {
    const count = t.shape.reduce((a, b) => a * b, 1)
    return count === t.data.length || `tensor has ${t.data.length} values but its shape [${t.shape.join(", ")}] holds ${count}`
  })
)
export type Tensor = typeof Tensor.Type
