import { decodeDatum, encodeDatum } from "@deepspark/caffe"
import { describe, expect, it } from "vitest"
import { readDatum } from "../src/datum-view.js"
import { decodeRecord } from "../src/datum.js"

const plain = (d: ReturnType<typeof decodeDatum>) => ({ ...d, ...(d.data ? { data: [...d.data] } : {}) })

describe("readDatum (fast path) agrees with the schema codec", () => {
  const cases = {
    mnist: encodeDatum({ channels: 1, height: 28, width: 28, data: Uint8Array.from({ length: 784 }, (_, i) => i & 255), label: 7 }),
    floats: encodeDatum({ channels: 2, height: 1, width: 2, float_data: [0.5, -1.25, 3, 1e-8], label: -1 }),
    encoded: encodeDatum({ data: Uint8Array.from([0x89, 0x50, 0x4e, 0x47]), label: 1000000, encoded: true }),
    empty: new Uint8Array(0),
    // packed float_data (0x32 = field 6, length-delimited): accepted by readers although Caffe writes unpacked
    packed: Uint8Array.from([0x08, 0x01, 0x32, 0x08, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]),
    // unknown field 9 (varint) → the codec's rules (skipped)
    unknown: Uint8Array.from([0x08, 0x03, 0x48, 0x05, 0x28, 0x02])
  }
  for (const [name, bytes] of Object.entries(cases)) {
    it(name, () => {
      expect(plain(readDatum(bytes))).toEqual(plain(decodeDatum(bytes)))
    })
  }

  it("views the data bytes without copying; corrupt records are named by decodeRecord", () => {
    const d = readDatum(cases.mnist)
    expect(d.data!.buffer).toBe(cases.mnist.buffer)
    const truncated = cases.mnist.subarray(0, 100)
    expect(() => decodeRecord("db", new TextEncoder().encode("00000005"), truncated)).toThrow(/db: record "00000005" is not a Datum/)
  })
})
