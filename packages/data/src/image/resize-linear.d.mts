import type { ChwImage } from "./decode-core.mjs"
/** One axis's source indices and OpenCV INTER_LINEAR 11-bit coefficients (see resize-linear.mjs). */
export function linearTaps(
  inSize: number,
  outSize: number,
  clampCoefficients: boolean
): { index: Int32Array; c0: Int32Array; c1: Int32Array }
/** Resizes CHW uint8 planes with OpenCV INTER_LINEAR's 8-bit fixed-point arithmetic (see resize-linear.mjs). */
export function resizeLinearU8(image: ChwImage, outHeight: number, outWidth: number): ChwImage
