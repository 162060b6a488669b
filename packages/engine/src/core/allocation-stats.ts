/**
 * A debug record of the engine's storage allocations and hidden copies, for tests that assert a
 * training iteration's steady state allocates nothing (blobs, scratch, wasm memory) and passes every
 * blob to the kernels in place. Off unless a test turns it on: each site tests one boolean, and the
 * sites are allocations and staging copies, never the per-element loops.
 *
 * Kinds:
 * - `heap-array`: a Float32Array / Int32Array for blob or layer storage outside any backend memory;
 * - `wasm-block`: a block of the cpu backend's wasm heap (blob storage, layer buffers, kernel scratch);
 * - `wasm-grow`: the wasm memory grew;
 * - `staged-copy`: a kernel argument that did not live in the wasm heap was copied in or out of scratch.
 */
export type AllocationKind = "heap-array" | "wasm-block" | "wasm-grow" | "staged-copy"

export interface AllocationEvent {
  readonly kind: AllocationKind
  readonly bytes: number
  /** A few stack frames of the caller, to name the culprit in a failing test. */
  readonly site: string
}

class AllocationStats {
  /** Sites call `record` only when this is true. */
  enabled = false
  private readonly recorded: AllocationEvent[] = []

  /** Forgets earlier events and starts recording. */
  start(): void {
    this.recorded.length = 0
    this.enabled = true
  }

  /** Stops recording; returns what was recorded since `start`. */
  stop(): ReadonlyArray<AllocationEvent> {
    this.enabled = false
    return [...this.recorded]
  }

  record(kind: AllocationKind, bytes: number): void {
    if (!this.enabled) return
    const frames = (new Error().stack ?? "").split("\n").slice(2, 8)
    this.recorded.push({ kind, bytes, site: frames.map((f) => f.trim()).join(" < ") })
  }
}

export const allocationStats = new AllocationStats()
