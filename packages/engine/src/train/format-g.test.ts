import { describe, expect, it } from "vitest"
import { formatG } from "./format-g.js"

describe("formatG (C++ default ostream / %g with 6 significant digits)", () => {
  it("prints Caffe's log values as Caffe does", () => {
    expect(formatG(Math.fround(0.071))).toBe("0.071")
    expect(formatG(Math.fround(2.34813))).toBe("2.34813")
    expect(formatG(Math.fround(0.9785))).toBe("0.9785")
    expect(formatG(Math.fround(0.00992565))).toBe("0.00992565")
    expect(formatG(Math.fround(0.01))).toBe("0.01")
    expect(formatG(Math.fround(0.0059049))).toBe("0.0059049")
    expect(formatG(32.2581)).toBe("32.2581")
    expect(formatG(38.46153846)).toBe("38.4615")
    expect(formatG(1)).toBe("1")
    expect(formatG(25)).toBe("25")
  })
  it("switches to exponent form like printf %g", () => {
    expect(formatG(1e-5)).toBe("1e-05")
    expect(formatG(0.0001)).toBe("0.0001")
    expect(formatG(0.00012345678)).toBe("0.000123457")
    expect(formatG(123456)).toBe("123456")
    expect(formatG(1234567)).toBe("1.23457e+06")
    expect(formatG(999999.5)).toBe("1e+06")
    expect(formatG(-2.5e-7)).toBe("-2.5e-07")
    expect(formatG(1e100)).toBe("1e+100")
    expect(formatG(Math.fround(1e-8))).toBe("1e-08")
  })
  it("rounds to 6 significant digits and drops trailing zeros", () => {
    expect(formatG(0.8419324)).toBe("0.841932")
    expect(formatG(2.302585093)).toBe("2.30259")
    expect(formatG(9.9999996)).toBe("10")
    expect(formatG(-1.5)).toBe("-1.5")
    expect(formatG(100)).toBe("100")
  })
  it("prints zeros, infinities and NaN as glibc does", () => {
    expect(formatG(0)).toBe("0")
    expect(formatG(-0)).toBe("-0")
    expect(formatG(Infinity)).toBe("inf")
    expect(formatG(-Infinity)).toBe("-inf")
    expect(formatG(NaN)).toBe("nan")
  })
  it("rounds exact decimal ties to even like glibc's printf", () => {
    expect(formatG(1.015625)).toBe("1.01562") // 65/64: a tie at 6 digits, 2 is even
    expect(formatG(1.046875)).toBe("1.04688") // 67/64: a tie, 7 is odd → up
    expect(formatG(1234565)).toBe("1.23456e+06")
    expect(formatG(1234575)).toBe("1.23458e+06")
    expect(formatG(-1.015625)).toBe("-1.01562")
    expect(formatG(2.5, 1)).toBe("2")
    expect(formatG(0.015625)).toBe("0.015625")
    expect(formatG(1.0156251)).toBe("1.01563") // just above the tie
  })
  it("honours another precision", () => {
    expect(formatG(Math.PI, 3)).toBe("3.14")
    expect(formatG(0.5, 1)).toBe("0.5")
  })
})
