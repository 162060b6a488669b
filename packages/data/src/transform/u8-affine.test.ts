import type { TransformationParameter } from "@deepspark/caffe"
import { encodeDatum } from "@deepspark/caffe"
import { createRequire } from "node:module"
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { openBatchSource } from "../batch-source.js"
import { createLmdb } from "../db/lmdb-writer.js"
import { SeededRng } from "../rng.js"
import { DataTransformer } from "./data-transformer.js"
import { U8_AFFINE_WASM_BASE64, U8_AFFINE_WAT, U8AffineBatch } from "./u8-affine.js"

const origin = { source: "test", key: "k" }
const noDraws = { nextInt: (): number => { throw new Error("unexpected draw") } }

/** Items of C×plane bytes (deterministic, all of 0..255), with a few framing bytes either side. */
const items = (n: number, size: number, seed: number): Array<Uint8Array> =>
  Array.from({ length: n }, (_, i) => Uint8Array.from({ length: size + 7 }, (_, j) => (Math.imul(j + 31 * i + seed, 2654435761) >>> 13) & 255))

describe("U8AffineBatch: (v − mean) · scale in float32, bit for bit the scalar transform", () => {
  it("the embedded module is the WAT assembled by wabt", async () => {
    const wabt = await (createRequire(import.meta.url)("wabt") as () => Promise<{ parseWat(f: string, t: string, o: object): { toBinary(o: object): { buffer: Uint8Array } } }>)()
    const bytes = wabt.parseWat("u8-affine.wat", U8_AFFINE_WAT, { simd: true }).toBinary({}).buffer
    expect(Buffer.from(bytes).toString("base64")).toBe(U8_AFFINE_WASM_BASE64)
    expect(WebAssembly.validate(bytes)).toBe(true)
  })

  const cases: ReadonlyArray<{ name: string; param: TransformationParameter; C: number; H: number; W: number; meanFile?: boolean }> = [
    { name: "LeNet scale, one channel", param: { scale: 0.00390625 }, C: 1, H: 28, W: 28 },
    { name: "one mean_value over 3 channels, odd plane", param: { scale: 0.0171, mean_value: [104.5] }, C: 3, H: 5, W: 7 },
    { name: "per-channel mean_value", param: { scale: 1.7, mean_value: [104.008, 116.669, 122.675] }, C: 3, H: 4, W: 9 },
    { name: "mean file", param: { scale: 0.5 }, C: 2, H: 3, W: 11, meanFile: true }
  ]
  for (const c of cases) {
    for (const simd of [true, false]) {
      it(`${c.name} (${simd ? "SIMD" : "scalar"})`, () => {
        const size = c.C * c.H * c.W
        const mean =
          c.meanFile === true
            ? { file: "mean.binaryproto", channels: c.C, height: c.H, width: c.W, data: Float32Array.from({ length: size }, (_, i) => Math.fround(i * 1.37 - 3.1)) }
            : undefined
        const t = new DataTransformer(c.param, "TRAIN", noDraws, mean !== undefined ? { mean } : {})
        const batch = 5
        const fast = t.uint8Batch(c.C, c.H, c.W, batch)!
        expect(fast).not.toBeNull()
        const conv = simd ? fast : new U8AffineBatch(c.C, c.H * c.W, batch, (fast as unknown as { channelMeans: Float32Array }).channelMeans, mean?.data ?? null, t.scale, { simd: false })
        const src = items(batch, size, size)
        for (const n of [batch, 3]) {
          src.forEach((b, i) => conv.put(i, b, 3))
          const out = new Float32Array(batch * size + 4).fill(-7)
          conv.run(n, out)
          const want = new Float32Array(batch * size + 4).fill(-7)
          for (let i = 0; i < n; i++) {
            const img = { channels: c.C, height: c.H, width: c.W, bytes: src[i]!.subarray(3, 3 + size), floats: null }
            t.transformRaw(img, want, i * size, origin)
          }
          // out beyond n items keeps what it held
          expect(out.subarray(0, n * size)).toEqual(want.subarray(0, n * size))
          expect(out.subarray(batch * size)).toEqual(want.subarray(batch * size))
        }
      })
    }
  }

  it("no fast path with crop or mirror, or a mean of another shape", () => {
    expect(new DataTransformer({ crop_size: 2 }, "TEST", noDraws).uint8Batch(1, 4, 4, 2)).toBeNull()
    expect(new DataTransformer({ mirror: true }, "TEST", noDraws).uint8Batch(1, 4, 4, 2)).toBeNull()
    const mean = { file: "m", channels: 1, height: 3, width: 3, data: new Float32Array(9) }
    expect(new DataTransformer({}, "TEST", noDraws, { mean }).uint8Batch(1, 4, 4, 2)).toBeNull()
    expect(new DataTransformer({ mean_value: [1, 2] }, "TEST", noDraws).uint8Batch(3, 4, 4, 2)).toBeNull()
  })

  it("openBatchSource: batches mixing raw, float and differently framed records equal the per-record transform", async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-u8affine-"))
    try {
      const db = path.join(tmp, "db")
      const w = createLmdb(db)
      const datums = Array.from({ length: 10 }, (_, i) =>
        i === 6
          ? { channels: 2, height: 3, width: 5, float_data: Array.from({ length: 30 }, (_, j) => j * 0.25 - i), label: i }
          : { channels: 2, height: 3, width: 5, data: items(1, 30, i)[0]!.subarray(0, 30), label: i === 3 ? 300 + i : i }
      )
      for (let i = 0; i < datums.length; i++) await w.put(String(i).padStart(4, "0"), encodeDatum(datums[i]!))
      await w.close()
      const param = { scale: 0.7, mean_value: [3.25, 100.5] }
      const src = await openBatchSource({ dataParam: { source: db, batch_size: 4, backend: "LMDB" }, transformParam: param, phase: "TRAIN", rng: new SeededRng(1) })
      const t = new DataTransformer(param, "TRAIN", noDraws)
      const data = new Float32Array(4 * 30)
      const label = new Float32Array(4)
      for (let b = 0; b < 5; b++) {
        src.next(data, label)
        const want = new Float32Array(4 * 30)
        for (let i = 0; i < 4; i++) {
          const d = datums[(4 * b + i) % 10]!
          t.transform(d, want, i * 30, origin)
          expect(label[i]).toBe(d.label)
        }
        expect(data).toEqual(want)
      }
      await src.close()
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  })
})
