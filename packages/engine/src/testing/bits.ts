/**
 * Index of the first element whose bits differ (−1: identical; 0 for arrays of different lengths):
 * the check of the kernels that must reproduce another's results bit for bit. Compares the IEEE bit
 * patterns, so NaNs compare by payload and −0 differs from +0; fast on multi-MB arrays.
 */
export const firstBitDifference = (a: Float32Array, b: Float32Array): number => {
  if (a.length !== b.length) return 0
  const x = new Int32Array(a.buffer, a.byteOffset, a.length)
  const y = new Int32Array(b.buffer, b.byteOffset, b.length)
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i
  return -1
}
