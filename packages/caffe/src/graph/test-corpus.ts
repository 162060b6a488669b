import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { NetParameter, SolverParameter } from "../schema/types.js"
import { readNetPrototxtSync, readSolverPrototxtSync } from "../text/readPrototxt.js"

/** Test helper: the shared Caffe corpus, `<repo root>/../shared/caffe`. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..")
export const caffeCorpus = path.resolve(repoRoot, "../shared/caffe")

export const corpusNet = (relative: string): NetParameter => readNetPrototxtSync(path.join(caffeCorpus, relative))
export const corpusSolver = (relative: string): SolverParameter => readSolverPrototxtSync(path.join(caffeCorpus, relative))
