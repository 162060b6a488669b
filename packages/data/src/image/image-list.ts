/**
 * Caffe's image list files (convert_imageset, ImageData layer): one "path label" per line, split at the
 * LAST space so paths may contain spaces; empty lines are skipped.
 */
import { readFileSync } from "node:fs"
import { ImageError } from "../errors.js"

export interface ImageListEntry {
  readonly file: string
  readonly label: number
  /** 1-based line in the list file, for messages. */
  readonly line: number
}

export const parseImageList = (text: string, source: string): Array<ImageListEntry> => {
  const entries: Array<ImageListEntry> = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.trim() === "") continue
    const at = line.lastIndexOf(" ")
    const label = at < 0 ? NaN : Number(line.slice(at + 1))
    if (at <= 0 || !Number.isInteger(label)) {
      throw new ImageError({
        source,
        message: `${source}:${i + 1}: expected "<path> <integer label>", got "${line}"`
      })
    }
    entries.push({ file: line.slice(0, at), label, line: i + 1 })
  }
  return entries
}

export const readImageList = (listFile: string): Array<ImageListEntry> => {
  let text: string
  try {
    text = readFileSync(listFile, "utf8")
  } catch (e) {
    throw new ImageError({ source: listFile, message: `${listFile}: cannot read image list (${(e as Error).message})` })
  }
  return parseImageList(text, listFile)
}
