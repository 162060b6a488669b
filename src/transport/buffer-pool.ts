/**
 * Reused multi-MB buffers for the transport. Allocating a frame-sized buffer per message (send frame,
 * received frame, the center's reply) is what drives V8 into a full garbage collection every few
 * LeNet-sized exchanges: each allocation counts as external memory, and buffers that live across a
 * couple of scavenges only go away in a mark-compact of the whole heap. Measured on loopback (two
 * processes, 1.7 MB each way, shared 2-vCPU box): the center's CPU per exchange fell from ≈ 26 ms to
 * ≈ 9 ms with these pools, and the worker's from ≈ 20 ms to ≈ 10 ms (≈ 5 ms when it releases replies).
 *
 * Ownership is explicit. A buffer leaves the pool with a lease, and returns only when the one party that
 * knows it is no longer read releases that lease:
 * - a send frame (`takeFrame`) when the socket has written it (`releaseWrittenFrame`, from the write's
 *   completion callback: the kernel has the bytes). Writing a frame again after its release is an
 *   error (`isRetiredFrame`), never a silent resend of whatever the buffer holds by then;
 * - a received frame carrying one tensor (`takeReceiveBuffer` + `leaseReceived`) when the consumer of
 *   that tensor says so (`releaseTensor`, e.g. the center once it has applied an exchange);
 * - a tensor made for a message (`takeTensor`, e.g. the center's reply) once the encoder has copied it
 *   into its frame (`releaseEncodedTensor`).
 * Leases belong to view objects (a tensor and the views the schemas derive from it, `shareLease`), not
 * to buffers: a stale view of a buffer that has since been reused cannot release it a second time. A
 * lease nobody releases just lets its buffer be garbage collected, so a missing release costs speed,
 * never correctness. Pools are per thread (module state), one per door, by capacity class, and bounded.
 */
import { Data } from "effect"

/** Buffers below this size are allocated per use: small allocations are cheap and die young. */
const POOL_MIN_BYTES = 64 * 1024

/** Capacity classes are multiples of this. */
const CLASS_BYTES = 64 * 1024
/** Free buffers kept per capacity class in each pool, and in all pools. */
const MAX_FREE_PER_CLASS = 4
const MAX_FREE_BYTES = 512 * 1024 * 1024

/**
 * One pool per door: a buffer goes back where it came from, so a consumer that never releases what it
 * receives (it need not) cannot drain the send frames' pool.
 */
type Door = "written" | "consumed" | "encoded"
const pools: Record<Door, Map<number, ArrayBuffer[]>> = { written: new Map(), consumed: new Map(), encoded: new Map() }
let freeBytes = 0
let reuses = 0

/** A pooled ArrayBuffer of at least n bytes (uninitialised: a reused one holds old contents). */
const take = (door: Door, n: number): ArrayBuffer => {
  const capacity = Math.ceil(n / CLASS_BYTES) * CLASS_BYTES
  const reused = pools[door].get(capacity)?.pop()
  if (reused) {
    freeBytes -= capacity
    reuses++
    return reused
  }
  return Buffer.allocUnsafeSlow(capacity).buffer as ArrayBuffer
}

const giveBack = (door: Door, buffer: ArrayBuffer): void => {
  const capacity = buffer.byteLength
  if (capacity < POOL_MIN_BYTES || capacity % CLASS_BYTES !== 0) return
  const list = pools[door].get(capacity) ?? []
  if (list.length >= MAX_FREE_PER_CLASS || freeBytes + capacity > MAX_FREE_BYTES) return
  list.push(buffer)
  pools[door].set(capacity, list)
  freeBytes += capacity
}

class Lease {
  released = false
  constructor(
    readonly buffer: ArrayBuffer,
    readonly door: Door
  ) {}
}
const leases = new WeakMap<object, Lease>()

const release = (view: object, door: Door): boolean => {
  const lease = leases.get(view)
  if (!lease || lease.released || lease.door !== door) return false
  lease.released = true
  giveBack(door, lease.buffer)
  return true
}

/** `to` (a view of the same memory, e.g. a Float32Array made from leased bytes) shares `from`'s lease. */
export const shareLease = (from: object, to: ArrayBufferView): void => {
  const lease = leases.get(from)
  if (lease && !lease.released && to.buffer === lease.buffer) leases.set(to, lease)
}

