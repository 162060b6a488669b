/**
 * Mean files (.binaryproto BlobProto) as Caffe's DataTransformer reads them: Blob::FromProto, then the
 * legacy accessors channels() = shape(1), height() = shape(2), width() = shape(3) (1 where absent).
 */
import { readFileSync } from "node:fs"
import { blobData, blobShape, decode } from "@deepspark/caffe"
import { TransformError } from "../errors.js"

export interface MeanBlob {
  readonly file: string
  readonly channels: number
  readonly height: number
  readonly width: number
  readonly data: Float32Array
}

export const readMeanFile = (file: string): MeanBlob => {
  let bytes: Uint8Array
  try {
    bytes = readFileSync(file)
  } catch (e) {
    throw new TransformError({ source: file, message: `${file}: cannot read mean file (${(e as Error).message})` })
  }
  try {
    const blob = decode("BlobProto", bytes)
    const shape = blobShape(blob)
    const legacy = (i: number) => (i < shape.length ? shape[i]! : 1)
    return { file, channels: legacy(1), height: legacy(2), width: legacy(3), data: blobData(blob) }
  } catch (e) {
    throw new TransformError({ source: file, message: `${file}: not a BlobProto mean file (${(e as Error).message})` })
  }
}
