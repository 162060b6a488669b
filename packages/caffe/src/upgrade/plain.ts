import type { PlainMessage } from "../schema/descriptor.js"

/** Small helpers for reading plain messages whose shape is not statically known. */

export const sub = (msg: PlainMessage, field: string): PlainMessage | undefined =>
  msg[field] as PlainMessage | undefined

export const list = <T = PlainMessage>(msg: PlainMessage, field: string): ReadonlyArray<T> =>
  (msg[field] as ReadonlyArray<T> | undefined) ?? []

export const has = (msg: PlainMessage | undefined, field: string): boolean =>
  msg !== undefined && msg[field] !== undefined

/** A deep copy (typed arrays included), so that upgrades never mutate their input. */
export const clone = <T>(value: T): T => structuredClone(value)
