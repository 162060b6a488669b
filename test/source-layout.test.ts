import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

/**
 * The layout of src/ that CONTRIBUTING.md states, checked: its folders are exactly those the README's
 * map and CONTRIBUTING.md name, no two files share a name (index.ts barrels aside), the transport imports nothing of the other
 * folders, and the center and the worker sides never import each other.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const src = path.join(repoRoot, "src")
const folders = fs
  .readdirSync(src, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()

const filesUnder = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(path.join(dir, d.name)) : [path.join(dir, d.name)]))
const sources = filesUnder(src).filter((f) => /\.(ts|mjs)$/.test(f))
const production = sources.filter((f) => !f.endsWith(".test.ts"))

/** The src/ folders a module imports (static and dynamic imports alike). */
const importedFolders = (file: string): string[] => {
  const text = fs.readFileSync(file, "utf8")
  const specs = [...text.matchAll(/(?:from\s*|import\s*\(\s*)["'](\.\.?\/[^"']+)["']/g)].map((m) => m[1]!)
  return specs.map((s) => path.relative(src, path.resolve(path.dirname(file), s)).split(path.sep)[0]!).filter((f) => folders.includes(f))
}
const folderOf = (file: string) => path.relative(src, file).split(path.sep)[0]!

/** The `src/<name>` folders named in a section of a Markdown file. */
const namedIn = (file: string, heading: RegExp, until: RegExp): string[] => {
  const text = fs.readFileSync(path.join(repoRoot, file), "utf8")
  const start = text.search(heading)
  expect(start, `${file}: no section matching ${heading}`).toBeGreaterThanOrEqual(0)
  const rest = text.slice(start)
  const end = rest.slice(1).search(until)
  const section = end < 0 ? rest : rest.slice(0, end + 1)
  return [...new Set([...section.matchAll(/src\/([a-z-]+)(?![\w./-]*\.\w+)/g)].map((m) => m[1]!))].sort()
}

describe("the layout of src/", () => {
  it("the README's map and CONTRIBUTING.md name exactly the folders of src/", () => {
    expect(namedIn("README.md", /^## Architecture map/m, /^## /m)).toEqual(folders)
    expect(namedIn("CONTRIBUTING.md", /^## Layout and floors/m, /^## /m)).toEqual(folders)
  })

  it("no two files in src/ share a name (but the index.ts of a folder's public surface)", () => {
    const byName = new Map<string, string[]>()
    for (const f of sources.filter((f) => path.basename(f) !== "index.ts")) byName.set(path.basename(f), [...(byName.get(path.basename(f)) ?? []), path.relative(src, f)])
    expect([...byName.values()].filter((paths) => paths.length > 1)).toEqual([])
  })

  it("the transport imports nothing of the other folders; the center and the worker sides never import each other", () => {
    const offending = production.flatMap((f) => {
      const from = folderOf(f)
      const forbidden =
        from === "transport" ? folders.filter((d) => d !== "transport") : from === "center" ? ["worker", "driver", "cluster", "cli"] : from === "worker" ? ["center", "driver", "cluster", "cli"] : []
      return importedFolders(f)
        .filter((to) => forbidden.includes(to))
        .map((to) => `${path.relative(src, f)} imports src/${to}`)
    })
    expect(offending).toEqual([])
  })
})
