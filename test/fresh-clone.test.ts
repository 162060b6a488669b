/**
 * A fresh clone passes its own tests without `../shared` beside it: the repository at HEAD is cloned
 * into a temporary folder (nothing beside it, DEEPSPARK_CAFFE_ROOT unset), given this checkout's
 * installed packages, and `vitest run` — what `npm test` runs — runs a few test files there: one that
 * reports Caffe's model zoo, one mixing zoo tests (skipped) with tests on the repository's own Caffe
 * files, one on the recorded Caffe outputs in test/fixtures, and one that needs none of them. It
 * passes with the one line saying the zoo is missing. (What it checks is HEAD: commit first.)
 */
import { execFile, execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** A git checkout can be cloned; a source tree without git (an unpacked archive) cannot. */
const isGitCheckout = (() => {
  try {
    return execFileSync("git", ["rev-parse", "--is-inside-work-tree"], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() === "true"
  } catch {
    return false
  }
})()

const files = [
  "packages/caffe/test/caffe-zoo.test.ts",
  "packages/caffe/src/graph/solver-nets.test.ts",
  "packages/caffe/src/binary/caffemodel.test.ts",
  "packages/caffe/src/text/parse.test.ts"
]

/**
 * node_modules for the clone without an install: every installed package linked from this checkout,
 * except the workspace packages (`@deepspark/*`), which are linked to the clone's own packages/ as npm
 * links them, so the clone's tests run the clone's code.
 */
const linkInstalledPackages = (clone: string): void => {
  const installed = path.join(repoRoot, "node_modules")
  const target = path.join(clone, "node_modules")
  fs.mkdirSync(path.join(target, "@deepspark"), { recursive: true })
  for (const entry of fs.readdirSync(installed)) {
    // Caches and npm's own bookkeeping stay behind; .bin holds the executables.
    if (entry === "@deepspark" || (entry.startsWith(".") && entry !== ".bin")) continue
    fs.symlinkSync(fs.realpathSync(path.join(installed, entry)), path.join(target, entry))
  }
  for (const pkg of fs.readdirSync(path.join(clone, "packages"))) {
    fs.symlinkSync(path.join("..", "..", "packages", pkg), path.join(target, "@deepspark", pkg))
    const own = path.join(repoRoot, "packages", pkg, "node_modules")
    if (fs.existsSync(own)) fs.symlinkSync(fs.realpathSync(own), path.join(clone, "packages", pkg, "node_modules"))
  }
}

describe.skipIf(!isGitCheckout)("a fresh clone without ../shared", () => {
  let parent = ""
  let clone = ""

  beforeAll(() => {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-fresh-clone-"))
    clone = path.join(parent, "deepspark")
    execFileSync("git", ["clone", "--quiet", repoRoot, clone], { stdio: "ignore" })
    linkInstalledPackages(clone)
  }, 60_000)

  afterAll(() => {
    if (parent) fs.rmSync(parent, { recursive: true, force: true })
  })

  it("has no ../shared, and its workspace packages resolve into the clone", () => {
    expect(fs.existsSync(path.join(clone, "../shared"))).toBe(false)
    for (const pkg of ["caffe", "data", "engine"])
      expect(fs.realpathSync(path.join(clone, "node_modules/@deepspark", pkg))).toBe(fs.realpathSync(path.join(clone, "packages", pkg)))
  })

  it("gets every fixture: none is git-ignored (a clone would lack it)", () => {
    const ignored = execFileSync("git", ["ls-files", "--others", "--ignored", "--exclude-standard", "--", "test/fixtures", ":(glob)packages/*/test/fixtures/**"], {
      cwd: repoRoot,
      encoding: "utf8"
    })
    expect(ignored.split("\n").filter((l) => l !== "")).toEqual([])
  })

  it("passes `vitest run` on tests that need Caffe's files, printing the one line that the model zoo is missing", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" }
    // The run must look like a new user's: no zoo named, and none of this vitest's own worker settings.
    delete env["DEEPSPARK_CAFFE_ROOT"]
    for (const key of Object.keys(env)) if (key.startsWith("VITEST") || key.startsWith("TINYPOOL")) delete env[key]
    const vitest = path.join(clone, "node_modules/vitest/vitest.mjs")
    const run = await promisify(execFile)(process.execPath, [vitest, "run", ...files], { cwd: clone, env, maxBuffer: 16 << 20 }).catch(
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? "", stderr: `${e.stderr ?? ""}\n(exit code ${e.code})` })
    )
    const output = `${run.stdout}\n${run.stderr}`.replace(/\u001b\[[0-9;]*m/g, "")
    const notice = /^Caffe model zoo tests skipped: neither DEEPSPARK_CAFFE_ROOT nor \.\.\/shared\/caffe beside the repository exists; set DEEPSPARK_CAFFE_ROOT to a BVLC Caffe checkout .*$/gm
    expect({ notices: output.match(notice)?.length ?? 0, output }).toMatchObject({ notices: 1 })
    expect({ output }).toEqual({ output: expect.stringMatching(/Test Files\s+3 passed \| 1 skipped \(4\)/) })
    expect({ output }).toEqual({ output: expect.not.stringMatching(/\bFAIL\b|\d+ failed|exit code/) })
  })
})
