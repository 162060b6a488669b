import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import type { SolverState } from "../schema/types.js"
import { writeFileAtomic, writeFileAtomicSync } from "./atomic-write.js"
import { blobData, blobShape, makeBlobProto } from "./blob.js"
import {
  readBinaryproto,
  readBinaryprotoSync,
  readSolverState,
  readSolverStateSync,
  writeBinaryproto,
  writeBinaryprotoSync,
  writeSolverState,
  writeSolverStateSync
} from "./files.js"

const tmp = mkdtempSync(path.join(tmpdir(), "caffe-files-test-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe("binary files", () => {
  it("binaryproto mean files round-trip (sync and Effect)", async () => {
    const mean = makeBlobProto([1, 3, 2, 2], Float32Array.from({ length: 12 }, (_, i) => i / 3))
    const file = path.join(tmp, "mean.binaryproto")
    writeBinaryprotoSync(file, mean)
    const back = readBinaryprotoSync(file)
    expect(blobShape(back)).toEqual([1, 3, 2, 2])
    expect(blobData(back)).toEqual(mean.data)
    await Effect.runPromise(writeBinaryproto(file, { num: 1, channels: 1, height: 1, width: 1, data: Float32Array.of(5) }))
    const legacy = await Effect.runPromise(readBinaryproto(file))
    expect(blobShape(legacy)).toEqual([1, 1, 1, 1])
  })

  it("solverstate round-trips with history blobs; current_step is written even when 0", async () => {
    const state: SolverState = {
      iter: 20,
      learned_net: "lenet_iter_20.caffemodel",
      history: [makeBlobProto([2], Float32Array.of(0.5, -0.25)), makeBlobProto([], Float32Array.of(1))],
      current_step: 0
    }
    const file = path.join(tmp, "lenet_iter_20.solverstate")
    writeSolverStateSync(file, state)
    const bytes = readFileSync(file)
    expect(bytes.subarray(bytes.length - 2)).toEqual(Buffer.from([0x20, 0x00]))
    expect(readSolverStateSync(file)).toEqual(state)
    await Effect.runPromise(writeSolverState(file, { ...state, iter: 21 }))
    expect((await Effect.runPromise(readSolverState(file))).iter).toBe(21)
  })

  it("a corrupt file fails with ProtoDecodeError naming the file", async () => {
    const file = path.join(tmp, "bad.solverstate")
    writeFileSync(file, Uint8Array.of(0x1a, 0x10, 0x2a))
    expect(() => readSolverStateSync(file)).toThrow(/bad\.solverstate/)
    const err = await Effect.runPromise(Effect.flip(readSolverState(file)))
    expect(err._tag).toBe("ProtoDecodeError")
    expect(err._tag === "ProtoDecodeError" && err.fieldPath).toBe("history[0]")
  })

  it("a write failure is a CaffeFileError and leaves no temporary file", async () => {
    const dir = path.join(tmp, "no-such-dir")
    expect(() => writeFileAtomicSync(path.join(dir, "x"), "a")).toThrow(/cannot write/)
    const err = await Effect.runPromise(Effect.flip(writeFileAtomic(path.join(dir, "x"), "a")))
    expect(err._tag).toBe("CaffeFileError")
    expect(err.operation).toBe("write")
    // renaming onto a directory fails after the temporary file was written: it must be cleaned up
    const target = path.join(tmp, "a-directory")
    const { mkdirSync } = await import("node:fs")
    mkdirSync(path.join(target, "child"), { recursive: true })
    await Effect.runPromise(Effect.flip(writeFileAtomic(target, "data")))
    expect(() => writeFileAtomicSync(target, "data")).toThrow()
    expect(readdirSync(tmp).filter((f) => f.includes(".tmp-"))).toEqual([])
    expect(existsSync(path.join(target, "child"))).toBe(true)
  })
})
