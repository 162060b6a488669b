#!/usr/bin/env node
// Development runner: runs a TypeScript entry point from the sources (tsx, with the workspace packages
// resolved to their src/ by the "source" export condition). Threads and child processes it starts run
// from the sources too (src/launch/entry-points.ts).
import { pathToFileURL } from "node:url"
import path from "node:path"
import { registerSourceLoader } from "../src/launch/source-loader.mjs"

registerSourceLoader()
const [entry, ...rest] = process.argv.slice(2)
if (!entry) {
  console.error("usage: run-ts.mjs FILE.ts [args...]")
  process.exit(2)
}
process.argv = [process.argv[0], entry, ...rest]
await import(pathToFileURL(path.resolve(entry)).href)
