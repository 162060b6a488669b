/**
 * Batches of a dataset as an Effect Stream: records in epoch order (optionally shuffled per epoch with
 * a seed), carried across epoch boundaries like Caffe's wrapping reader, read ahead by `prefetch`
 * batches on a separate fiber. Each batch carries the cursor after its last record, so a worker that
 * saves it resumes with exactly the next batch.
 */
import { Effect, Option, Stream } from "effect"
import type { RecordSource } from "./dataset.js"
import type { CursorState, ReaderOptions } from "./cursor.js"
import { recordReader } from "./cursor.js"

export interface Batch<A> {
  readonly records: ReadonlyArray<A>
  readonly keys: ReadonlyArray<string>
  /** Resume point after this batch. */
  readonly cursor: CursorState
}

export interface BatchOptions extends ReaderOptions {
  /** Stop after this many epochs (the last batch may be short); default: never stop. */
  readonly epochs?: number
  /** Batches read ahead of the consumer (Caffe's DataParameter.prefetch default is 4). */
  readonly prefetch?: number
}

export const batchStream = <A>(source: RecordSource<A>, size: number, options: BatchOptions = {}): Stream.Stream<Batch<A>> => {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`${source.name}: batch size ${size} (expected an integer ≥ 1)`)
  const epochs = options.epochs ?? Infinity
  const stream = Stream.suspend(() => {
    const reader = recordReader(source, options)
    return Stream.repeatEffectOption(
      Effect.suspend(() => {
        const records: Array<A> = []
        const keys: Array<string> = []
        while (records.length < size && reader.cursor().epoch < epochs) {
          const c = reader.cursor()
          if (c.position === source.size && c.epoch + 1 >= epochs) break
          keys.push(reader.peekKey())
          records.push(reader.next())
        }
        if (records.length === 0) return Effect.fail(Option.none())
        return Effect.succeed({ records, keys, cursor: reader.cursor() })
      })
    )
  })
  const prefetch = options.prefetch ?? 4
  return prefetch > 0 ? Stream.buffer(stream, { capacity: prefetch }) : stream
}
