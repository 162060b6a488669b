export interface ChwImage {
  readonly channels: number
  readonly height: number
  readonly width: number
  readonly data: Uint8Array
}
export type ColorMode = "color" | "gray" | "native"
export function decodeToChw(
  bytes: Uint8Array,
  options: { mode: ColorMode; height?: number; width?: number }
): Promise<ChwImage>
export function encodeFromChw(image: ChwImage, format: string): Promise<Uint8Array>
