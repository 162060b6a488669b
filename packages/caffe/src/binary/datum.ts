/**
 * Datum records (the values stored in Caffe's LMDB / LevelDB databases). Thin, typed entry points over
 * the generic codec: `data` holds uint8 CHW pixels (or a JPEG/PNG file when `encoded`), `float_data`
 * is written unpacked as Caffe does (tag 0x35 per element).
 */
import type { Datum } from "../schema/types.js"
import { decode } from "./decode.js"
import { encode } from "./encode.js"

/** Encodes a Datum exactly as Caffe's SerializeToString does. Throws ProtoEncodeError. */
export const encodeDatum = (datum: Datum): Uint8Array => encode("Datum", datum)

/** Decodes a Datum (the `data` bytes are copied out of the input). Throws ProtoDecodeError. */
export const decodeDatum = (bytes: Uint8Array): Datum => decode("Datum", bytes)
