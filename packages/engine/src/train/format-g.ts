/**
 * Numbers as C++ iostreams print them by default (`std::cout << x`, precision 6 = printf "%g"):
 * 6 significant digits, trailing zeros dropped, exponent form when the exponent is < -4 or >= the
 * precision, with a sign and at least two exponent digits ("1e-05", "1.5e+06"). Caffe's log lines print
 * float values this way, and tools/extra/parse_log.py reads them back, so deepspark's logs use it too.
 */
export const formatG = (value: number, precision = 6): string => {
  if (Number.isNaN(value)) return "nan"
  if (value === Infinity) return "inf"
  if (value === -Infinity) return "-inf"
  if (value === 0) return Object.is(value, -0) ? "-0" : "0"
  const p = Math.max(1, Math.min(100, Math.floor(precision)))
  // toExponential rounds the exact binary value to p significant digits, ties away from zero; printf
  // (glibc) rounds ties to even, so an exact tie with an even last kept digit is truncated instead.
  const exp = roundHalfEven(value, p)
  const eAt = exp.indexOf("e")
  const exponent = Number(exp.slice(eAt + 1))
  if (exponent < -4 || exponent >= p) {
    const mantissa = stripZeros(exp.slice(0, eAt))
    const sign = exponent < 0 ? "-" : "+"
    const digits = String(Math.abs(exponent)).padStart(2, "0")
    return `${mantissa}e${sign}${digits}`
  }
  return stripZeros(fixedFromDigits(exp.slice(0, eAt), exponent))
}

/** Fixed notation from a rounded mantissa ("-d.ddddd") and its decimal exponent (-4 ≤ exponent < p). */
const fixedFromDigits = (mantissa: string, exponent: number): string => {
  const negative = mantissa.startsWith("-")
  const digits = mantissa.replace("-", "").replace(".", "")
  let out: string
  if (exponent < 0) out = `0.${"0".repeat(-exponent - 1)}${digits}`
  else if (exponent + 1 >= digits.length) out = digits + "0".repeat(exponent + 1 - digits.length)
  else out = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`
  return negative ? `-${out}` : out
}

/** `value.toExponential(p - 1)`, except that exact decimal ties round to the even digit. */
const roundHalfEven = (value: number, p: number): string => {
  const rounded = value.toExponential(p - 1)
  if (p > 99) return rounded
  // The exact expansion (doubles need at most ~17 significant digits before their tail of zeros ends
  // within 100 digits whenever the value is a short decimal, which a tie must be).
  const exact = Math.abs(value).toExponential(100)
  const eAt = exact.indexOf("e")
  const digits = exact.slice(0, eAt).replace(".", "")
  if (digits[p] !== "5" || !/^0*$/.test(digits.slice(p + 1))) return rounded
  if (Number(digits[p - 1]) % 2 === 1) return rounded
  const kept = digits.slice(0, p)
  const mantissa = kept.length > 1 ? `${kept[0]}.${kept.slice(1)}` : kept
  return `${value < 0 ? "-" : ""}${mantissa}${exact.slice(eAt)}`
}

const stripZeros = (s: string): string => {
  if (!s.includes(".")) return s
  return s.replace(/0+$/, "").replace(/\.$/, "")
}
