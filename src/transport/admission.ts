import { timingSafeEqual } from "node:crypto"
import type net from "node:net"
import { Unpackr } from "msgpackr"
import { unpackHeader } from "./framing.js"

/**
 * Who may make a server hold memory: until a connection has sent a request carrying the run's token,
 * it is unauthenticated, and an unauthenticated connection
 * - may send only small frames (a Register, a Ping: `maxFrameBytesBeforeAuth`); a larger frame is
 *   accepted only if its msgpack header, read first, is a request with the right token (a worker whose
 *   connection was re-established may well resend an Exchange first), else the connection is dropped
 *   before the frame's body is buffered;
 * - is dropped after `authTimeoutMs` without such a request;
 * - counts against a bound per remote address and in total: past it, the oldest unauthenticated
 *   connection is dropped (not the new one, so a flood of idle connections cannot lock a real worker out:
 *   its connection authenticates with its first frame).
 * Three unauthenticated connections sending unfinished 300 MB frames used to take a gigabyte.
 *
 * Frames from an unauthenticated connection are watched on their way to the RPC server (the socket's
 * 'data' events pass through here first); once it authenticates, nothing more is looked at.
 */
export interface AdmissionLimits {
  /** Largest frame (length prefix included) an unauthenticated connection may send whole (64 KiB). */
  readonly maxFrameBytesBeforeAuth?: number
  /** Unauthenticated connections kept per remote address (16) and in all (256). */
  readonly maxUnauthenticatedPerAddress?: number
  readonly maxUnauthenticated?: number
  /** An unauthenticated connection is dropped after this long (10 s). */
  readonly authTimeoutMs?: number
  /** Told of every dropped connection (remote address, why). */
  readonly onDropped?: (address: string, why: string) => void
}

export interface AdmissionOptions extends AdmissionLimits {
  /** The run's token: a request carrying it authenticates its connection ("" when the run has none). */
  readonly token: string
}

const DEFAULT_MAX_FRAME_BYTES_BEFORE_AUTH = 64 * 1024

interface Pending {
  readonly conn: net.Socket
  readonly address: string
  readonly timer: NodeJS.Timeout
}

/** Compares a peer's token with the run's in time that does not depend on where they differ. */
const sameToken = (given: unknown, expected: Buffer): boolean => {
  if (typeof given !== "string") return false
  const g = Buffer.from(given, "utf8")
  return g.length === expected.length && timingSafeEqual(g, expected)
}

export const makeAdmission = (options: AdmissionOptions) => {
  const limit = options.maxFrameBytesBeforeAuth ?? DEFAULT_MAX_FRAME_BYTES_BEFORE_AUTH
  const perAddressMax = options.maxUnauthenticatedPerAddress ?? 16
  const totalMax = options.maxUnauthenticated ?? 256
  const timeoutMs = options.authTimeoutMs ?? 10_000
  const token = Buffer.from(options.token, "utf8")
  const unpackr = new Unpackr({ useRecords: false, moreTypes: false })
  /** Insertion order is age: the first entry is the oldest. */
  const pending = new Set<Pending>()
  const byAddress = new Map<string, Set<Pending>>()

  const forget = (p: Pending): void => {
    clearTimeout(p.timer)
    pending.delete(p)
    const same = byAddress.get(p.address)
    same?.delete(p)
    if (same?.size === 0) byAddress.delete(p.address)
  }
  const drop = (p: Pending, why: string): void => {
    forget(p)
    p.conn.destroy()
    options.onDropped?.(p.address, why)
  }

  /** Whether a frame's header (its first 8 + H bytes) is a request that carries the token. */
  const authenticates = (start: Uint8Array): boolean => {
    try {
      const m = unpackHeader(unpackr, start) as { _tag?: unknown; payload?: { token?: unknown } } | null
      return m !== null && typeof m === "object" && m._tag === "Request" && sameToken(m.payload?.token, token)
    } catch {
      return false
    }
  }

  /** Watches a newly accepted connection until it authenticates, is dropped, or closes. */
  const admit = (conn: net.Socket): void => {
    const address = conn.remoteAddress ?? "unknown"
    const entry: Pending = { conn, address, timer: setTimeout(() => drop(entry, `no authenticated request within ${timeoutMs} ms`), timeoutMs) }
    entry.timer.unref()
    pending.add(entry)
    const same = byAddress.get(address) ?? new Set<Pending>()
    byAddress.set(address, same)
    same.add(entry)
    if (same.size > perAddressMax) drop(same.values().next().value!, `more than ${perAddressMax} unauthenticated connections from ${address}`)
    if (pending.size > totalMax) drop(pending.values().next().value!, `more than ${totalMax} unauthenticated connections`)
    conn.once("close", () => forget(entry))

    let authenticated = false
    /** Bytes of the current frame seen so far (at most `limit`, plus one chunk, before a decision). */
    let seen: Buffer = Buffer.alloc(0)
    /** Looks at the bytes up to the current frame's decision; false = drop the connection. */
    const observe = (chunk: Buffer): boolean => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk])
      for (;;) {
        if (seen.length < 4) return true
        const total = 4 + seen.readUInt32BE(0)
        if (total <= limit) {
          if (seen.length < total) return true
          if (authenticates(seen.subarray(0, total))) return (authenticated = true)
          seen = seen.subarray(total)
          continue
        }
        // A large frame: its header must show the token before its body is taken.
        if (seen.length < 8) return true
        const headerEnd = 8 + seen.readUInt32BE(4)
        if (headerEnd > limit) return false
        if (seen.length < headerEnd) return true
        return (authenticated = authenticates(seen.subarray(0, headerEnd)))
      }
    }
    // Through emit, not a 'data' listener of its own: that would start the flow before the RPC server
    // listens (and lose its first chunks); here each chunk is seen as it is delivered.
    const emit = conn.emit
    conn.emit = function (this: net.Socket, event: string | symbol, ...args: unknown[]): boolean {
      if (event === "data" && !authenticated) {
        if (!observe(args[0] as Buffer)) {
          drop(entry, `a frame over ${limit} bytes before authenticating`)
          return false
        }
        if (authenticated) {
          forget(entry)
          seen = Buffer.alloc(0)
          conn.emit = emit
        }
      }
      return (emit as (this: net.Socket, event: string | symbol, ...args: unknown[]) => boolean).call(this, event, ...args)
    } as typeof conn.emit
  }

  return {
    admit,
    /** Connections not yet authenticated (tests, metrics). */
    unauthenticated: (): number => pending.size
  }
}
