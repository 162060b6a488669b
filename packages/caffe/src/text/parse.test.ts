import { describe, expect, it } from "vitest"
import { parsePrototxtWith } from "./parse.js"
import { PrototxtError } from "./PrototxtError.js"
import { testSchema } from "./testSchema.js"

const parse = (text: string) => parsePrototxtWith(testSchema, "T", text, { file: "t.prototxt" })

/** The PrototxtError thrown by parsing `text` (fails the test if it parses or throws anything else). */
const errorOf = (text: string): PrototxtError => {
  try {
    parse(text)
  } catch (e) {
    expect(e).toBeInstanceOf(PrototxtError)
    return e as PrototxtError
  }
  throw new Error(`expected a PrototxtError for: ${text}`)
}

describe("prototxt parser: values", () => {
  it("reads every numeric form into float/double fields without rounding", () => {
    const cases: Array<[string, number]> = [
      ["5e-05", 5e-5], [".999", 0.999], ["-1", -1], ["1.", 1], ["1e-8", 1e-8], ["0x1F", 31], ["2.5f", 2.5],
      ["3F", 3], ["1E+3", 1000], ["-.5", -0.5], ["0.1", 0.1], ["017", 15]
    ]
    for (const [text, value] of cases) expect(parse(`d: ${text}`)["d"], text).toBe(value)
    expect(parse("f: 0.1")["f"]).toBe(0.1) // not Math.fround(0.1): the engine rounds
    expect(parse("f: inf")["f"]).toBe(Infinity)
    expect(parse("f: -inf")["f"]).toBe(-Infinity)
    expect(parse("f: -Infinity")["f"]).toBe(-Infinity)
    expect(parse("f: nan")["f"]).toBeNaN()
    expect(Object.is(parse("f: -0")["f"], -0)).toBe(true)
  })

  it("checks integer fields: integers only, within range, hex and octal accepted", () => {
    expect(parse("i32: -2147483648 u32: 4294967295 i64: -9007199254740991 u64: 0x10")).toEqual({
      i32: -2147483648, u32: 4294967295, i64: -9007199254740991, u64: 16
    })
    expect(parse("i32: 010")["i32"]).toBe(8)
    expect(errorOf("i32: 2147483648").message).toBe(
      't.prototxt:1:6: i32: value 2147483648 out of range for int32 field "i32" [-2147483648, 2147483647]'
    )
    expect(errorOf("u32: -1").reason).toContain("out of range for uint32")
    expect(errorOf("i32: 1.5").reason).toBe('expected an integer for int32 field "i32", got "1.5"')
    expect(errorOf("i32: 1e3").column).toBe(6)
    expect(errorOf("i32: 09").reason).toContain("octal")
  })

  it("reads bools in every spelling", () => {
    for (const [t, v] of [["true", true], ["True", true], ["t", true], ["1", true], ["false", false], ["False", false], ["f", false], ["0", false]] as const) {
      expect(parse(`b: ${t}`)["b"]).toBe(v)
    }
    expect(errorOf("b: 2").reason).toContain("bool")
    expect(errorOf("b: yes").reason).toContain("bool")
  })

  it("reads strings with both quotes, C escapes and adjacent concatenation", () => {
    expect(parse(`s: 'a"b'`)["s"]).toBe('a"b')
    expect(parse(String.raw`s: "\n\t\\\'\"\101\x41\x4a\0"`)["s"]).toBe("\n\t\\'\"AAJ\0")
    expect(parse(`s: "ab" 'cd'\n  "ef"`)["s"]).toBe("abcdef")
    expect(parse(String.raw`s: "\303\251t\u00e9"`)["s"]).toBe("été") // octal UTF-8 bytes, \u
    expect(parse(`s: "日本"`)["s"]).toBe("日本")
    expect(parse(String.raw`by: "\377\000a"`)["by"]).toEqual(new Uint8Array([255, 0, 97]))
  })

  it("reads enums by name or number", () => {
    expect(parse("e: B re: A re: 1 re: -1")).toEqual({ e: "B", re: ["A", "B", "NEG"] })
    const e = errorOf("\n  e: C")
    expect([e.line, e.column, e.path]).toEqual([2, 6, "e"])
    expect(e.reason).toBe('unknown value "C" for enum E (allowed: A, B, NEG)')
    expect(errorOf("e: 7").reason).toContain("unknown number 7")
    expect(errorOf('e: "A"').reason).toContain("expected a value of enum E")
  })
})

