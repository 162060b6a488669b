import { execFileSync } from "node:child_process"
import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** Every module specifier a built file imports (static, dynamic and re-exports). */
const importsOf = (file: string): string[] => {
  const text = fs.readFileSync(file, "utf8")
  const found = new Set<string>()
  for (const m of text.matchAll(/(?:^|[;\s])(?:import|export)\s*(?:[^"';]*?\sfrom\s*)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) found.add(m[1] ?? m[2]!)
  return [...found]
}

const packageName = (specifier: string): string => (specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!)

describe("the built packages (test/support/build-before-tests.ts builds them)", () => {
  for (const pkg of ["caffe", "data", "engine"]) {
    it(`@deepspark/${pkg}: dist/ imports only node builtins, its own files and the dependencies its package.json declares`, () => {
      const dir = path.join(repoRoot, "packages", pkg)
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>
        exports: Record<string, Record<string, string>>
      }
      expect(manifest.exports["."]!.default).toBe("./dist/index.js")
      const declared = new Set(Object.keys(manifest.dependencies ?? {}))
      const files = fs.readdirSync(path.join(dir, "dist")).filter((f) => f.endsWith(".js"))
      expect(files).toContain("index.js")
      const undeclared: string[] = []
      for (const f of files)
        for (const spec of importsOf(path.join(dir, "dist", f))) {
          if (spec.startsWith("node:")) continue
          if (spec.startsWith(".")) {
            expect(fs.existsSync(path.join(dir, "dist", spec)), `${f} imports ${spec}`).toBe(true)
            continue
          }
          if (!declared.has(packageName(spec))) undeclared.push(`${f}: ${spec}`)
        }
      expect(undeclared).toEqual([])
    })
  }

  it("plain Node (no TypeScript, no source condition) loads each package's build by name and the runtime's", () => {
    const script = `
      const caffe = await import("@deepspark/caffe")
      const data = await import("@deepspark/data")
      const engine = await import("@deepspark/engine")
      const runtime = await import(${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)})
      const net = caffe.parsePrototxt("NetParameter", 'name: "x" layer { name: "d" type: "Input" top: "d" }')
      console.log(JSON.stringify({ net: net.name, data: typeof data.convertMnist, engine: typeof engine.createTrainingSession, runtime: typeof runtime.runDistributedTrain }))
    `
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: repoRoot, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } })
    expect(JSON.parse(out.trim().split("\n").pop()!)).toEqual({ net: "x", data: "function", engine: "function", runtime: "function" })
  })
})
