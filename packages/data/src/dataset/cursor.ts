/**
 * Epoch iteration with a resumable cursor. The visiting order of epoch e is the identity, or (with
 * shuffle) a Fisher–Yates permutation drawn from a generator seeded by (seed, e) — so a saved
 * {epoch, position, seed} is enough to continue with exactly the records that would have come next.
 */
import { SeededRng, shuffleInPlace } from "../rng.js"
import type { RecordSource } from "./dataset.js"

export interface CursorState {
  readonly epoch: number
  /** Records of this epoch already delivered. */
  readonly position: number
  readonly seed: number
  readonly shuffle: boolean
}

export interface ReaderOptions {
  readonly shuffle?: boolean
  readonly seed?: number
  /** Resume from a saved cursor (its seed and shuffle win over the options above). */
  readonly cursor?: CursorState
}

/** The per-epoch seed: seed and epoch mixed so neighbouring epochs get unrelated permutations. */
const epochSeed = (seed: number, epoch: number): number => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(epoch + 1, 0xc2b2ae35)) >>> 0

export const epochOrder = (size: number, seed: number, epoch: number, shuffle: boolean): Uint32Array => {
  const order = new Uint32Array(size)
  for (let i = 0; i < size; i++) order[i] = i
  if (shuffle) shuffleInPlace(order, new SeededRng(epochSeed(seed, epoch)))
  return order
}

export interface RecordReader<A> {
  /** The next record (moving to the next epoch after the last one). */
  next(): A
  /** The key of the record `next()` will return. */
  peekKey(): string
  /** Where the reader stands: save it, and pass it as `cursor` to resume. */
  cursor(): CursorState
}

export const recordReader = <A>(source: RecordSource<A>, options: ReaderOptions = {}): RecordReader<A> => {
  if (source.size === 0) throw new RangeError(`${source.name}: no records to read`)
  const start = options.cursor
  const seed = start?.seed ?? options.seed ?? 0
  const shuffle = start?.shuffle ?? options.shuffle ?? false
  let epoch = start?.epoch ?? 0
  let position = start?.position ?? 0
  if (position < 0 || position > source.size) throw new RangeError(`${source.name}: cursor position ${position} outside [0, ${source.size}]`)
  let order = epochOrder(source.size, seed, epoch, shuffle)
  const roll = () => {
    if (position === source.size) {
      epoch++
      position = 0
      order = epochOrder(source.size, seed, epoch, shuffle)
    }
  }
  return {
    next() {
      roll()
      return source.at(order[position++]!)
    },
    peekKey() {
      roll()
      return source.keyAt(order[position]!)
    },
    cursor: () => ({ epoch, position, seed, shuffle })
  }
}
