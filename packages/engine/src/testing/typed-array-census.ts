/**
 * A test's catch-all for allocations that bypass the engine's allocation stats (layer scratch, the
 * data feed, solver temporaries): while active, every typed array, ArrayBuffer or Buffer created with
 * storage of its own (views over an existing buffer are not counted) is recorded with a few stack
 * frames. It works by swapping the global constructors (and Buffer's allocators, and
 * TypedArray.prototype.slice) for counting wrappers, so use it in tests only and always `stop` it.
 */

export interface CensusEvent {
  readonly type: string
  readonly bytes: number
  readonly site: string
}

const typedArrayNames = [
  "Float32Array",
  "Float64Array",
  "Int8Array",
  "Int16Array",
  "Int32Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Uint16Array",
  "Uint32Array",
  "BigInt64Array",
  "BigUint64Array"
] as const

const siteOf = (): string =>
  (new Error().stack ?? "")
    .split("\n")
    .slice(3, 9)
    .map((f) => f.trim())
    .join(" < ")

const isBufferLike = (x: unknown): boolean =>
  x instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && x instanceof SharedArrayBuffer)

export interface TypedArrayCensus {
  /** Restores the originals; returns what was created while active. */
  stop(): ReadonlyArray<CensusEvent>
}

/** Starts recording (see the module comment). */
export const startTypedArrayCensus = (): TypedArrayCensus => {
  const events: CensusEvent[] = []
  const g = globalThis as unknown as Record<string, unknown>
  const restore: Array<() => void> = []

  for (const name of typedArrayNames) {
    const original = g[name] as (new (...args: unknown[]) => ArrayBufferView) | undefined
    if (original === undefined) continue
    const wrapper: unknown = new Proxy(original, {
      construct(target, args, newTarget) {
        const made = Reflect.construct(target, args, newTarget === wrapper ? target : newTarget) as ArrayBufferView
        if (!isBufferLike(args[0])) events.push({ type: name, bytes: made.byteLength, site: siteOf() })
        return made
      }
    })
    g[name] = wrapper
    restore.push(() => (g[name] = original))
  }

  const OriginalArrayBuffer = ArrayBuffer
  const arrayBufferWrapper: unknown = new Proxy(OriginalArrayBuffer, {
    construct(target, args, newTarget) {
      const made = Reflect.construct(target, args, newTarget === arrayBufferWrapper ? target : newTarget) as ArrayBuffer
      events.push({ type: "ArrayBuffer", bytes: made.byteLength, site: siteOf() })
      return made
    }
  })
  g["ArrayBuffer"] = arrayBufferWrapper
  restore.push(() => (g["ArrayBuffer"] = OriginalArrayBuffer))

  const buffer = Buffer as unknown as Record<string, (...args: unknown[]) => Buffer>
  for (const name of ["alloc", "allocUnsafe", "allocUnsafeSlow"]) {
    const original = buffer[name]!
    buffer[name] = function (this: unknown, ...args: unknown[]): Buffer {
      const made = original.apply(this, args)
      events.push({ type: `Buffer.${name}`, bytes: made.byteLength, site: siteOf() })
      return made
    }
    restore.push(() => (buffer[name] = original))
  }

  const typedArrayPrototype = Object.getPrototypeOf(Float32Array.prototype) as { slice: (...args: unknown[]) => ArrayBufferView }
  const originalSlice = typedArrayPrototype.slice
  typedArrayPrototype.slice = function (this: ArrayBufferView, ...args: unknown[]): ArrayBufferView {
    const made = originalSlice.apply(this, args)
    events.push({ type: `${this.constructor.name}.slice`, bytes: made.byteLength, site: siteOf() })
    return made
  }
  restore.push(() => (typedArrayPrototype.slice = originalSlice))

  return {
    stop() {
      for (const r of restore.reverse()) r()
      return events
    }
  }
}
