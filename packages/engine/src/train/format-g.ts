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
  const p = Math.max(1, Math.floor(precision))
  // toExponential rounds to p significant digits exactly like printf; its exponent decides the style.
  const exp = value.toExponential(p - 1)
  const eAt = exp.indexOf("e")
  const exponent = Number(exp.slice(eAt + 1))
  if (exponent < -4 || exponent >= p) {
    const mantissa = stripZeros(exp.slice(0, eAt))
    const sign = exponent < 0 ? "-" : "+"
    const digits = String(Math.abs(exponent)).padStart(2, "0")
    return `${mantissa}e${sign}${digits}`
  }
  return stripZeros(value.toFixed(Math.max(0, p - 1 - exponent)))
}

const stripZeros = (s: string): string => {
  if (!s.includes(".")) return s
  return s.replace(/0+$/, "").replace(/\.$/, "")
}
