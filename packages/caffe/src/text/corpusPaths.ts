import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** Test helper: the shared Caffe corpus (`<repo>/../shared/caffe`) and its prototxt files. */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..")
export const sharedCaffeDir = path.resolve(repoRoot, "../shared/caffe")

export const corpusFile = (relative: string): string => path.join(sharedCaffeDir, relative)

/** Every .prototxt under the corpus, relative paths, sorted. */
export const corpusPrototxts = (): Array<string> => {
  const out: Array<string> = []
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.name.endsWith(".prototxt")) out.push(path.relative(sharedCaffeDir, full))
    }
  }
  walk(sharedCaffeDir)
  return out.sort()
}

export const isSolverFile = (file: string): boolean => /solver/.test(path.basename(file))