/** A send frame of exactly n bytes, pooled when large: a socket calls releaseWrittenFrame once written. */
export const takeFrame = (n: number): Buffer => {
  if (n < POOL_MIN_BYTES) return Buffer.allocUnsafeSlow(n)
  const buffer = take("written", n)
  const frame = Buffer.from(buffer, 0, n)
  leases.set(frame, new Lease(buffer, "written"))
  return frame
}

/** A pooled send frame was written again after its release (its buffer may hold another message by now). */
export class FrameReusedError extends Data.TaggedError("FrameReusedError")<{ readonly message: string }> {
  constructor() {
    super({ message: "a pooled send frame was written again after it had been released (its buffer may hold another message by now)" })
  }
}

/** Whether `chunk` is a pooled send frame already released: it must not be written (again). */
export const isRetiredFrame = (chunk: unknown): boolean => {
  const lease = typeof chunk === "object" && chunk !== null ? leases.get(chunk) : undefined
  return lease !== undefined && lease.door === "written" && lease.released
}

/** Called by a socket once `chunk` has been written (the kernel has the bytes): its buffer is reused. */
export const releaseWrittenFrame = (chunk: unknown): void => {
  if (typeof chunk === "object" && chunk !== null) release(chunk, "written")
}

/** Receive buffers handed out whole: a frame exactly filling one may be leased (leaseReceived). */
const receiveBuffers = new WeakSet<Uint8Array>()

/** A buffer to assemble a received frame of n bytes into (offset 0; pooled when large). */
export const takeReceiveBuffer = (n: number): Buffer => {
  const frame = n < POOL_MIN_BYTES ? Buffer.allocUnsafeSlow(n) : Buffer.from(take("consumed", n), 0, n)
  receiveBuffers.add(frame)
  return frame
}

/** Whether `chunk` is a whole buffer from takeReceiveBuffer (a socket that reads frames into them). */
export const isReceiveBuffer = (chunk: Uint8Array): boolean => receiveBuffers.has(chunk)

/**
 * A buffer to copy an outgoing chunk into and transfer to another thread (message-port-socket.ts), taken
 * from this thread's receive pool. There it becomes a receive buffer (adoptTransferredBuffer) and goes
 * back to that thread's pool once its tensor is consumed, so a request and its reply ping-pong the same
 * buffers between two threads and neither allocates.
 */
export const takeTransferBuffer = (n: number): Uint8Array => (n < POOL_MIN_BYTES ? new Uint8Array(n) : new Uint8Array(take("consumed", n), 0, n))

/**
 * `view`, the whole of a buffer transferred here from takeTransferBuffer in another thread, is a receive
 * buffer of this thread (a frame exactly filling it may be leased, leaseReceived). Views of other
 * buffers are left as they are.
 */
export const adoptTransferredBuffer = (view: Uint8Array): void => {
  const capacity = view.buffer.byteLength
  if (view.byteOffset === 0 && capacity >= POOL_MIN_BYTES && capacity % CLASS_BYTES === 0) receiveBuffers.add(view)
}

/**
 * Leases a frame assembled by takeReceiveBuffer to the consumer of the one tensor it carries (`tensor`,
 * a view into it): releaseTensor on it, or on a view sharing its lease, puts the buffer back.
 */
export const leaseReceived = (frame: Uint8Array, tensor: Uint8Array): void => {
  const buffer = frame.buffer as ArrayBuffer
  if (frame.byteOffset !== 0 || buffer.byteLength < POOL_MIN_BYTES || tensor.buffer !== buffer) return
  leases.set(tensor, new Lease(buffer, "consumed"))
}

/**
 * The consumer of a received tensor is done with it: nothing may read it, or any view of its memory,
 * afterwards. Tensors that did not come from the pool, or were released already, are left alone.
 */
export const releaseTensor = (t: ArrayBufferView): void => {
  release(t, "consumed")
}

/**
 * A Float32Array of n values to send in a message (pooled when large): the encoder releases it after
 * copying it into its frame, so its producer must neither read nor keep it once it is in a message.
 */
export const takeTensor = (n: number): Float32Array => {
  if (4 * n < POOL_MIN_BYTES) return new Float32Array(n)
  const buffer = take("encoded", 4 * n)
  const t = new Float32Array(buffer, 0, n)
  leases.set(t, new Lease(buffer, "encoded"))
  return t
}

/** Called by the encoder after copying `t` into a frame: a tensor from takeTensor goes back to the pool. */
export const releaseEncodedTensor = (t: ArrayBufferView): void => {
  release(t, "encoded")
}

/** Pool statistics (tests and benchmarks). */
export const poolStats = () => ({ freeBytes, reuses })
