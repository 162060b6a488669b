import { spawnSync } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { afterAll, describe, expect, it } from "vitest"

/**
 * A long string literal costs about its own length: parsing a prototxt with a 24 MB string runs in a
 * process whose V8 heap is capped at 128 MB. (Decoded bytes kept as one number per byte took 8 bytes
 * and more per byte: a 50 MB string took 1.28 GB.)
 */
const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, "../../../..")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deepspark-tokenizer-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe("string literals in bounded memory", () => {
  it("parses a 24 MB string field under a 128 MB heap", () => {
    // 30 plain characters and one escape per 34 source characters: both ways bytes reach a literal.
    const unit = "abcdefghijklmnopqrstuvwxyz0123\\x41"
    const units = Math.floor((24 * 1024 * 1024) / unit.length)
    fs.writeFileSync(path.join(tmp, "big.prototxt"), `name: "${unit.repeat(units)}"\nlayer { name: "x" type: "Input" top: "x" }\n`)
    const entry = path.join(tmp, "entry.mts")
    fs.writeFileSync(
      entry,
      `import { readFileSync } from "node:fs"
import { parsePrototxt } from ${JSON.stringify(pathToFileURL(path.join(here, "prototxt.ts")).href)}
const net = parsePrototxt("NetParameter", readFileSync(${JSON.stringify(path.join(tmp, "big.prototxt"))}, "utf8")) as { name: string }
const ok = net.name.length === ${units * 31} && net.name.startsWith("abcdefghijklmnopqrstuvwxyz0123Aabc")
console.log(ok ? "ok" : "wrong: " + net.name.length)
`
    )
    const r = spawnSync(process.execPath, ["--max-old-space-size=128", path.join(repoRoot, "bin/run-ts.mjs"), entry], { encoding: "utf8" })
    expect(`${r.stdout}${r.stderr}`.slice(-2000), `signal ${r.signal}`).toContain("ok")
    expect(r.status).toBe(0)
  }, 60_000)
})
