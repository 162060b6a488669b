/**
 * The median of a list of numbers, where a seed that never reached a target counts as +∞ (it took
 * longer than the cap): the median stays finite while more than half the seeds reached it. An even
 * count takes the mean of the two middle values (∞ when one of them is ∞). Undefined for no values.
 */
export const median = (xs: ReadonlyArray<number>): number | undefined => {
  if (xs.length === 0) return undefined
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  if (s.length % 2 === 1) return s[mid]!
  const lo = s[mid - 1]!
  const hi = s[mid]!
  return hi === Infinity ? Infinity : (lo + hi) / 2
}
