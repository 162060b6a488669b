/**
 * Property tests: random plain messages generated from the schema descriptor round-trip through
 * encode → decode, and damaged bytes (truncated, bit-flipped, random) only ever produce a result or a
 * ProtoDecodeError.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { FieldDescriptor } from "../schema/descriptor.js"
import { enumType, messageType } from "../schema/caffe.js"
import type { CaffeMessageName } from "../schema/types.js"
import { decode } from "./decode.js"
import { encode } from "./encode.js"
import { ProtoDecodeError } from "./errors.js"

type Plain = Record<string, unknown>

const scalarArb = (f: FieldDescriptor): fc.Arbitrary<unknown> => {
  const t = f.type
  if (t.kind === "enum") return fc.constantFrom(...enumType(t.enum).values.map(([n]) => n))
  if (t.kind === "message") throw new Error("not a scalar")
  switch (t.scalar) {
    case "int32":
      return fc.integer()
    case "uint32":
      return fc.nat({ max: 4294967295 })
    case "int64":
      return fc.oneof(fc.integer(), fc.maxSafeInteger())
    case "uint64":
      return fc.maxSafeNat()
    case "bool":
      return fc.boolean()
    case "float":
      return fc.float({ noNaN: true })
    case "double":
      return fc.double({ noNaN: true })
    case "string":
      return fc.string({ unit: "grapheme", maxLength: 12 })
    case "bytes":
      return fc.uint8Array({ maxLength: 16 })
  }
}

const fieldArb = (f: FieldDescriptor, depth: number): fc.Arbitrary<unknown> | undefined => {
  if (f.type.kind === "message") {
    if (depth <= 0) return undefined
    const sub = messageArb(f.type.message, depth - 1)
    return f.repeated ? fc.array(sub, { minLength: 1, maxLength: 2 }) : sub
  }
  if (f.repeated && f.packed && f.type.kind === "scalar" && f.type.scalar === "float") {
    return fc.float32Array({ minLength: 1, maxLength: 20, noNaN: true })
  }
  if (f.repeated && f.packed && f.type.kind === "scalar" && f.type.scalar === "double") {
    return fc.float64Array({ minLength: 1, maxLength: 10, noNaN: true })
  }
  return f.repeated ? fc.array(scalarArb(f), { minLength: 1, maxLength: 3 }) : scalarArb(f)
}

const cache = new Map<string, fc.Arbitrary<Plain>>()

/**
 * A random plain message of the named type: a random subset of its fields, nested to `depth`. Repeated
 * fields are non-empty: an empty list is not "present" (it encodes to nothing and decodes as absent).
 */
const messageArb = (name: string, depth: number): fc.Arbitrary<Plain> => {
  const key = `${name}@${depth}`
  let arb = cache.get(key)
  if (arb === undefined) {
    const model: Record<string, fc.Arbitrary<unknown>> = {}
    for (const f of messageType(name).fields) {
      const a = fieldArb(f, depth)
      if (a !== undefined) model[f.name] = a
    }
    arb = fc.record(model, { requiredKeys: [] })
    cache.set(key, arb)
  }
  return arb
}

const roundTrips = (name: CaffeMessageName, depth: number, numRuns: number) =>
  it(`${name}: encode → decode returns the same message, and re-encoding is stable`, () => {
    fc.assert(
      fc.property(messageArb(name, depth), (msg) => {
        const bytes = encode(name, msg as never)
        const back = decode(name, bytes)
        expect(back).toEqual(msg)
        expect(encode(name, back)).toEqual(bytes)
      }),
      { numRuns, endOnFailure: true }
    )
  })

/** Top-level field boundaries, found by an independent minimal wire scanner. */
const topLevelBoundaries = (bytes: Uint8Array): Set<number> => {
  const out = new Set<number>([0])
  let pos = 0
  const varint = (): number => {
    let v = 0
    let mul = 1
    for (;;) {
      const b = bytes[pos++]!
      v += (b & 0x7f) * mul
      mul *= 128
      if (b < 0x80) return v
    }
  }
  while (pos < bytes.length) {
    const tag = varint()
    const wire = tag % 8
    if (wire === 0) varint()
    else if (wire === 1) pos += 8
    else if (wire === 5) pos += 4
    else if (wire === 2) {
      const len = varint()
      pos += len
    }
    else throw new Error(`unexpected wire type ${wire}`)
    out.add(pos)
  }
  return out
}

const onlyTypedErrors = (name: CaffeMessageName, bytes: Uint8Array): "ok" | "error" => {
  try {
    decode(name, bytes)
    return "ok"
  } catch (e) {
    if (!(e instanceof ProtoDecodeError)) throw e
    return "error"
  }
}

describe("codec properties", () => {
  // run counts keep this file at a few seconds: depth-2 LayerParameters are ~1.5 KB of ~400 values
  roundTrips("LayerParameter", 2, 15)
  roundTrips("BlobProto", 1, 150)
  roundTrips("SolverParameter", 2, 15)
  roundTrips("Datum", 0, 200)
  roundTrips("V1LayerParameter", 2, 15)
  roundTrips("NetParameter", 2, 10)

  for (const name of ["LayerParameter", "BlobProto", "SolverParameter", "Datum"] as const) {
    it(`${name}: truncation inside a field raises ProtoDecodeError, at a field boundary decodes`, () => {
      fc.assert(
        fc.property(
          messageArb(name, name === "SolverParameter" ? 1 : 2).filter((m) => Object.keys(m).length > 0),
          fc.double({ min: 0, max: 1, noNaN: true }),
          (msg, where) => {
            const bytes = encode(name, msg as never)
            const cut = Math.min(bytes.length - 1, Math.floor(where * bytes.length))
            const result = onlyTypedErrors(name, bytes.subarray(0, cut))
            expect(result).toBe(topLevelBoundaries(bytes).has(cut) ? "ok" : "error")
          }
        ),
        { numRuns: 80, endOnFailure: true }
      )
    })

    it(`${name}: bit flips and random bytes give a message or a ProtoDecodeError, nothing else`, () => {
      fc.assert(
        fc.property(messageArb(name, 1), fc.nat(), fc.nat({ max: 7 }), (msg, at, bit) => {
          const bytes = Uint8Array.from(encode(name, msg as never))
          if (bytes.length === 0) return
          bytes[at % bytes.length] = bytes[at % bytes.length]! ^ (1 << bit)
          onlyTypedErrors(name, bytes)
        }),
        { numRuns: 100, endOnFailure: true }
      )
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          onlyTypedErrors(name, bytes)
        }),
        { numRuns: 300, endOnFailure: true }
      )
    })
  }

  it("every truncation of an MNIST Datum is a ProtoDecodeError except at field boundaries", () => {
    const bytes = encode("Datum", { channels: 1, height: 28, width: 28, data: new Uint8Array(784).fill(9), label: 5 })
    const boundaries = new Set([0, 2, 4, 6, 793])
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(onlyTypedErrors("Datum", bytes.subarray(0, cut))).toBe(boundaries.has(cut) ? "ok" : "error")
    }
  })
})
