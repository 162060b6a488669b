/**
 * Test support: Caffe's model zoo (the prototxts of a Caffe checkout's examples/ and models/) for the
 * tests above the packages. Same rule as packages/caffe/test/support/caffe-zoo.ts, whose test file prints
 * the one line saying the zoo is missing: the folder named by DEEPSPARK_CAFFE_ROOT, else ../shared/caffe
 * beside the repository (as CI provides it); undefined when neither is a Caffe checkout.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const fromEnv = process.env["DEEPSPARK_CAFFE_ROOT"]
const candidate = fromEnv ? path.resolve(fromEnv) : path.resolve(repoRoot, "../shared/caffe")

export const caffeZoo: string | undefined = fs.existsSync(path.join(candidate, "examples/mnist/lenet_train_test.prototxt")) ? candidate : undefined
