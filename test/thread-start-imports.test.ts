import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "dist")

/** The specifiers of a built file's static imports and re-exports (`import … from "x"`, `import "x"`, `export … from "x"`). */
const staticImports = (file: string): string[] => {
  const text = fs.readFileSync(path.join(dist, file), "utf8")
  return [...text.matchAll(/(?:^|[;\s])(?:import|export)\s*(?:[^"'();]*?\sfrom\s*)?["']([^"']+)["']/g)].map((m) => m[1]!)
}

/**
 * Every module a thread loads before it runs (npm packages by name, node builtins as `node:x`): the
 * static imports of `roots` and of the chunks they load, and how many of our files that walk read.
 */
const packagesLoadedBy = (roots: ReadonlyArray<string>): Set<string> & { readonly files: number } => {
  const seen = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    for (const spec of staticImports(file)) {
      if (spec.startsWith("./")) visit(spec.slice(2))
      else if (spec.startsWith("node:")) packages.add(spec)
      else packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!)
    }
  }
  for (const root of roots) visit(root)
  return Object.assign(packages, { files: seen.size })
}

/** The chunk an entry imports dynamically by this name (the trainer thread loads its engine so). */
const dynamicChunk = (file: string, name: string): string => {
  const m = fs.readFileSync(path.join(dist, file), "utf8").match(new RegExp(`import\\(\\s*["']\\./(${name}-[A-Z0-9]+\\.js)["']`))
  if (!m) throw new Error(`${file} imports no ${name} chunk`)
  return m[1]!
}

/**
 * Every trainer and evaluator thread pays for what its modules import before it trains (≈ 0.3 s for
 * undici, ws, mime, sharp and classic-level together, which they used to load through @effect/* indexes
 * and the data package's top level): none of those may come back into a thread's start.
 */
describe("what a trainer or evaluator thread loads as it starts (the build, test/support/build-before-tests.ts)", () => {
  const unwanted = ["undici", "ws", "mime", "sharp", "classic-level", "@libsql/client", "pg"]
  it("a trainer thread (worker-entry and its engine) loads no HTTP, WebSocket, image or LevelDB library", () => {
    const loaded = packagesLoadedBy(["worker-entry.js", dynamicChunk("worker-entry.js", "engine-trainer")])
    // The walk reaches the transport (MessagePorts, sockets) and the engine's chunks.
    expect(loaded.has("node:worker_threads") && loaded.has("node:net")).toBe(true)
    expect(loaded.files).toBeGreaterThan(10)
    expect(unwanted.filter((p) => loaded.has(p))).toEqual([])
  })
  it("the evaluator thread loads none of them either", () => {
    const loaded = packagesLoadedBy(["evaluator-entry.js"])
    expect(loaded.has("node:worker_threads") && loaded.files > 5).toBe(true)
    expect(unwanted.filter((p) => loaded.has(p))).toEqual([])
  })
})
