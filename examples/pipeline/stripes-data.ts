/**
 * The pipeline examples' data, made in code: 8×8 one-channel images of three classes (0 horizontal
 * stripes, 1 vertical stripes, 2 a diagonal) with noise, as Caffe Datums. Record i depends only on i.
 */
import type { Datum } from "@deepspark/data"

const side = 8

export const stripesImage = (i: number): Datum => {
  const label = i % 3
  // A small deterministic generator per record (xorshift), so any record can be made on demand.
  let s = (i + 1) * 2654435761
  const noise = () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return ((s >>> 0) % 64) - 32
  }
  const phase = i % 2
  const data = new Uint8Array(side * side)
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const on = label === 0 ? (y + phase) % 2 === 0 : label === 1 ? (x + phase) % 2 === 0 : Math.abs(x - y) <= 1
      data[y * side + x] = Math.max(0, Math.min(255, (on ? 200 : 40) + noise()))
    }
  return { channels: 1, height: side, width: side, data, label }
}
