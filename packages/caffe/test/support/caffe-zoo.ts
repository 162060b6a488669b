/**
 * Test support: where Caffe's files are for the tests.
 *
 * - The repository's own copies, on every checkout: Caffe's LeNet prototxts in `examples/mnist/` and
 *   Caffe's recorded outputs in `test/fixtures/` (see test/fixtures/README.md).
 * - Caffe's model zoo, the prototxts of a Caffe checkout's `examples/` and `models/`: the folder named by
 *   DEEPSPARK_CAFFE_ROOT, else `../shared/caffe` beside the repository (as CI provides it). Tests that
 *   need it are skipped without it; `packages/caffe/test/caffe-zoo.test.ts` prints the one line saying so.
 *   (`test/support/caffe-zoo.ts` applies the same rule for the tests above this package.)
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { NetParameter, SolverParameter } from "../../src/schema/types.js"
import { readNetPrototxtSync, readSolverPrototxtSync } from "../../src/text/readPrototxt.js"

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..")

/** Caffe's recorded reference outputs shipped with the repository. */
export const caffeReference = path.join(repoRoot, "test/fixtures/caffe/reference")

/** A file every Caffe checkout has: how the zoo's folder is recognised. */
export const zooMarker = "examples/mnist/lenet_train_test.prototxt"

const fromEnv = process.env["DEEPSPARK_CAFFE_ROOT"]
const candidate = fromEnv ? path.resolve(fromEnv) : path.resolve(repoRoot, "../shared/caffe")

/** The Caffe checkout the zoo tests read, or undefined when there is none. */
export const caffeZoo: string | undefined = fs.existsSync(path.join(candidate, zooMarker)) ? candidate : undefined

/** Why the zoo tests are skipped, in one line; undefined when they run. */
export const caffeZooMissing: string | undefined =
  caffeZoo !== undefined
    ? undefined
    : fromEnv
      ? `Caffe model zoo tests skipped: DEEPSPARK_CAFFE_ROOT=${fromEnv} has no ${zooMarker}; point it at a BVLC Caffe checkout (git clone https://github.com/BVLC/caffe).`
      : "Caffe model zoo tests skipped: neither DEEPSPARK_CAFFE_ROOT nor ../shared/caffe beside the repository exists; set DEEPSPARK_CAFFE_ROOT to a BVLC Caffe checkout (git clone https://github.com/BVLC/caffe) to run them."

/** Whether DEEPSPARK_CAFFE_ROOT was set (then a missing zoo is a mistake, not an absent checkout). */
export const caffeZooRequested = Boolean(fromEnv)

const zoo = (): string => {
  if (caffeZoo === undefined) throw new Error(caffeZooMissing)
  return caffeZoo
}

/** A file of the zoo, by its path inside a Caffe checkout (`models/bvlc_alexnet/deploy.prototxt`). */
export const zooFile = (relative: string): string => path.join(zoo(), relative)

/** A Caffe file the repository ships (`examples/mnist/lenet.prototxt`), by its path inside Caffe. */
export const repoFile = (relative: string): string => path.join(repoRoot, relative)

const prototxtsUnder = (root: string, dir: string): Array<string> =>
  fs.existsSync(path.join(root, dir))
    ? fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = path.join(dir, e.name)
        return e.isDirectory() ? prototxtsUnder(root, rel) : e.name.endsWith(".prototxt") ? [rel] : []
      })
    : []

/** Every .prototxt of the zoo's examples/ and models/, relative to the checkout, sorted. */
export const zooPrototxts = (): Array<string> => [...prototxtsUnder(zoo(), "examples"), ...prototxtsUnder(zoo(), "models")].sort()

/** Every .prototxt the repository ships from Caffe (examples/mnist, test/fixtures), relative to the repository root, sorted. */
export const repoCaffePrototxts = (): Array<string> =>
  [...prototxtsUnder(repoRoot, "examples/mnist"), ...prototxtsUnder(repoRoot, "test/fixtures")].sort()

export const isSolverFile = (file: string): boolean => /solver/.test(path.basename(file))

export const zooNet = (relative: string): NetParameter => readNetPrototxtSync(zooFile(relative))
export const zooSolver = (relative: string): SolverParameter => readSolverPrototxtSync(zooFile(relative))
export const repoNet = (relative: string): NetParameter => readNetPrototxtSync(repoFile(relative))
export const repoSolver = (relative: string): SolverParameter => readSolverPrototxtSync(repoFile(relative))
