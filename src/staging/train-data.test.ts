import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { stagedPartitionName, stagingSourcePath, trainDataLayers } from "./train-data.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

describe("stagedPartitionName", () => {
  it("flattens the source path, adds 8 hex digits of its hash and the partition", () => {
    const name = stagedPartitionName("examples/mnist/mnist_train_lmdb", { index: 1, count: 4 })
    expect(name).toMatch(/^examples_mnist_mnist_train_lmdb-[0-9a-f]{8}\.part-1-of-4$/)
    expect(stagedPartitionName("examples/mnist/mnist_train_lmdb", { index: 2, count: 4 })).toBe(name.replace("part-1-of-4", "part-2-of-4"))
  })

  it("names one database one way however its path is spelled", () => {
    const name = stagedPartitionName("examples/mnist/mnist_train_lmdb", { index: 0, count: 2 })
    for (const spelling of ["./examples/mnist/mnist_train_lmdb", "examples//mnist/./mnist_train_lmdb/", "examples\\mnist\\mnist_train_lmdb"])
      expect(stagedPartitionName(spelling, { index: 0, count: 2 })).toBe(name)
  })

  it("keeps sources apart that flatten alike", () => {
    const a = stagedPartitionName("a/b_c", { index: 0, count: 2 })
    const b = stagedPartitionName("a_b/c", { index: 0, count: 2 })
    expect(a.replace(/-[0-9a-f]{8}\./, ".")).toBe(b.replace(/-[0-9a-f]{8}\./, "."))
    expect(a).not.toBe(b)
  })

  it("is a safe file name: [A-Za-z0-9._-] only, not hidden, bounded in length", () => {
    for (const source of [".hidden_lmdb", "data set/ünï côde$(rm -rf)/train_lmdb", `${"very_long_folder_name/".repeat(20)}train_lmdb`, "-dash"]) {
      const name = stagedPartitionName(source, { index: 3, count: 8 })
      expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*\.part-3-of-8$/)
      expect(name.length).toBeLessThanOrEqual(80 + 9 + ".part-3-of-8".length)
      expect(path.basename(name)).toBe(name)
    }
    // The tail of a long path (where the database's own name is) survives.
    expect(stagedPartitionName(`${"very_long_folder_name/".repeat(20)}train_lmdb`, { index: 0, count: 1 })).toMatch(/_train_lmdb-[0-9a-f]{8}\.part-0-of-1$/)
  })

  it("refuses sources a staging server cannot serve: absolute, or outside its folder", () => {
    expect(() => stagingSourcePath("/data/mnist_train_lmdb")).toThrow(/data_param.source "\/data\/mnist_train_lmdb" is an absolute path; a staging server serves databases relative to its working directory/)
    expect(() => stagingSourcePath("C:\\data\\train_lmdb")).toThrow(/absolute path/)
    expect(() => stagingSourcePath("../elsewhere/train_lmdb")).toThrow(/not a path inside the staging server's working directory/)
    expect(() => stagingSourcePath("a/../../b")).toThrow(/not a path inside/)
    expect(stagingSourcePath("./a/../b/train_lmdb/")).toBe("b/train_lmdb")
  })
})

describe("trainDataLayers", () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "deepspark-train-data-"))
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))

  it("Caffe's LeNet: only the TRAIN-phase Data layer (the test net's is the center's)", () => {
    expect(trainDataLayers("examples/mnist/lenet_solver.prototxt", repoRoot)).toEqual([
      { layer: "mnist", source: "examples/mnist/mnist_train_lmdb", backend: "lmdb" }
    ])
  })

  it("follows the solver's train_state (stage rules) and data_param.backend (LEVELDB by default)", () => {
    writeFileSync(
      path.join(tmp, "net.prototxt"),
      `name: "n"
layer { name: "a" type: "Data" top: "x" top: "y" include { phase: TRAIN stage: "big" } data_param { source: "big_leveldb" batch_size: 2 } }
layer { name: "b" type: "Data" top: "x" top: "y" include { phase: TRAIN not_stage: "big" } data_param { source: "small_lmdb" batch_size: 2 backend: LMDB } }
layer { name: "t" type: "Data" top: "x" top: "y" include { phase: TEST } data_param { source: "test_lmdb" batch_size: 2 backend: LMDB } }
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "z" inner_product_param { num_output: 2 } }
`
    )
    writeFileSync(path.join(tmp, "solver.prototxt"), `net: "net.prototxt"\nbase_lr: 0.1\nmax_iter: 1\ntrain_state { stage: "big" }\n`)
    writeFileSync(path.join(tmp, "solver_small.prototxt"), `net: "net.prototxt"\nbase_lr: 0.1\nmax_iter: 1\n`)
    expect(trainDataLayers("solver.prototxt", tmp)).toEqual([{ layer: "a", source: "big_leveldb", backend: "leveldb" }])
    expect(trainDataLayers("solver_small.prototxt", tmp)).toEqual([{ layer: "b", source: "small_lmdb", backend: "lmdb" }])
  })
})
