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
import type { Phase } from "./data-transformer.js"
import { DataTransformer } from "./data-transformer.js"
import type { MeanBlob } from "./mean-file.js"
import { U8_AFFINE_WASM_BASE64, U8_AFFINE_WAT, U8AffineBatch } from "./u8-affine.js"

const origin = { source: "test", key: "k" }
const noDraws = { nextInt: (): number => { throw new Error("unexpected draw") } }

/** Items of C·H·W bytes (deterministic, all of 0..255), with a few framing bytes either side. */
const items = (n: number, size: number, seed: number): Array<Uint8Array> =>
  Array.from({ length: n }, (_, i) => Uint8Array.from({ length: size + 7 }, (_, j) => (Math.imul(j + 31 * i + seed, 2654435761) >>> 13) & 255))

const meanBlob = (C: number, H: number, W: number): MeanBlob => ({
  file: "mean.binaryproto",
  channels: C,
  height: H,
  width: W,
  data: Float32Array.from({ length: C * H * W }, (_, i) => Math.fround(i * 1.37 - 3.1))
})

/** The same batch converter without SIMD (the scalar fallback). */
const scalarTwin = (fast: U8AffineBatch, t: DataTransformer, mean: MeanBlob | undefined): U8AffineBatch => {
  const channelMeans = (fast as unknown as { channelMeans: Float32Array }).channelMeans
  const geometry = { channels: fast.channels, height: fast.height, width: fast.width, crop: t.cropSize, mirror: t.mirror }
  return new U8AffineBatch(geometry, fast.capacity, channelMeans, mean?.data ?? null, t.scale, { simd: false })
}

/**
 * Runs `batches` batches through the fast converter (staging, placeItem's draws, run) and through
 * transformRaw record by record, each transformer with its own generator seeded alike; both must write
 * the same bits and leave their generators in the same state.
 */
const compareWithGeneral = (
  param: TransformationParameter,
  phase: Phase,
  shape: { C: number; H: number; W: number },
  options: { meanFile?: boolean; simd: boolean; batch?: number }
): void => {
  const { C, H, W } = shape
  const inSize = C * H * W
  const mean = options.meanFile === true ? meanBlob(C, H, W) : undefined
  const fastRng = new SeededRng(17)
  const generalRng = new SeededRng(17)
  const fastT = new DataTransformer(param, phase, fastRng, mean !== undefined ? { mean } : {})
  const generalT = new DataTransformer(param, phase, generalRng, mean !== undefined ? { mean } : {})
  const batch = options.batch ?? 5
  const simdBatch = fastT.uint8Batch(C, H, W, batch)
  expect(simdBatch).not.toBeNull()
  const conv = options.simd ? simdBatch! : scalarTwin(simdBatch!, fastT, mean)
  const [oc, oh, ow] = fastT.outputShape({ channels: C, height: H, width: W })
  const outSize = oc * oh * ow
  expect(conv.itemSize).toBe(outSize)
  for (const [b, n] of [[0, batch], [1, 3], [2, batch]] as const) {
    const src = items(batch, inSize, 7 * b + inSize)
    src.forEach((bytes, i) => conv.put(i, bytes, 3))
    for (let i = 0; i < n; i++) fastT.placeItem(conv, i)
    const out = new Float32Array(batch * outSize + 4).fill(-7)
    conv.run(n, out)
    const want = new Float32Array(batch * outSize + 4).fill(-7)
    for (let i = 0; i < n; i++) {
      const img = { channels: C, height: H, width: W, bytes: src[i]!.subarray(3, 3 + inSize), floats: null }
      generalT.transformRaw(img, want, i * outSize, origin)
    }
    // bit for bit (toEqual on Float32Array compares values; -0 vs 0 would pass, so compare the bytes)
    expect(Buffer.from(out.buffer, 0, 4 * n * outSize).equals(Buffer.from(want.buffer, 0, 4 * n * outSize))).toBe(true)
    // out beyond n items keeps what it held
    expect(out.subarray(n * outSize)).toEqual(want.subarray(n * outSize))
    expect(fastRng.seedState).toBe(generalRng.seedState)
  }
}

