/**
 * Number formatting for the text format: the shortest text that parses back to the same value.
 * JavaScript's `String(x)` is already the shortest round-trip form for doubles; a float32 value (from a
 * Float32Array, or on request) gets the shortest decimal that rounds back to the same float32, as
 * protobuf's SimpleFtoa does, so a blob value 0.1f prints as "0.1".
 */

export const formatDouble = (x: number): string => {
  if (Number.isNaN(x)) return "nan"
  if (x === Infinity) return "inf"
  if (x === -Infinity) return "-inf"
  if (Object.is(x, -0)) return "-0"
  return String(x)
}

export const formatFloat32 = (x: number): string => {
  if (!Number.isFinite(x) || Object.is(x, -0) || x === 0) return formatDouble(x)
  const f = Math.fround(x)
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(f.toPrecision(p))
    if (Math.fround(candidate) === f) return String(candidate)
  }
  return String(f)
}
