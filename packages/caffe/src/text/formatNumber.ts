/**
 * Number formatting for the text format: the shortest digits that parse back to the same value, laid
 * out as Caffe users write them. JavaScript's `String(x)` already picks the shortest round-trip digits
 * for doubles; a float32 value (from a Float32Array, or on request) gets the shortest decimal that
 * rounds back to the same float32, as protobuf's SimpleFtoa does, so a blob value 0.1f prints as "0.1".
 * The layout follows C's %g (what protobuf's printer and Caffe's logs use): exponent notation with at
 * least two exponent digits ("5e-05", "1e-08") when the decimal exponent is below -4, positional
 * otherwise — up to 1e21, where JavaScript (and this) switch to "1e+21".
 */

/** The double closest to the shortest decimal that rounds to the same float32 (0.999 for Math.fround(0.999)). */
export const shortestFloat32 = (x: number): number => {
  const f = Math.fround(x)
  if (!Number.isFinite(f) || f === 0) return f
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(f.toPrecision(p))
    if (Math.fround(candidate) === f) return candidate
  }
  return f
}

/** Finite non-zero x in its shortest round-trip digits, %g-style exponent below 1e-4 and from 1e21. */
const layout = (x: number): string => {
  // toExponential() without an argument gives the shortest round-trip digits, like String().
  const exponential = x.toExponential()
  const at = exponential.indexOf("e")
  const exponent = Number(exponential.slice(at + 1))
  if (exponent >= -4 && exponent < 21) return String(x)
  const digits = exponential.slice(0, at)
  const magnitude = String(Math.abs(exponent)).padStart(2, "0")
  return `${digits}e${exponent < 0 ? "-" : "+"}${magnitude}`
}

export const formatDouble = (x: number): string => {
  if (Number.isNaN(x)) return "nan"
  if (x === Infinity) return "inf"
  if (x === -Infinity) return "-inf"
  if (Object.is(x, -0)) return "-0"
  if (x === 0) return "0"
  return layout(x)
}

export const formatFloat32 = (x: number): string => {
  if (!Number.isFinite(x) || x === 0) return formatDouble(x)
  return formatDouble(shortestFloat32(x))
}