describe("U8AffineBatch: (v − mean) · scale in float32, bit for bit the general transform", () => {
  it("the embedded module is the WAT assembled by wabt", async () => {
    const wabt = await (createRequire(import.meta.url)("wabt") as () => Promise<{ parseWat(f: string, t: string, o: object): { toBinary(o: object): { buffer: Uint8Array } } }>)()
    const bytes = wabt.parseWat("u8-affine.wat", U8_AFFINE_WAT, { simd: true }).toBinary({}).buffer
    expect(Buffer.from(bytes).toString("base64")).toBe(U8_AFFINE_WASM_BASE64)
    expect(WebAssembly.validate(bytes)).toBe(true)
  })

  const wholeCases: ReadonlyArray<{ name: string; param: TransformationParameter; C: number; H: number; W: number; meanFile?: boolean }> = [
    { name: "LeNet scale, one channel", param: { scale: 0.00390625 }, C: 1, H: 28, W: 28 },
    { name: "one mean_value over 3 channels, odd plane", param: { scale: 0.0171, mean_value: [104.5] }, C: 3, H: 5, W: 7 },
    { name: "per-channel mean_value", param: { scale: 1.7, mean_value: [104.008, 116.669, 122.675] }, C: 3, H: 4, W: 9 },
    { name: "mean file", param: { scale: 0.5 }, C: 2, H: 3, W: 11, meanFile: true }
  ]
  for (const c of wholeCases) {
    for (const simd of [true, false]) {
      it(`no crop, no mirror: ${c.name} (${simd ? "SIMD" : "scalar"})`, () => {
        compareWithGeneral(c.param, "TRAIN", c, { simd, ...(c.meanFile === true ? { meanFile: true } : {}) })
      })
    }
  }

  // Crop and mirror: every mean kind × scale, TRAIN (random offsets, drawn after the mirror coin) and TEST
  // (centred), odd sizes, windows narrower and wider than a 16-byte step, crop equal to the image.
  const shapes = [
    { C: 1, H: 28, W: 28, crop: 24 },
    { C: 3, H: 7, W: 13, crop: 5 },
    { C: 2, H: 19, W: 37, crop: 17 },
    { C: 3, H: 9, W: 9, crop: 9 },
    { C: 1, H: 6, W: 5, crop: 1 },
    { C: 2, H: 5, W: 21, crop: 0 }
  ]
  const means: ReadonlyArray<{ name: string; param: TransformationParameter; meanFile?: boolean }> = [
    { name: "no mean", param: {} },
    { name: "one mean_value", param: { mean_value: [127.25] } },
    { name: "mean_value per channel", param: { mean_value: [104.008, 116.669, 122.675] } },
    { name: "mean_file", param: {}, meanFile: true }
  ]
  for (const s of shapes) {
    for (const phase of ["TRAIN", "TEST"] as const) {
      it(`crop ${s.crop} of ${s.C}×${s.H}×${s.W}, mirror or not, ${phase}: SIMD and scalar equal transformRaw and draw alike`, () => {
        for (const m of means) {
          if (m.param.mean_value !== undefined && m.param.mean_value.length > 1 && m.param.mean_value.length !== s.C) continue
          for (const mirror of [false, true]) {
            if (s.crop === 0 && !mirror) continue // covered above
            for (const scale of [1, 0.00390625, 0.0171]) {
              const param: TransformationParameter = { ...m.param, scale, mirror, ...(s.crop > 0 ? { crop_size: s.crop } : {}) }
              for (const simd of [true, false]) {
                compareWithGeneral(param, phase, s, { simd, ...(m.meanFile === true ? { meanFile: true } : {}) })
              }
            }
          }
        }
      })
    }
  }

  it("a mirrored crop reads the window backwards (hand-checked 1×3×4, crop 2, TEST centre, mirror drawn 1)", () => {
    const coin = { nextInt: (n: number): number => (n === 2 ? 1 : 0) }
    const t = new DataTransformer({ crop_size: 2, mirror: true, scale: 2, mean_value: [1] }, "TEST", coin)
    const fast = t.uint8Batch(1, 3, 4, 1)!
    fast.put(0, Uint8Array.from([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]), 0)
    t.placeItem(fast, 0)
    const out = new Float32Array(4)
    fast.run(1, out)
    // centre window rows 0..1 (floor(1/2) = 0), columns 1..2, mirrored: [2, 1], [12, 11]; (v − 1)·2
    expect([...out]).toEqual([2, 0, 22, 20])
  })

  it("no fast path for records smaller than the crop, a mean of another shape, or mismatched mean_value", () => {
    expect(new DataTransformer({ crop_size: 5 }, "TEST", noDraws).uint8Batch(1, 4, 6, 2)).toBeNull()
    expect(new DataTransformer({ crop_size: 2, mirror: true }, "TEST", noDraws).uint8Batch(1, 4, 4, 2)).not.toBeNull()
    const mean = { file: "m", channels: 1, height: 3, width: 3, data: new Float32Array(9) }
    expect(new DataTransformer({}, "TEST", noDraws, { mean }).uint8Batch(1, 4, 4, 2)).toBeNull()
    expect(new DataTransformer({ mean_value: [1, 2] }, "TEST", noDraws).uint8Batch(3, 4, 4, 2)).toBeNull()
  })

  const withDb = async (
    datums: ReadonlyArray<Parameters<typeof encodeDatum>[0]>,
    run: (db: string, dir: string) => Promise<void>
  ): Promise<void> => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-u8affine-"))
    try {
      const db = path.join(tmp, "db")
      const w = createLmdb(db)
      for (let i = 0; i < datums.length; i++) await w.put(String(i).padStart(4, "0"), encodeDatum(datums[i]!))
      await w.close()
      await run(db, tmp)
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  }

  /** Ten 2×3×5 records; record 6 holds float_data (its batch takes the general path). */
  const mixedRecords = Array.from({ length: 10 }, (_, i) =>
    i === 6
      ? { channels: 2, height: 3, width: 5, float_data: Array.from({ length: 30 }, (_, j) => j * 0.25 - i), label: i }
      : { channels: 2, height: 3, width: 5, data: items(1, 30, i)[0]!.subarray(0, 30), label: i === 3 ? 300 + i : i }
  )

  for (const param of [
    { scale: 0.7, mean_value: [3.25, 100.5] },
    { scale: 0.7, mean_value: [3.25, 100.5], crop_size: 3, mirror: true }
  ] satisfies ReadonlyArray<TransformationParameter>) {
    it(`openBatchSource (${param.crop_size !== undefined ? "crop 3 + mirror, TRAIN" : "no crop"}): batches mixing raw and float records equal the per-record transform with the same draws`, async () => {
      await withDb(mixedRecords, async (db) => {
        const src = await openBatchSource({ dataParam: { source: db, batch_size: 4, backend: "LMDB" }, transformParam: param, phase: "TRAIN", rng: new SeededRng(1) })
        const [, oc, oh, ow] = src.shape.data as [number, number, number, number]
        const size = oc * oh * ow
        const t = new DataTransformer(param, "TRAIN", new SeededRng(1))
        const data = new Float32Array(4 * size)
        const label = new Float32Array(4)
        for (let b = 0; b < 5; b++) {
          src.next(data, label)
          const want = new Float32Array(4 * size)
          for (let i = 0; i < 4; i++) {
            const d = mixedRecords[(4 * b + i) % 10]!
            t.transform(d, want, i * size, origin)
            expect(label[i]).toBe(d.label)
          }
          expect(data).toEqual(want)
        }
        await src.close()
      })
    })
  }
})
