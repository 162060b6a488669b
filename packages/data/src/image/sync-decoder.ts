/**
 * Synchronous image decoding for the synchronous transform path (Caffe decodes encoded Datums inside
 * DataTransformer::Transform). sharp only decodes asynchronously, so a worker thread runs it and the
 * caller blocks on Atomics.wait, then takes the reply with receiveMessageOnPort (no event-loop turn).
 * The worker loads plain-JS ./decode-core.mjs, so it needs no TypeScript loader.
 */
import { readFileSync } from "node:fs"
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads"
import type { MessagePort } from "node:worker_threads"
import { ImageError } from "../errors.js"
import type { ChwImage, ColorMode } from "./decode-core.mjs"

const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads")
const { port, core } = workerData
import(core).then(({ decodeToChw }) => {
  port.on("message", async ({ bytes, options, flag }) => {
    const status = new Int32Array(flag)
    try {
      const image = await decodeToChw(bytes, options)
      port.postMessage({ ok: true, image }, [image.data.buffer])
    } catch (e) {
      port.postMessage({ ok: false, message: String(e && e.message || e) })
    }
    Atomics.store(status, 0, 1)
    Atomics.notify(status, 0)
  })
})
`

export interface SyncImageDecoder {
  decode(bytes: Uint8Array, options: { mode: ColorMode; height?: number; width?: number }): ChwImage
  close(): Promise<void>
}

// A build (scripts/build.mjs) defines this and emits decode-core as dist/decode-core.js beside its chunks.
declare const __DEEPSPARK_BUILT__: boolean | undefined
const coreFile = typeof __DEEPSPARK_BUILT__ !== "undefined" && __DEEPSPARK_BUILT__ ? "./decode-core.js" : "./decode-core.mjs"

export const createSyncImageDecoder = (): SyncImageDecoder => {
  const { port1, port2 } = new MessageChannel()
  const core = new URL(coreFile, import.meta.url).href
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { port: port2, core }, transferList: [port2 as MessagePort] })
  worker.unref()
  port1.unref()
  return {
    decode(bytes, options) {
      const flag = new SharedArrayBuffer(4)
      const status = new Int32Array(flag)
      port1.postMessage({ bytes, options, flag })
      // first call also waits for the worker to start and load sharp
      if (Atomics.wait(status, 0, 0, 60_000) === "timed-out") throw new Error("image decoder worker did not answer within 60 s")
      const reply = receiveMessageOnPort(port1)?.message as
        | { ok: true; image: ChwImage }
        | { ok: false; message: string }
        | undefined
      if (reply === undefined) throw new Error("image decoder worker sent no reply")
      if (!reply.ok) throw new Error(reply.message)
      return reply.image
    },
    async close() {
      port1.close()
      await worker.terminate()
    }
  }
}

/** Reads and decodes an image file synchronously (ImageData layer: ReadImageToCVMat), naming it in errors. */
export const readImageFileSync = (
  decoder: SyncImageDecoder,
  file: string,
  options: { mode: ColorMode; height?: number; width?: number }
): ChwImage => {
  let bytes: Uint8Array
  try {
    bytes = readFileSync(file)
  } catch (e) {
    throw new ImageError({ source: file, message: `${file}: cannot read image (${(e as Error).message})` })
  }
  try {
    return decoder.decode(bytes, options)
  } catch (e) {
    throw new ImageError({ source: file, message: `${file}: cannot decode image (${(e as Error).message})` })
  }
}
