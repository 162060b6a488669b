import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { PlainMessage } from "../schema/descriptor.js"
import { formatDouble, formatFloat32, shortestFloat32 } from "./formatNumber.js"
import { parsePrototxtWith } from "./parse.js"
import { printPrototxtWith } from "./print.js"
import { testSchema } from "./testSchema.js"

const print = (m: PlainMessage, float32 = false) => printPrototxtWith(testSchema, "T", m, { float32 })
const parse = (text: string) => parsePrototxtWith(testSchema, "T", text)

describe("prototxt printer", () => {
  it("prints Caffe's layout: 2-space indent, declaration order, quoted strings, enum names", () => {
    const text = print({ rsub: [{ s: "a\"b\n", e: "B" }, {}], i32: -3, b: true, sub: { rf: [0.5, 5e-5] }, pf: new Float32Array([0.1, 1]) })
    expect(text).toBe(
      [
        "i32: -3",
        "b: true",
        "pf: 0.1",
        "pf: 1",
        "sub {",
        "  rf: 0.5",
        "  rf: 5e-05",
        "}",
        "rsub {",
        '  s: "a\\"b\\n"',
        "  e: B",
        "}",
        "rsub {",
        "}",
        ""
      ].join("\n")
    )
  })

  it("prints floats in the shortest form that parses back to the same value", () => {
    expect(formatDouble(0.1)).toBe("0.1")
    expect(formatDouble(1e-8)).toBe("1e-08")
    expect(formatDouble(-0)).toBe("-0")
    expect(formatDouble(NaN)).toBe("nan")
    expect(formatDouble(-Infinity)).toBe("-inf")
    expect(formatFloat32(Math.fround(0.1))).toBe("0.1")
    expect(formatFloat32(Math.fround(0.999))).toBe("0.999")
    expect(formatFloat32(Math.fround(1 / 3))).toBe("0.33333334")
    expect(print({ f: Math.fround(0.1) })).toBe("f: 0.10000000149011612\n")
    expect(print({ f: Math.fround(0.1) }, true)).toBe("f: 0.1\n")
  })

  it("lays numbers out as C's %g does: exponent notation below 1e-4 (two exponent digits), positional up to 1e21", () => {
    expect(formatDouble(0.0001)).toBe("0.0001")
    expect(formatDouble(0.00012)).toBe("0.00012")
    expect(formatDouble(5e-5)).toBe("5e-05")
    expect(formatDouble(-2.5e-7)).toBe("-2.5e-07")
    expect(formatDouble(1.25e-300)).toBe("1.25e-300")
    expect(formatDouble(5e-324)).toBe("5e-324")
    expect(formatDouble(123456)).toBe("123456")
    expect(formatDouble(1e20)).toBe("100000000000000000000")
    expect(formatDouble(1e21)).toBe("1e+21")
    expect(formatDouble(-1.5e300)).toBe("-1.5e+300")
    expect(formatDouble(0)).toBe("0")
    expect(formatFloat32(Math.fround(5e-5))).toBe("5e-05")
    expect(formatFloat32(Math.fround(1e-8))).toBe("1e-08")
    expect(formatFloat32(Math.fround(0.0005))).toBe("0.0005")
    expect(formatFloat32(1.401298464324817e-45)).toBe("1e-45")
    expect(shortestFloat32(Math.fround(0.999))).toBe(0.999)
    expect(print({ f: 5e-5, d: 1e-8 })).toBe("f: 5e-05\nd: 1e-08\n")
    expect(print({ pf: new Float32Array([5e-5, 3.4e38]) })).toBe("pf: 5e-05\npf: 3.4e+38\n")
    expect(parse("f: 5e-05 d: 1e+21")).toEqual({ f: 5e-5, d: 1e21 })
  })

  it("escapes bytes and control characters so they parse back", () => {
    const m = { by: new Uint8Array([0, 1, 34, 39, 92, 200, 65]), s: "\u0001é\t'\\" }
    expect(print(m)).toBe('s: "\\001é\\t\\\'\\\\"\nby: "\\000\\001\\"\\\'\\\\\\310A"\n')
    expect(parse(print(m))).toEqual(m)
  })

  it("rejects messages that do not match the schema (programming errors)", () => {
    expect(() => print({ nope: 1 })).toThrow(/no field "nope"/)
    expect(() => print({ i32: 1.5 })).toThrow(/integer/)
    expect(() => print({ e: "Z" })).toThrow(/not a value of enum E/)
  })

  it("print → parse is the identity on random messages", () => {
    const double = fc.oneof(fc.double(), fc.constantFrom(0.1, 5e-5, 1e-8, -0, 1e21, 1e-4, 9.999e-5, -1e-300, 1e20))
    const leaf = {
      i32: fc.integer(),
      u32: fc.nat({ max: 2 ** 32 - 1 }),
      i64: fc.maxSafeInteger(),
      f: double,
      d: double,
      b: fc.boolean(),
      s: fc.string({ unit: "grapheme" }),
      by: fc.uint8Array({ maxLength: 8 }),
      e: fc.constantFrom("A", "B", "NEG"),
      ri: fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
      rf: fc.array(double, { minLength: 1, maxLength: 3 }),
      rs: fc.array(fc.string(), { minLength: 1, maxLength: 3 }),
      pf: fc.float32Array({ minLength: 1, maxLength: 4 }),
      pd: fc.float64Array({ minLength: 1, maxLength: 4 })
    }
    const message = fc.letrec<{ msg: PlainMessage }>((tie) => ({
      msg: fc.record(
        {
          ...leaf,
          sub: fc.oneof({ depthSize: "small", withCrossShrink: true }, fc.constant({}), tie("msg")),
          rsub: fc.array(tie("msg"), { minLength: 1, maxLength: 2, depthIdentifier: "rsub" })
        },
        { requiredKeys: [] }
      ) as fc.Arbitrary<PlainMessage>
    })).msg
    fc.assert(
      fc.property(message, (m) => {
        expect(parse(print(m))).toEqual(m)
      }),
      { numRuns: 200 }
    )
  })
})