describe("prototxt parser: structure", () => {
  it("accepts { }, : { } and < > blocks, comments and ; , separators", () => {
    const m = parse(`# comment
      sub { i32: 1 }  # trailing comment
      rsub: { s: "x"; } rsub < i32: 2, >
      rsub: [ { i32: 3 }, < i32: 4 > ]`)
    expect(m).toEqual({ sub: { i32: 1 }, rsub: [{ s: "x" }, { i32: 2 }, { i32: 3 }, { i32: 4 }] })
  })

  it("reads repeated fields by repetition and by list syntax; packed floats become typed arrays", () => {
    const m = parse("ri: 1 ri: [2, 3] ri: [] rf: 0.1 rf: [0.2] pf: [1, 0.1] pf: 2 pd: [0.1] rs: ['a', \"b\" 'c'] rb: [t, 0]")
    expect(m["ri"]).toEqual([1, 2, 3])
    expect(m["rf"]).toEqual([0.1, 0.2])
    expect(m["pf"]).toBeInstanceOf(Float32Array)
    expect(Array.from(m["pf"] as Float32Array)).toEqual([1, Math.fround(0.1), 2])
    expect(m["pd"]).toEqual(new Float64Array([0.1]))
    expect(m["rs"]).toEqual(["a", "bc"])
    expect(m["rb"]).toEqual([true, false])
    expect(parse("ri: []")).toEqual({})
  })

  it("gives an empty message for empty input and for comments only", () => {
    expect(parse("")).toEqual({})
    expect(parse("# nothing\n\n")).toEqual({})
    expect(parse("sub {}")).toEqual({ sub: {} })
  })
})

describe("prototxt parser: errors carry file, line:column and field path", () => {
  const cases: Array<[string, string, number, number, string, string]> = [
    // [name, text, line, column, path, reason fragment]
    ["unknown field", "i32: 1\nsub {\n  rsub { bogus: 1 }\n}", 3, 10, "sub.rsub[0].bogus", 'unknown field "bogus" in T'],
    ["value out of range", "rsub {}\nrsub { i32: 99999999999 }", 2, 13, "rsub[1].i32", "out of range"],
    ["wrong type", "s: 12", 1, 4, "s", "expected a quoted string"],
    ["bad enum value", "sub { e: Z }", 1, 10, "sub.e", "allowed: A, B, NEG"],
    ["unterminated block", "rsub {\n  sub {\n    i32: 1\n  }\n", 1, 6, "rsub[0]", "unterminated block"],
    ["unterminated string", "sub {\n  s: \"abc\n}", 2, 6, "sub.s", "unterminated string"],
    ["string at end of file", "s: 'abc", 1, 4, "s", "unterminated string"],
    ["unexpected token", "i32: 1 }", 1, 8, "", 'unexpected "}"'],
    ["missing colon", "i32 1", 1, 5, "i32", 'expected ":"'],
    ["mismatched closer", "sub { i32: 1 >", 1, 14, "sub", 'unexpected ">"'],
    ["non-repeated field twice", "i32: 1\n# again\n i32: 2", 3, 2, "i32", 'non-repeated field "i32" is specified multiple times (first at 1:1)'],
    ["non-repeated message twice", "sub { } sub { }", 1, 9, "sub", "specified multiple times"],
    ["list on non-repeated field", "i32: [1]", 1, 6, "i32", "list syntax"],
    ["bad list", "ri: [1 2]", 1, 8, "ri", 'expected "," or "]"'],
    ["bad character", "sub { i32: 1 @ }", 1, 14, "sub", "unexpected character '@'"],
    ["number glued to identifier", "i32: 12ab", 1, 6, "i32", "need space between number and identifier"],
    ["bad escape", 's: "a\\qb"', 1, 6, "s", "invalid escape"],
    ["message without braces", "sub: 3", 1, 6, "sub", 'expected "{"'],
    ["bad exponent", "d: 1e+", 1, 4, "d", "exponent"],
    ["end of file after colon", "d:", 1, 3, "d", "expected a number"]
  ]
  for (const [name, text, line, column, path, reason] of cases) {
    it(name, () => {
      const e = errorOf(text)
      expect({ line: e.line, column: e.column, path: e.path }).toEqual({ line, column, path })
      expect(e.reason).toContain(reason)
      expect(e.file).toBe("t.prototxt")
      expect(e._tag).toBe("PrototxtError")
      expect(e.message).toBe(`t.prototxt:${line}:${column}: ${path === "" ? "" : `${path}: `}${e.reason}`)
    })
  }

  it("limits nesting depth instead of overflowing the stack", () => {
    const deep = "sub { ".repeat(5000) + "}".repeat(5000)
    const e = errorOf(deep)
    expect(e.reason).toContain("nested deeper than 100")
    expect(e.column).toBe(1 + 6 * 100 + 4)
    expect(parse("sub { ".repeat(100) + "}".repeat(100))).toBeDefined()
  })
})
